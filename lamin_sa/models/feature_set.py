"""FeatureSet: a set of features, genes, proteins... (``core_featureset``)."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lamin_sa.models.links import MANY, VIEW, link_table
from lamin_sa.models.mixins import (
    CanValidate,
    TracksRun,
)
from lamin_sa.models.record import Record

if TYPE_CHECKING:
    from lamin_sa.models.artifact import Artifact, ArtifactFeatureSet
    from lamin_sa.models.collection import Collection, CollectionFeatureSet
    from lamin_sa.models.feature import Feature


featureset_feature = link_table(
    "core_featureset_feature",
    featureset_id=("core_featureset.id", "CASCADE"),
    feature_id=("core_feature.id", "RESTRICT"),
)


# FeatureSet.registry is a column (reference §1); SQLAlchemy only warns that the
# name shadows the declarative registry, which lamin-sa never reads from the class.
# The filter is scoped to this class's creation: a host's own warnings stay on.
with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message="Attribute name 'registry' should be left"
    )

    class FeatureSet(CanValidate, TracksRun, Record):
        """A set of features (or of genes, proteins, ...) measured in an artifact."""

        __tablename__ = "core_featureset"
        _len_uid = 20
        _required = ("n", "registry")
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        uid: Mapped[str] = mapped_column(String(20), unique=True, index=True)
        name: Mapped[str | None] = mapped_column(String(150), index=True)
        n: Mapped[int] = mapped_column(Integer)
        dtype: Mapped[str | None] = mapped_column(String(64), index=True)
        # the column shadows DeclarativeBase.registry (see above); stubs cannot say so
        registry: Mapped[str] = mapped_column(String(120), index=True)  # type: ignore[misc,assignment]
        hash: Mapped[str | None] = mapped_column(String(20), index=True)
        features: Mapped[list[Feature]] = relationship(
            secondary=featureset_feature,
            back_populates="feature_sets",
            order_by=featureset_feature.c.id,  # members in the order they were given
            **MANY,
        )
        artifact_links: Mapped[list[ArtifactFeatureSet]] = relationship(
            back_populates="featureset", **MANY
        )
        collection_links: Mapped[list[CollectionFeatureSet]] = relationship(
            back_populates="featureset", **MANY
        )
        artifacts: Mapped[list[Artifact]] = relationship(
            secondary="core_artifact_featureset", **VIEW
        )
        collections: Mapped[list[Collection]] = relationship(
            secondary="core_collection_featureset", **VIEW
        )

        def __new__(cls, *args: Any, **kwargs: Any) -> FeatureSet:
            from lamin_sa.curate import new_feature_set

            return new_feature_set(cls, args, kwargs)  # type: ignore[no-any-return]

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            """``FeatureSet(features, dtype=None, name=None)``.

            ``features`` are saved records of one registry. If a feature set with
            the same members (same hash of member uids) is stored, the constructor
            returns that stored record. Without ``features``, fields are set as for
            any record (``FeatureSet(n=..., registry=...)``).

            Raises:
                ValueError: unsaved members ("Can only construct feature sets from
                    validated features"), or a registry without feature sets.
                TypeError: members of several registries.
            """
            from lamin_sa.curate import init_feature_set

            init_feature_set(self, args, kwargs, super().__init__)

        def save(self) -> FeatureSet:  # type: ignore[override]
            """Store the set and its member links; same members → the stored set.

            Example:
                >>> ln.FeatureSet(ln.Feature.filter(name__in=["CD8A", "CD4"])).save()
            """
            from lamin_sa.curate import save_feature_set

            return save_feature_set(self)  # type: ignore[no-any-return]

        @property
        def members(self) -> Any:
            """The members as a QuerySet of their registry (a list before saving)."""
            from lamin_sa.curate import members

            return members(self)

        @classmethod
        def from_values(  # type: ignore[override]
            cls,
            values: Any,
            field: Any = None,
            type: str | None = None,
            name: str | None = None,
            *,
            mute: bool = False,
            raise_validation_error: bool = True,
        ) -> FeatureSet | None:
            """A feature set of the stored records whose ``field`` matches ``values``.

            Args:
                values: The values, e.g. column names.
                field: The field, e.g. ``Feature.name`` (default) or ``Gene.symbol``.
                type: The dtype for non-Feature registries (default ``number``).
                name: The set's name.
                mute: Do not log.
                raise_validation_error: Raise if some values do not validate.

            Raises:
                ValidationError: values that do not validate (listed).

            Example:
                >>> feature_set = ln.FeatureSet.from_values(["CD8A"], bt.Gene.symbol)
            """
            from lamin_sa.curate import feature_set_from_values

            return feature_set_from_values(  # type: ignore[no-any-return]
                cls,
                values,
                field,
                type,
                name,
                mute=mute,
                raise_validation_error=raise_validation_error,
            )

        @classmethod
        def from_df(
            cls,
            df: Any,
            field: Any = None,
            name: str | None = None,
            *,
            mute: bool = False,
        ) -> FeatureSet | None:
            """A feature set of the validated columns of ``df``, or None.

            Example:
                >>> feature_set = ln.FeatureSet.from_df(df)
            """
            from lamin_sa.curate import feature_set_from_df

            return feature_set_from_df(  # type: ignore[no-any-return]
                cls, df, field, name, mute=mute
            )


__all__ = ["FeatureSet"]
