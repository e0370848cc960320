"""Core registries (reference §1), tables prefixed ``core_``."""

from __future__ import annotations

import warnings
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lamin_sa.db.base import metadata, utcnow
from lamin_sa.models.mixins import (
    CanValidate,
    CreatedAt,
    CreatedBy,
    IsData,
    IsVersioned,
    TracksRun,
    TracksUpdates,
    current_user_id,
    fk,
)
from lamin_sa.models.record import Record, RelatedRecords

# To-many sides leave deletes to the database's ON DELETE rules (RESTRICT protects,
# CASCADE removes links) instead of the ORM nulling foreign keys of loaded rows.
# Reverse sides are not synced in memory from the to-one side (Run(transform=t)
# leaves t.runs alone until t.runs is loaded from the database).
MANY: dict[str, Any] = {
    "collection_class": RelatedRecords,
    "passive_deletes": "all",
    "sync_backref": False,
}
OWNED: dict[str, Any] = {
    "collection_class": RelatedRecords,
    "passive_deletes": True,
    "cascade": "all, delete-orphan",
    "sync_backref": False,
}
VIEW: dict[str, Any] = {"collection_class": RelatedRecords, "viewonly": True}


def _link_table(name: str, left: str, right: str, **cols: Any) -> Table:
    """A plain many-to-many table with its own id and a unique pair."""
    lcol, ltarget, lond = left.split(":")
    rcol, rtarget, rond = right.split(":")
    return Table(
        name,
        metadata,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
        Column(lcol, ForeignKey(ltarget, ondelete=lond), nullable=False, index=True),
        Column(rcol, ForeignKey(rtarget, ondelete=rond), nullable=False, index=True),
        UniqueConstraint(lcol, rcol),
    )


BigId = BigInteger().with_variant(Integer, "sqlite")

transform_parent = _link_table(
    "core_transform_parent",
    "from_transform_id:core_transform.id:CASCADE",
    "to_transform_id:core_transform.id:CASCADE",
)
transform_ulabel = _link_table(
    "core_transform_ulabel",
    "transform_id:core_transform.id:CASCADE",
    "ulabel_id:core_ulabel.id:RESTRICT",
)
ulabel_parent = _link_table(
    "core_ulabel_parent",
    "from_ulabel_id:core_ulabel.id:CASCADE",
    "to_ulabel_id:core_ulabel.id:CASCADE",
)
run_paramvalue = _link_table(
    "core_run_paramvalue",
    "run_id:core_run.id:CASCADE",
    "paramvalue_id:core_paramvalue.id:RESTRICT",
)
artifact_input = _link_table(
    "core_artifact_input",
    "artifact_id:core_artifact.id:CASCADE",
    "run_id:core_run.id:CASCADE",
)
collection_input = _link_table(
    "core_collection_input",
    "collection_id:core_collection.id:CASCADE",
    "run_id:core_run.id:CASCADE",
)
artifact_previous_run = _link_table(
    "core_artifact_previous_run",
    "artifact_id:core_artifact.id:CASCADE",
    "run_id:core_run.id:CASCADE",
)
collection_previous_run = _link_table(
    "core_collection_previous_run",
    "collection_id:core_collection.id:CASCADE",
    "run_id:core_run.id:CASCADE",
)
featureset_feature = _link_table(
    "core_featureset_feature",
    "featureset_id:core_featureset.id:CASCADE",
    "feature_id:core_feature.id:RESTRICT",
)


class Instance(CreatedAt, Record):
    """The instance's identity (one row) as stored in its own database."""

    __tablename__ = "core_instance"
    _name_field = "name"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(12), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(150))


class Module(Record):
    """A schema module mounted on the instance (core, bionty, wetlab, ...)."""

    __tablename__ = "core_module"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    mounted_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(CanValidate, CreatedAt, TracksUpdates, Record):
    """A user (local identity; ``lamin-sa login HANDLE``)."""

    __tablename__ = "core_user"
    _len_uid = 8
    _name_field = "handle"
    _required = ("handle",)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(8), unique=True, index=True)
    handle: Mapped[str] = mapped_column(String(30), unique=True, index=True)
    name: Mapped[str | None] = mapped_column(String(150), index=True)


