"""Artifact (``core_artifact``) and its link records."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Integer,
    SmallInteger,
    String,
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
    from lamin_sa.models.collection import Collection, CollectionArtifact
    from lamin_sa.models.feature import Feature, FeatureValue
    from lamin_sa.models.feature_set import FeatureSet
    from lamin_sa.models.run import Run
    from lamin_sa.models.storage import Storage
    from lamin_sa.models.transform import Transform
    from lamin_sa.models.ulabel import ULabel


class Artifact(TracksRun, TracksUpdates, IsVersioned, IsData, Record):
    """A dataset or model stored as a file or folder."""

    __tablename__ = "core_artifact"
    _len_uid = 20
    _len_stem_uid = 16
    _name_field = "description"
    _run_backref = "output_artifacts"
    _required = ("storage",)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(20), unique=True, index=True)
    storage_id: Mapped[int] = fk("core_storage.id", nullable=False)
    key: Mapped[str | None] = mapped_column(String(255), index=True)
    suffix: Mapped[str] = mapped_column(String(30), index=True, default="")
    accessor: Mapped[str | None] = mapped_column(String(64), index=True)
    description: Mapped[str | None] = mapped_column(String(255), index=True)
    size: Mapped[int | None] = mapped_column(BigInteger, index=True)
    hash: Mapped[str | None] = mapped_column(String(86), index=True)
    hash_type: Mapped[str | None] = mapped_column(String(30), index=True)
    n_objects: Mapped[int | None] = mapped_column(BigInteger, index=True)
    n_observations: Mapped[int | None] = mapped_column(BigInteger, index=True)
    transform_id: Mapped[int | None] = fk("core_transform.id")
    visibility: Mapped[int] = mapped_column(SmallInteger, default=1, index=True)
    key_is_virtual: Mapped[bool] = mapped_column(Boolean, default=True)
    storage: Mapped[Storage] = relationship(back_populates="artifacts")
    transform: Mapped[Transform | None] = relationship(
        foreign_keys=[transform_id], back_populates="output_artifacts"
    )
    input_of: Mapped[list[Run]] = relationship(
        secondary="core_artifact_input", back_populates="input_artifacts", **MANY
    )
    previous_runs: Mapped[list[Run]] = relationship(
        secondary="core_artifact_previous_run",
        back_populates="output_artifacts_with_later_updates",
        **MANY,
    )
    ulabel_links: Mapped[list[ArtifactULabel]] = relationship(
        back_populates="artifact", **OWNED
    )
    ulabels: Mapped[list[ULabel]] = relationship(
        secondary="core_artifact_ulabel", **VIEW
    )
    feature_set_links: Mapped[list[ArtifactFeatureSet]] = relationship(
        back_populates="artifact", **OWNED
    )
    feature_sets: Mapped[list[FeatureSet]] = relationship(
        secondary="core_artifact_featureset", **VIEW
    )
    feature_value_links: Mapped[list[ArtifactFeatureValue]] = relationship(
        back_populates="artifact", **OWNED
    )
    feature_values: Mapped[list[FeatureValue]] = relationship(
        secondary="core_artifact_featurevalue", **VIEW
    )
    collection_links: Mapped[list[CollectionArtifact]] = relationship(
        back_populates="artifact", **MANY
    )
    collections: Mapped[list[Collection]] = relationship(
        secondary="core_collection_artifact", **VIEW
    )
    source_code_of: Mapped[list[Transform]] = relationship(
        foreign_keys="Transform.source_code_id", back_populates="source_code", **MANY
    )
    latest_report_of: Mapped[list[Transform]] = relationship(
        foreign_keys="Transform.latest_report_id",
        back_populates="latest_report",
        **MANY,
    )
    report_of: Mapped[list[Run]] = relationship(
        foreign_keys="Run.report_id", back_populates="report", **MANY
    )
    environment_of: Mapped[list[Run]] = relationship(
        foreign_keys="Run.environment_id", back_populates="environment", **MANY
    )
    meta_of: Mapped[list[Collection]] = relationship(
        foreign_keys="Collection.artifact_id", back_populates="artifact", **MANY
    )

    # ---- behaviour (lamin_sa.artifact) ----------------------------------------

    def __new__(cls, *args: Any, **kwargs: Any) -> Artifact:
        from lamin_sa.artifact import new_artifact

        return new_artifact(cls, args, kwargs)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Create an artifact from a path (local, ``s3://``, file or folder).

        ``Artifact(data, key=None, description=None, version=None,
        is_new_version_of=None, run=None)``; ``revises`` is an alias of
        ``is_new_version_of``. If the data's hash is stored already, the stored
        record is returned (see ``ln.settings.upon_artifact_create_if_hash_exists``).
        Without ``data``, fields are set as for any record.
        """
        from lamin_sa.artifact import init_artifact

        init_artifact(self, args, kwargs, super().__init__)

    @classmethod
    def from_df(cls, df: Any, **kwargs: Any) -> Artifact:
        """An artifact from a DataFrame, stored as ``.parquet``.

        Example:
            >>> artifact = ln.Artifact.from_df(df, description="my RNA-seq")
        """
        from lamin_sa.artifact import from_df

        return from_df(cls, df, **kwargs)

    @classmethod
    def from_anndata(cls, adata: Any, **kwargs: Any) -> Artifact:
        """An artifact from AnnData (``.h5ad``; ``.zarr`` via key or format).

        Example:
            >>> artifact = ln.Artifact.from_anndata(adata, description="my RNA-seq")
        """
        from lamin_sa.artifact import from_anndata

        return from_anndata(cls, adata, **kwargs)

    @classmethod
    def from_dir(
        cls, path: Any, key: str | None = None, *, run: Any = None
    ) -> list[Artifact]:
        """One unsaved artifact per file below a folder.

        Example:
            >>> artifacts = ln.Artifact.from_dir("./images")
            >>> ln.save(artifacts)
        """
        from lamin_sa.artifact import from_dir

        return from_dir(cls, path, key, run=run)

    @classmethod
    def get(cls, idlike: int | str | None = None, **expressions: Any) -> Artifact:
        """Get one artifact; several versions of one family give the latest.

        Example:
            >>> artifact = ln.Artifact.get("m45sfXfMutX9IZ2JQoRk")
            >>> artifact = ln.Artifact.get(key="raw/counts.csv")
        """
        from lamin_sa.artifact import get_latest

        return get_latest(cls, idlike, **expressions)

    def save(self) -> Artifact:  # type: ignore[override]
        """Store data and metadata atomically and return the artifact.

        Example:
            >>> artifact = ln.Artifact("./my_data.fcs", description="flow cytometry")
            >>> artifact.save()
        """
        if self.is_foreign:
            return self._transfer()
        from lamin_sa.artifact import save_artifact

        return save_artifact(self)

    @property
    def path(self) -> Any:
        """Local source before save; ``<root>/<key>`` (Path or URL) after."""
        from lamin_sa.artifact import artifact_path

        return artifact_path(self)

    def cache(self, is_run_input: bool | None = None) -> Any:
        """A local path with the data (cloud objects synced to the cache).

        Inside a tracked run the artifact becomes an input of the run (see
        ``ln.settings.track_run_inputs``; ``is_run_input`` overrides it).

        Example:
            >>> path = artifact.cache()  # an s3:// artifact is downloaded once
        """
        from lamin_sa.artifact import cache

        path = cache(self)
        self._link_run_input(is_run_input)
        return path

    def load(self, is_run_input: bool | None = None, **kwargs: Any) -> Any:
        """Load the data into memory by suffix (kwargs go to the reader).

        Inside a tracked run the artifact becomes an input of the run.

        Example:
            >>> df = artifact.load()  # a DataFrame for .parquet and .csv
        """
        from lamin_sa.artifact import load

        data = load(self, **kwargs)
        self._link_run_input(is_run_input)
        return data

    def open(self, is_run_input: bool | None = None, **kwargs: Any) -> Any:
        """Open lazily: backed AnnData, or a pyarrow dataset for parquet/csv.

        Inside a tracked run the artifact becomes an input of the run.

        Example:
            >>> adata = artifact.open()  # backed AnnData: reads on access
        """
        from lamin_sa.artifact import open_artifact

        handle = open_artifact(self, **kwargs)
        self._link_run_input(is_run_input)
        return handle

    def replace(self, data: Any, run: Any = None, format: str | None = None) -> None:
        """Replace the data (swapped on the next ``save()``; uid and key stay).

        Example:
            >>> artifact.replace("./counts_fixed.csv")
            >>> artifact.save()
        """
        from lamin_sa.artifact import replace

        replace(self, data, run=run, format=format)

    def delete(  # type: ignore[override]
        self, permanent: bool | None = None, storage: bool | None = None
    ) -> None:
        """Move to the trash; ``permanent=True`` deletes row and managed data.

        Example:
            >>> artifact.delete()  # to the trash
            >>> artifact.delete(permanent=True)  # row and managed data
        """
        from lamin_sa.artifact import delete_artifact

        delete_artifact(self, permanent=permanent, storage=storage)

    def restore(self) -> None:
        """Move the artifact out of the trash.

        Example:
            >>> artifact.delete()
            >>> artifact.restore()
        """
        from lamin_sa.artifact import restore

        restore(self)


