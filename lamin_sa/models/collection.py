"""Collection (``core_collection``) and its link records."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lamin_sa.models.links import MANY, OWNED, VIEW, BigId, LinkRecord
from lamin_sa.models.mixins import (
    IsData,
    IsVersioned,
    TracksRun,
    TracksUpdates,
    fk,
)
from lamin_sa.models.record import Record

if TYPE_CHECKING:
    from lamin_sa.models.artifact import Artifact
    from lamin_sa.models.feature import Feature
    from lamin_sa.models.feature_set import FeatureSet
    from lamin_sa.models.run import Run
    from lamin_sa.models.transform import Transform
    from lamin_sa.models.ulabel import ULabel


class Collection(TracksRun, TracksUpdates, IsVersioned, IsData, Record):
    """An ordered, versioned collection of artifacts."""

    __tablename__ = "core_collection"
    _len_uid = 20
    _len_stem_uid = 16
    _run_backref = "output_collections"
    _required = ("name",)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(20), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(150), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    hash: Mapped[str | None] = mapped_column(String(86), index=True)
    reference: Mapped[str | None] = mapped_column(String(255), index=True)
    reference_type: Mapped[str | None] = mapped_column(String(25), index=True)
    transform_id: Mapped[int | None] = fk("core_transform.id")
    artifact_id: Mapped[int | None] = fk("core_artifact.id", unique=True)
    visibility: Mapped[int] = mapped_column(SmallInteger, default=1, index=True)
    transform: Mapped[Transform | None] = relationship(
        foreign_keys=[transform_id], back_populates="output_collections"
    )
    artifact: Mapped[Artifact | None] = relationship(
        foreign_keys=[artifact_id], back_populates="meta_of"
    )
    input_of: Mapped[list[Run]] = relationship(
        secondary="core_collection_input", back_populates="input_collections", **MANY
    )
    previous_runs: Mapped[list[Run]] = relationship(
        secondary="core_collection_previous_run",
        back_populates="output_collections_with_later_updates",
        **MANY,
    )
    artifact_links: Mapped[list[CollectionArtifact]] = relationship(
        back_populates="collection",
        order_by="CollectionArtifact.id",
        **OWNED,
    )
    artifacts: Mapped[list[Artifact]] = relationship(
        secondary="core_collection_artifact",
        order_by="CollectionArtifact.id",
        **VIEW,
    )
    ulabel_links: Mapped[list[CollectionULabel]] = relationship(
        back_populates="collection", **OWNED
    )
    ulabels: Mapped[list[ULabel]] = relationship(
        secondary="core_collection_ulabel", **VIEW
    )
    feature_set_links: Mapped[list[CollectionFeatureSet]] = relationship(
        back_populates="collection", **OWNED
    )
    feature_sets: Mapped[list[FeatureSet]] = relationship(
        secondary="core_collection_featureset", **VIEW
    )

    # ---- behaviour (lamin_sa.artifact.collection) -----------------------------

    def __new__(cls, *args: Any, **kwargs: Any) -> Collection:
        from lamin_sa.artifact import new_collection

        return new_collection(cls, args, kwargs)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Create a collection of saved artifacts.

        ``Collection(artifacts, name=..., description=None, version=None,
        is_new_version_of=None, meta=None, reference=None, reference_type=None,
        run=None)``. A visible collection with the same artifacts (same set hash)
        is returned instead of a new one.
        """
        from lamin_sa.artifact import init_collection

        init_collection(self, args, kwargs, super().__init__)

    def save(self, transfer_labels: bool = False) -> Collection:  # type: ignore[override]
        """Save the collection and its ordered members; return it.

        ``transfer_labels=True`` also copies the members' labels (by feature).

        Example:
            >>> collection = ln.Collection([artifact, artifact2], name="my collection")
            >>> collection.save(transfer_labels=True)
        """
        if self.is_foreign:
            return self._transfer()
        from lamin_sa.artifact import save_collection

        return save_collection(self, transfer_labels=transfer_labels)

    def ordered_artifacts(self) -> list[Artifact]:
        """The member artifacts in the order they were passed.

        Example:
            >>> [a.uid for a in collection.ordered_artifacts]
        """
        from lamin_sa.artifact import ordered_artifacts

        return ordered_artifacts(self)

    def load(
        self, join: str = "outer", is_run_input: bool | None = None, **kwargs: Any
    ) -> Any:
        """Concatenate the members' DataFrames or AnnData objects.

        Inside a tracked run the collection becomes an input of the run.

        Example:
            >>> df = collection.load()  # the members concatenated
        """
        from lamin_sa.artifact import load_collection

        data = load_collection(self, join=join, **kwargs)
        self._link_run_input(is_run_input)
        return data

    def cache(self, is_run_input: bool | None = None) -> list[Any]:
        """Local paths of the members' data (an input of a tracked run).

        Example:
            >>> paths = collection.cache()
        """
        from lamin_sa.artifact import cache_collection

        paths = cache_collection(self)
        self._link_run_input(is_run_input)
        return paths

    def mapped(
        self,
        layers_keys: str | list[str] | None = None,
        obs_keys: str | list[str] | None = None,
        obsm_keys: str | list[str] | None = None,
        join: str | None = "inner",
        encode_labels: bool | list[str] = True,
        unknown_label: str | dict[str, str] | None = None,
        cache_categories: bool = True,
        parallel: bool = False,
        dtype: Any = None,
        stream: bool = False,
        is_run_input: bool | None = None,
    ) -> Any:
        """A PyTorch map-style dataset over the ``.h5ad``/``.zarr`` members.

        See :func:`lamin_sa.data.mapped_collection`; inside a tracked run the
        collection and its mapped artifacts become inputs of the run.

        Example::

            ds = collection.mapped(obs_keys=["perturbation"])
            DataLoader(ds, batch_size=256, collate_fn=ds.collate_fn)
        """
        from lamin_sa.data import mapped_collection

        return mapped_collection(
            self,
            layers_keys=layers_keys,
            obs_keys=obs_keys,
            obsm_keys=obsm_keys,
            join=join,  # type: ignore[arg-type]
            encode_labels=encode_labels,
            unknown_label=unknown_label,
            cache_categories=cache_categories,
            parallel=parallel,
            dtype=dtype,
            stream=stream,
            is_run_input=is_run_input,
        )

    @classmethod
    def get(cls, idlike: int | str | None = None, **expressions: Any) -> Collection:
        """Get one collection; several versions of one family give the latest.

        Example:
            >>> collection = ln.Collection.get(name="my RNA-seq collection")
        """
        from lamin_sa.artifact import get_latest

        return get_latest(cls, idlike, **expressions)

    def delete(self, permanent: bool | None = None) -> None:  # type: ignore[override]
        """Move to the trash; ``permanent=True`` deletes the row (artifacts stay).

        Example:
            >>> collection.delete()  # to the trash; its artifacts stay
        """
        from lamin_sa.artifact import delete_collection

        delete_collection(self, permanent=permanent)

    def restore(self) -> None:
        """Move the collection (and its meta artifact) out of the trash.

        Example:
            >>> collection.restore()
        """
        from lamin_sa.artifact import restore

        restore(self)