class Storage(TracksRun, TracksUpdates, Record):
    """A storage location: a local folder or a bucket prefix."""

    __tablename__ = "core_storage"
    _len_uid = 12
    _name_field = "root"
    _required = ("root",)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(12), unique=True, index=True)
    root: Mapped[str] = mapped_column(String(255), unique=True, index=True)
    description: Mapped[str | None] = mapped_column(String(255), index=True)
    type: Mapped[str] = mapped_column(String(30), index=True, default="local")
    region: Mapped[str | None] = mapped_column(String(64), index=True)
    instance_uid: Mapped[str | None] = mapped_column(String(12), index=True)
    artifacts: Mapped[list[Artifact]] = relationship(back_populates="storage", **MANY)


class Transform(CreatedAt, CreatedBy, TracksUpdates, IsVersioned, Record):
    """Code that makes data: a notebook, script, pipeline or function."""

    __tablename__ = "core_transform"
    _len_uid = 16
    _len_stem_uid = 12
    _natural_key = ("name", "key", "version")
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(16), unique=True, index=True)
    name: Mapped[str | None] = mapped_column(String(150), index=True)
    key: Mapped[str | None] = mapped_column(String(120), index=True)
    description: Mapped[str | None] = mapped_column(String(255), index=True)
    type: Mapped[str] = mapped_column(String(20), index=True, default="pipeline")
    reference: Mapped[str | None] = mapped_column(String(255), index=True)
    reference_type: Mapped[str | None] = mapped_column(String(25), index=True)
    source_code_id: Mapped[int | None] = fk("core_artifact.id", use_alter=True)
    latest_report_id: Mapped[int | None] = fk("core_artifact.id", use_alter=True)
    source_code: Mapped[Artifact | None] = relationship(
        foreign_keys=[source_code_id], back_populates="source_code_of"
    )
    latest_report: Mapped[Artifact | None] = relationship(
        foreign_keys=[latest_report_id], back_populates="latest_report_of"
    )
    parents: Mapped[list[Transform]] = relationship(
        secondary=transform_parent,
        primaryjoin=lambda: Transform.id == transform_parent.c.from_transform_id,
        secondaryjoin=lambda: Transform.id == transform_parent.c.to_transform_id,
        back_populates="children",
        **MANY,
    )
    children: Mapped[list[Transform]] = relationship(
        secondary=transform_parent,
        primaryjoin=lambda: Transform.id == transform_parent.c.to_transform_id,
        secondaryjoin=lambda: Transform.id == transform_parent.c.from_transform_id,
        back_populates="parents",
        **MANY,
    )
    ulabels: Mapped[list[ULabel]] = relationship(
        secondary=transform_ulabel, back_populates="transforms", **MANY
    )
    runs: Mapped[list[Run]] = relationship(back_populates="transform", **MANY)
    output_artifacts: Mapped[list[Artifact]] = relationship(
        back_populates="transform", foreign_keys="Artifact.transform_id", **MANY
    )
    output_collections: Mapped[list[Collection]] = relationship(
        back_populates="transform", foreign_keys="Collection.transform_id", **MANY
    )

    @property
    def latest_run(self) -> Run | None:
        """The most recently started run of this transform."""
        return Run.filter(transform=self).order_by("-started_at").first()

    def view_parents(
        self,
        field: str | None = None,
        with_children: bool = False,
        distance: int = 5,
        **kwargs: Any,
    ) -> Any:
        """Draw the transforms this one used data from (``parents``).

        Args:
            field: The field labelling nodes (default: key, else name).
            with_children: Also draw the transforms that used its data.
            distance: Steps to walk in each direction.
            **kwargs: ``filename=`` (svg/png/pdf/dot) or ``return_graph=True``
                (see :func:`lamin_sa.lineage.graph.view_parents`).
        """
        from lamin_sa.lineage.graph import view_parents

        return view_parents(self, field, with_children, distance, **kwargs)

    def delete(self) -> None:
        """Delete the transform, its runs and their hidden artifacts permanently.

        The ``source_code`` and ``latest_report`` artifacts and every run's
        ``report`` and ``environment`` artifact are deleted with their data
        (unless another transform or run still uses them), then the runs and the
        transform. Outputs of the runs are never deleted: while any record still
        names one of its runs as its creating run (or the transform as its
        transform), nothing is deleted.

        Raises:
            NotSavedError: The transform is not saved.
            IntegrityError: Records created by its runs still exist (named in the
                message); delete them first.
        """
        import logging

        from sqlalchemy import delete, exc, func, or_, select, update

        from lamin_sa.artifact._state import read
        from lamin_sa.artifact.trash import delete_artifact
        from lamin_sa.db import session as dbs
        from lamin_sa.db.base import Base
        from lamin_sa.errors import IntegrityError, NotSavedError

        logger = logging.getLogger(__name__)
        if self.id is None:
            raise NotSavedError(
                "This Transform is not saved; there is nothing to delete."
            )
        tid, uid = self.id, self.uid

        def plan(s: Any) -> tuple[list[int], set[int], set[int], list[str]]:
            runs = s.execute(
                select(Run.id, Run.report_id, Run.environment_id).where(
                    Run.transform_id == tid
                )
            ).all()
            run_ids = [r.id for r in runs]
            own = s.execute(
                select(Transform.source_code_id, Transform.latest_report_id).where(
                    Transform.id == tid
                )
            ).one()
            hidden = {i for r in runs for i in (r.report_id, r.environment_id)}
            hidden = {i for i in hidden | set(own) if i is not None}
            shared: set[int] = set()
            if hidden:
                ids = list(hidden)
                shared |= set(
                    s.scalars(
                        select(Run.report_id).where(
                            Run.transform_id != tid, Run.report_id.in_(ids)
                        )
                    )
                )
                shared |= set(
                    s.scalars(
                        select(Run.environment_id).where(
                            Run.transform_id != tid, Run.environment_id.in_(ids)
                        )
                    )
                )
                for col in (Transform.source_code_id, Transform.latest_report_id):
                    shared |= set(
                        s.scalars(select(col).where(Transform.id != tid, col.in_(ids)))
                    )
            blockers: list[str] = []
            for model, label in ((Artifact, "artifacts"), (Collection, "collections")):
                conds = [model.transform_id == tid]
                if run_ids:
                    conds.append(model.run_id.in_(run_ids))
                query = select(model.uid).where(or_(*conds))
                if model is Artifact and hidden:
                    query = query.where(Artifact.id.not_in(list(hidden)))
                uids = list(s.scalars(query.order_by(model.id)))
                if uids:
                    shown = ", ".join(repr(u) for u in uids[:5])
                    more = f" and {len(uids) - 5} more" if len(uids) > 5 else ""
                    blockers.append(f"{len(uids)} {label} ({shown}{more})")
            if run_ids:
                names = {
                    m.local_table.name: m.class_.__name__ for m in Base.registry.mappers
                }
                skip = {Artifact.__table__.name, Collection.__table__.name}
                for table in Base.metadata.sorted_tables:
                    if table.name in skip or "run_id" not in table.c:
                        continue
                    column = table.c.run_id
                    if not any(
                        fk.column.table.name == Run.__table__.name
                        and (fk.ondelete or "RESTRICT").upper() != "CASCADE"
                        for fk in column.foreign_keys
                    ):
                        continue
                    n = s.scalar(
                        select(func.count())
                        .select_from(table)
                        .where(column.in_(run_ids))
                    )
                    if n:
                        blockers.append(f"{n} {names.get(table.name, table.name)}")
            return run_ids, hidden, shared, blockers

        run_ids, hidden, shared, blockers = read(plan)
        if blockers:
            raise IntegrityError(
                f"Cannot delete transform {uid!r}: records created by its runs still "
                f"exist: {'; '.join(blockers)}. Delete those first (e.g. "
                "artifact.delete(permanent=True)), then delete the transform."
            )
        try:
            with dbs.write_transaction() as session:
                session.execute(
                    update(Transform)
                    .where(Transform.id == tid)
                    .values(source_code_id=None, latest_report_id=None)
                    .execution_options(synchronize_session=False)
                )
                if run_ids:
                    session.execute(
                        update(Run)
                        .where(Run.transform_id == tid)
                        .values(report_id=None, environment_id=None)
                        .execution_options(synchronize_session=False)
                    )
                    session.execute(
                        delete(Run)
                        .where(Run.transform_id == tid)
                        .execution_options(synchronize_session=False)
                    )
                session.execute(
                    delete(Transform)
                    .where(Transform.id == tid)
                    .execution_options(synchronize_session=False)
                )
                for obj in list(session.identity_map.values()):
                    if obj is self or (
                        isinstance(obj, Run) and obj.__dict__.get("transform_id") == tid
                    ):
                        session.expunge(obj)
        except exc.IntegrityError as e:
            raise IntegrityError(
                f"Cannot delete transform {uid!r}: it is still referenced ({e.orig})"
            ) from e
        for artifact_id in sorted(hidden - shared):
            artifact = read(lambda s, i=artifact_id: s.get(Artifact, i))
            if artifact is None:
                continue
            try:
                delete_artifact(artifact, permanent=True, storage=True)
            except IntegrityError as e:
                logger.warning("kept artifact %s: %s", artifact.uid, e)
        for artifact_id in sorted(hidden & shared):
            logger.info(
                "kept artifact id=%s: another transform or run uses it", artifact_id
            )
        logger.info("deleted transform %s and its %d run(s)", uid, len(run_ids))


