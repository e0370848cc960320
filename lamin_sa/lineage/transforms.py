"""Deleting a transform with its runs and their hidden artifacts (a lineage service)."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import delete, exc, func, or_, select, update

from lamin_sa.db import session as dbs
from lamin_sa.db.base import Base
from lamin_sa.errors import IntegrityError, NotSavedError

logger = logging.getLogger(__name__)


def delete_transform(transform: Any) -> None:
    """Delete ``transform``, its runs and their hidden artifacts permanently.

    The ``source_code`` and ``latest_report`` artifacts and every run's
    ``report`` and ``environment`` artifact are deleted with their data (unless
    another transform or run still uses them), then the runs and the transform.
    Outputs of the runs are never deleted: while any record still names one of
    its runs as its creating run (or the transform as its transform), nothing is
    deleted.

    Raises:
        NotSavedError: The transform is not saved.
        IntegrityError: Records created by its runs still exist (named in the
            message); delete them first.

    Example:
        >>> delete_transform(ln.Transform.get(key="old.py"))
    """
    from lamin_sa.artifact.trash import delete_artifact
    from lamin_sa.models.artifact import Artifact
    from lamin_sa.models.collection import Collection
    from lamin_sa.models.run import Run
    from lamin_sa.models.transform import Transform

    if transform.id is None:
        raise NotSavedError("This Transform is not saved; there is nothing to delete.")
    tid, uid = transform.id, transform.uid

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
                    select(func.count()).select_from(table).where(column.in_(run_ids))
                )
                if n:
                    blockers.append(f"{n} {names.get(table.name, table.name)}")
        return run_ids, hidden, shared, blockers

    run_ids, hidden, shared, blockers = dbs.read(plan)
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
                if obj is transform or (
                    isinstance(obj, Run) and obj.__dict__.get("transform_id") == tid
                ):
                    session.expunge(obj)
    except exc.IntegrityError as e:
        raise IntegrityError(
            f"Cannot delete transform {uid!r}: it is still referenced ({e.orig})"
        ) from e
    for artifact_id in sorted(hidden - shared):
        artifact = dbs.read(lambda s, i=artifact_id: s.get(Artifact, i))
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