class ArtifactULabel(LinkRecord):
    __tablename__ = "core_artifact_ulabel"
    __table_args__ = (UniqueConstraint("artifact_id", "ulabel_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    artifact_id: Mapped[int] = fk(
        "core_artifact.id", ondelete="CASCADE", nullable=False
    )
    ulabel_id: Mapped[int] = fk("core_ulabel.id", nullable=False)
    feature_id: Mapped[int | None] = fk("core_feature.id")
    ulabel_ref_is_name: Mapped[bool | None] = mapped_column(Boolean)
    feature_ref_is_name: Mapped[bool | None] = mapped_column(Boolean)
    artifact: Mapped[Artifact] = relationship(back_populates="ulabel_links")
    ulabel: Mapped[ULabel] = relationship(back_populates="artifact_links")
    feature: Mapped[Feature | None] = relationship()


class ArtifactFeatureSet(LinkRecord):
    __tablename__ = "core_artifact_featureset"
    __table_args__ = (UniqueConstraint("artifact_id", "featureset_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    artifact_id: Mapped[int] = fk(
        "core_artifact.id", ondelete="CASCADE", nullable=False
    )
    featureset_id: Mapped[int] = fk("core_featureset.id", nullable=False)
    slot: Mapped[str | None] = mapped_column(String(40), index=True)
    feature_ref_is_semantic: Mapped[bool | None] = mapped_column(Boolean)
    artifact: Mapped[Artifact] = relationship(back_populates="feature_set_links")
    featureset: Mapped[FeatureSet] = relationship(back_populates="artifact_links")


class ArtifactFeatureValue(LinkRecord):
    __tablename__ = "core_artifact_featurevalue"
    __table_args__ = (UniqueConstraint("artifact_id", "featurevalue_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    artifact_id: Mapped[int] = fk(
        "core_artifact.id", ondelete="CASCADE", nullable=False
    )
    featurevalue_id: Mapped[int] = fk("core_featurevalue.id", nullable=False)
    artifact: Mapped[Artifact] = relationship(back_populates="feature_value_links")
    featurevalue: Mapped[FeatureValue] = relationship(back_populates="artifact_links")


__all__ = ["Artifact", "ArtifactULabel", "ArtifactFeatureSet", "ArtifactFeatureValue"]