class CollectionULabel(LinkRecord):
    __tablename__ = "core_collection_ulabel"
    __table_args__ = (UniqueConstraint("collection_id", "ulabel_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    collection_id: Mapped[int] = fk(
        "core_collection.id", ondelete="CASCADE", nullable=False
    )
    ulabel_id: Mapped[int] = fk("core_ulabel.id", nullable=False)
    feature_id: Mapped[int | None] = fk("core_feature.id")
    ulabel_ref_is_name: Mapped[bool | None] = mapped_column(Boolean)
    feature_ref_is_name: Mapped[bool | None] = mapped_column(Boolean)
    collection: Mapped[Collection] = relationship(back_populates="ulabel_links")
    ulabel: Mapped[ULabel] = relationship(back_populates="collection_links")
    feature: Mapped[Feature | None] = relationship()


class CollectionFeatureSet(LinkRecord):
    __tablename__ = "core_collection_featureset"
    __table_args__ = (UniqueConstraint("collection_id", "featureset_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    collection_id: Mapped[int] = fk(
        "core_collection.id", ondelete="CASCADE", nullable=False
    )
    featureset_id: Mapped[int] = fk("core_featureset.id", nullable=False)
    slot: Mapped[str | None] = mapped_column(String(50), index=True)
    feature_ref_is_semantic: Mapped[bool | None] = mapped_column(Boolean)
    collection: Mapped[Collection] = relationship(back_populates="feature_set_links")
    featureset: Mapped[FeatureSet] = relationship(back_populates="collection_links")


class CollectionArtifact(LinkRecord):
    __tablename__ = "core_collection_artifact"
    __table_args__ = (UniqueConstraint("collection_id", "artifact_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    collection_id: Mapped[int] = fk(
        "core_collection.id", ondelete="CASCADE", nullable=False
    )
    artifact_id: Mapped[int] = fk("core_artifact.id", nullable=False)
    collection: Mapped[Collection] = relationship(back_populates="artifact_links")
    artifact: Mapped[Artifact] = relationship(back_populates="collection_links")


__all__ = [
    "Collection",
    "CollectionULabel",
    "CollectionFeatureSet",
    "CollectionArtifact",
]
