"""Feature and FeatureValue (``core_feature``, ``core_featurevalue``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lamin_sa.models.links import MANY, VIEW, BigId
from lamin_sa.models.mixins import (
    CanValidate,
    TracksRun,
    TracksUpdates,
    fk,
)
from lamin_sa.models.record import Record

if TYPE_CHECKING:
    from lamin_sa.models.artifact import Artifact, ArtifactFeatureValue
    from lamin_sa.models.feature_set import FeatureSet


class Feature(CanValidate, TracksRun, TracksUpdates, Record):
    """A measured dimension: a column of a DataFrame, a key of obs, a var."""

    __tablename__ = "core_feature"
    _len_uid = 12
    _required = ("name", "dtype")
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(12), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(150), index=True)
    dtype: Mapped[str] = mapped_column(String(64), index=True)
    unit: Mapped[str | None] = mapped_column(String(30), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    synonyms: Mapped[str | None] = mapped_column(Text)
    feature_sets: Mapped[list[FeatureSet]] = relationship(
        secondary="core_featureset_feature", back_populates="features", **MANY
    )
    values: Mapped[list[FeatureValue]] = relationship(back_populates="feature", **MANY)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Create a feature: ``Feature(name=..., dtype=..., unit=None, ...)``.

        ``dtype`` is required: ``number``, ``int``, ``float``, ``bool``, ``str``,
        ``cat``, ``cat[ULabel|bionty.CellType]``, a Python type (int, float, bool;
        str/object → ``cat``) or a list of registries (→ ``cat[A|B]``).

        Raises:
            ValueError: positional arguments, a missing or invalid dtype.
        """
        from lamin_sa.curate import init_feature

        init_feature(self, args, kwargs, super().__init__)

    @classmethod
    def from_df(cls, df: Any, field: Any = None) -> list[Feature]:
        """One feature per column; stored features with the same name are reused.

        Dtypes: categorical and string columns → ``cat``; numbers → ``int`` or
        ``float`` (digits stripped from the numpy name); ``bool``.

        Example:
            >>> features = ln.Feature.from_df(df)
            >>> ln.save(features)
        """
        from lamin_sa.curate import features_from_df

        return features_from_df(cls, df, field)


class FeatureValue(TracksRun, Record):
    """A non-categorical value of a feature annotating an artifact."""

    __tablename__ = "core_featurevalue"
    _name_field = None
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    feature_id: Mapped[int | None] = fk("core_feature.id", ondelete="CASCADE")
    value: Mapped[Any] = mapped_column(JSON)
    feature: Mapped[Feature | None] = relationship(back_populates="values")
    artifact_links: Mapped[list[ArtifactFeatureValue]] = relationship(
        back_populates="featurevalue", **MANY
    )
    artifacts: Mapped[list[Artifact]] = relationship(
        secondary="core_artifact_featurevalue", **VIEW
    )


__all__ = ["Feature", "FeatureValue"]