class Run(Record):
    """One execution of a transform."""

    __tablename__ = "core_run"
    _len_uid = 20
    _name_field = "started_at"
    _required = ("transform",)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    uid: Mapped[str] = mapped_column(String(20), unique=True, index=True)
    transform_id: Mapped[int] = fk(
        "core_transform.id", ondelete="CASCADE", nullable=False
    )
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    is_consecutive: Mapped[bool | None] = mapped_column(Boolean)
    reference: Mapped[str | None] = mapped_column(String(255), index=True)
    reference_type: Mapped[str | None] = mapped_column(String(25), index=True)
    report_id: Mapped[int | None] = fk("core_artifact.id", use_alter=True)
    environment_id: Mapped[int | None] = fk("core_artifact.id", use_alter=True)
    created_by_id: Mapped[int] = fk(
        "core_user.id", ondelete="CASCADE", nullable=False, default=current_user_id
    )
    transform: Mapped[Transform] = relationship(back_populates="runs")
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    report: Mapped[Artifact | None] = relationship(
        foreign_keys=[report_id], back_populates="report_of"
    )
    environment: Mapped[Artifact | None] = relationship(
        foreign_keys=[environment_id], back_populates="environment_of"
    )
    param_values: Mapped[list[ParamValue]] = relationship(
        secondary=run_paramvalue, back_populates="runs", **MANY
    )
    input_artifacts: Mapped[list[Artifact]] = relationship(
        secondary=artifact_input, back_populates="input_of", **MANY
    )
    input_collections: Mapped[list[Collection]] = relationship(
        secondary=collection_input, back_populates="input_of", **MANY
    )
    output_artifacts: Mapped[list[Artifact]] = relationship(
        back_populates="run", foreign_keys="Artifact.run_id", **MANY
    )
    output_collections: Mapped[list[Collection]] = relationship(
        back_populates="run", foreign_keys="Collection.run_id", **MANY
    )
    output_artifacts_with_later_updates: Mapped[list[Artifact]] = relationship(
        secondary=artifact_previous_run, back_populates="previous_runs", **MANY
    )
    output_collections_with_later_updates: Mapped[list[Collection]] = relationship(
        secondary=collection_previous_run, back_populates="previous_runs", **MANY
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if len(args) == 1 and "transform" not in kwargs:
            kwargs["transform"] = args[0]
            args = ()
        if kwargs.get("transform") is None and kwargs.get("transform_id") is None:
            raise TypeError("Pass transform parameter")
        transform = kwargs.get("transform")
        if transform is not None and transform.id is None:
            raise ValueError("Please save transform record before creating a run")
        super().__init__(*args, **kwargs)

    def view_lineage(self, **kwargs: Any) -> Any:
        """Draw the data this run used and made, and the runs before and after.

        Args:
            **kwargs: ``filename=`` (svg/png/pdf/dot) or ``return_graph=True``
                (see :func:`lamin_sa.lineage.graph.view_lineage`).
        """
        from lamin_sa.lineage.graph import view_lineage

        return view_lineage(self, **kwargs)

    @property
    def lineage(self) -> Any:
        """Up- and downstream data, runs and transforms as recursive SQL.

        ``run.lineage.ancestors().artifacts()``, ``.descendants().runs()``...
        """
        from lamin_sa.lineage.sql import LineageAccessor

        return LineageAccessor(self)


class Param(TracksRun, TracksUpdates, Record):
    """A run parameter (``ln.track(params=...)``)."""

    __tablename__ = "core_param"
    _required = ("name", "dtype")
    _natural_key = ("name",)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    dtype: Mapped[str] = mapped_column(String(64), index=True)
    values: Mapped[list[ParamValue]] = relationship(back_populates="param", **MANY)


class ParamValue(CreatedAt, CreatedBy, Record):
    """A value a run used for a parameter."""

    __tablename__ = "core_paramvalue"
    _name_field = None
    _required = ("param",)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    param_id: Mapped[int] = fk("core_param.id", ondelete="CASCADE", nullable=False)
    value: Mapped[Any] = mapped_column(JSON)
    param: Mapped[Param] = relationship(back_populates="values")
    runs: Mapped[list[Run]] = relationship(
        secondary=run_paramvalue, back_populates="param_values", **MANY
    )


class ULabel(CanValidate, TracksRun, TracksUpdates, Record):
    """A universal label: a tag, a category, anything without its own registry."""

    __tablename__ = "core_ulabel"
    _len_uid = 8
    _required = ("name",)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(8), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(150), unique=True, index=True)
    description: Mapped[str | None] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(String(255), index=True)
    reference_type: Mapped[str | None] = mapped_column(String(25), index=True)
    parents: Mapped[list[ULabel]] = relationship(
        secondary=ulabel_parent,
        primaryjoin=lambda: ULabel.id == ulabel_parent.c.from_ulabel_id,
        secondaryjoin=lambda: ULabel.id == ulabel_parent.c.to_ulabel_id,
        back_populates="children",
        **MANY,
    )
    children: Mapped[list[ULabel]] = relationship(
        secondary=ulabel_parent,
        primaryjoin=lambda: ULabel.id == ulabel_parent.c.to_ulabel_id,
        secondaryjoin=lambda: ULabel.id == ulabel_parent.c.from_ulabel_id,
        back_populates="parents",
        **MANY,
    )
    transforms: Mapped[list[Transform]] = relationship(
        secondary=transform_ulabel, back_populates="ulabels", **MANY
    )
    artifact_links: Mapped[list[ArtifactULabel]] = relationship(
        back_populates="ulabel", **MANY
    )
    collection_links: Mapped[list[CollectionULabel]] = relationship(
        back_populates="ulabel", **MANY
    )
    artifacts: Mapped[list[Artifact]] = relationship(
        secondary="core_artifact_ulabel", **VIEW
    )
    collections: Mapped[list[Collection]] = relationship(
        secondary="core_collection_ulabel", **VIEW
    )


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
        secondary=featureset_feature, back_populates="features", **MANY
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
        from lamin_sa.curate.features import init_feature

        init_feature(self, args, kwargs, super().__init__)

    @classmethod
    def from_df(cls, df: Any, field: Any = None) -> list[Feature]:
        """One feature per column; stored features with the same name are reused.

        Dtypes: categorical and string columns → ``cat``; numbers → ``int`` or
        ``float`` (digits stripped from the numpy name); ``bool``.
        """
        from lamin_sa.curate.features import features_from_df

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
        registry: Mapped[str] = mapped_column(String(120), index=True)
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
            from lamin_sa.curate.features import new_feature_set

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
            from lamin_sa.curate.features import init_feature_set

            init_feature_set(self, args, kwargs, super().__init__)

        def save(self) -> FeatureSet:  # type: ignore[override]
            """Store the set and its member links; same members → the stored set."""
            from lamin_sa.curate.features import save_feature_set

            return save_feature_set(self)  # type: ignore[no-any-return]

        @property
        def members(self) -> Any:
            """The members as a QuerySet of their registry (a list before saving)."""
            from lamin_sa.curate.features import members

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
            """
            from lamin_sa.curate.features import feature_set_from_values

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
            """A feature set of the validated columns of ``df``, or None."""
            from lamin_sa.curate.features import feature_set_from_df

            return feature_set_from_df(  # type: ignore[no-any-return]
                cls, df, field, name, mute=mute
            )


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
        secondary=artifact_input, back_populates="input_artifacts", **MANY
    )
    previous_runs: Mapped[list[Run]] = relationship(
        secondary=artifact_previous_run,
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
        from lamin_sa.artifact.create import new_artifact

        return new_artifact(cls, args, kwargs)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Create an artifact from a path (local, ``s3://``, file or folder).

        ``Artifact(data, key=None, description=None, version=None,
        is_new_version_of=None, run=None)``; ``revises`` is an alias of
        ``is_new_version_of``. If the data's hash is stored already, the stored
        record is returned (see ``ln.settings.upon_artifact_create_if_hash_exists``).
        Without ``data``, fields are set as for any record.
        """
        from lamin_sa.artifact.create import init_artifact

        init_artifact(self, args, kwargs, super().__init__)

    @classmethod
    def from_df(cls, df: Any, **kwargs: Any) -> Artifact:
        """An artifact from a DataFrame, stored as ``.parquet``."""
        from lamin_sa.artifact.create import from_df

        return from_df(cls, df, **kwargs)

    @classmethod
    def from_anndata(cls, adata: Any, **kwargs: Any) -> Artifact:
        """An artifact from AnnData (``.h5ad``; ``.zarr`` via key or format)."""
        from lamin_sa.artifact.create import from_anndata

        return from_anndata(cls, adata, **kwargs)

    @classmethod
    def from_dir(
        cls, path: Any, key: str | None = None, *, run: Any = None
    ) -> list[Artifact]:
        """One unsaved artifact per file below a folder."""
        from lamin_sa.artifact.create import from_dir

        return from_dir(cls, path, key, run=run)

    @classmethod
    def get(cls, idlike: int | str | None = None, **expressions: Any) -> Artifact:
        """Get one artifact; several versions of one family give the latest."""
        from lamin_sa.artifact.versions import get_latest

        return get_latest(cls, idlike, **expressions)

    def save(self) -> Artifact:  # type: ignore[override]
        """Store data and metadata atomically and return the artifact."""
        from lamin_sa.artifact.store import save_artifact

        return save_artifact(self)

    @property
    def path(self) -> Any:
        """Local source before save; ``<root>/<key>`` (Path or URL) after."""
        from lamin_sa.artifact.access import artifact_path

        return artifact_path(self)

    def cache(self, is_run_input: bool | None = None) -> Any:
        """A local path with the data (cloud objects synced to the cache).

        Inside a tracked run the artifact becomes an input of the run (see
        ``ln.settings.track_run_inputs``; ``is_run_input`` overrides it).
        """
        from lamin_sa.artifact.access import cache

        path = cache(self)
        self._link_run_input(is_run_input)
        return path

    def load(self, is_run_input: bool | None = None, **kwargs: Any) -> Any:
        """Load the data into memory by suffix (kwargs go to the reader).

        Inside a tracked run the artifact becomes an input of the run.
        """
        from lamin_sa.artifact.access import load

        data = load(self, **kwargs)
        self._link_run_input(is_run_input)
        return data

    def open(self, is_run_input: bool | None = None, **kwargs: Any) -> Any:
        """Open lazily: backed AnnData, or a pyarrow dataset for parquet/csv.

        Inside a tracked run the artifact becomes an input of the run.
        """
        from lamin_sa.artifact.access import open_artifact

        handle = open_artifact(self, **kwargs)
        self._link_run_input(is_run_input)
        return handle

    def replace(self, data: Any, run: Any = None, format: str | None = None) -> None:
        """Replace the data (swapped on the next ``save()``; uid and key stay)."""
        from lamin_sa.artifact.access import replace

        replace(self, data, run=run, format=format)

    def delete(  # type: ignore[override]
        self, permanent: bool | None = None, storage: bool | None = None
    ) -> None:
        """Move to the trash; ``permanent=True`` deletes row and managed data."""
        from lamin_sa.artifact.trash import delete_artifact

        delete_artifact(self, permanent=permanent, storage=storage)

    def restore(self) -> None:
        """Move the artifact out of the trash."""
        from lamin_sa.artifact.trash import restore

        restore(self)


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
        secondary=collection_input, back_populates="input_collections", **MANY
    )
    previous_runs: Mapped[list[Run]] = relationship(
        secondary=collection_previous_run,
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
        from lamin_sa.artifact.collection import new_collection

        return new_collection(cls, args, kwargs)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Create a collection of saved artifacts.

        ``Collection(artifacts, name=..., description=None, version=None,
        is_new_version_of=None, meta=None, reference=None, reference_type=None,
        run=None)``. A visible collection with the same artifacts (same set hash)
        is returned instead of a new one.
        """
        from lamin_sa.artifact.collection import init_collection

        init_collection(self, args, kwargs, super().__init__)

    def save(self, transfer_labels: bool = False) -> Collection:  # type: ignore[override]
        """Save the collection and its ordered members; return it.

        ``transfer_labels=True`` also copies the members' labels (by feature).
        """
        from lamin_sa.artifact.collection import save_collection

        return save_collection(self, transfer_labels=transfer_labels)

    def ordered_artifacts(self) -> list[Artifact]:
        """The member artifacts in the order they were passed."""
        from lamin_sa.artifact.collection import ordered_artifacts

        return ordered_artifacts(self)

    def load(
        self, join: str = "outer", is_run_input: bool | None = None, **kwargs: Any
    ) -> Any:
        """Concatenate the members' DataFrames or AnnData objects.

        Inside a tracked run the collection becomes an input of the run.
        """
        from lamin_sa.artifact.collection import load_collection

        data = load_collection(self, join=join, **kwargs)
        self._link_run_input(is_run_input)
        return data

    def cache(self, is_run_input: bool | None = None) -> list[Any]:
        """Local paths of the members' data (an input of a tracked run)."""
        from lamin_sa.artifact.collection import cache_collection

        paths = cache_collection(self)
        self._link_run_input(is_run_input)
        return paths

    @classmethod
    def get(cls, idlike: int | str | None = None, **expressions: Any) -> Collection:
        """Get one collection; several versions of one family give the latest."""
        from lamin_sa.artifact.versions import get_latest

        return get_latest(cls, idlike, **expressions)

    def delete(self, permanent: bool | None = None) -> None:  # type: ignore[override]
        """Move to the trash; ``permanent=True`` deletes the row (artifacts stay)."""
        from lamin_sa.artifact.trash import delete_collection

        delete_collection(self, permanent=permanent)

    def restore(self) -> None:
        """Move the collection (and its meta artifact) out of the trash."""
        from lamin_sa.artifact.trash import restore

        restore(self)


# ---- link records with extra columns (association objects) -----------------------


class LinkRecord(TracksRun, Record):
    """A link row with its own id and provenance columns."""

    __abstract__ = True
    _name_field: ClassVar[str | None] = None


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


__all__ = [
    "Instance",
    "Module",
    "User",
    "Storage",
    "Transform",
    "Run",
    "Param",
    "ParamValue",
    "ULabel",
    "Feature",
    "FeatureValue",
    "FeatureSet",
    "Artifact",
    "Collection",
    "ArtifactULabel",
    "CollectionULabel",
    "ArtifactFeatureSet",
    "CollectionFeatureSet",
    "CollectionArtifact",
    "ArtifactFeatureValue",
]
