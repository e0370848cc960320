"""Finding or creating the transform of a source, and its run.

- The source hash is stored in ``Transform.reference`` with
  ``reference_type="source_hash"`` (no schema change). A transform whose source
  code was saved as an artifact also matches by that artifact's hash (scripts:
  the saved file is the script itself).
- Same key and hash → the same transform. Same key, another hash → a new version
  of the family: same 12-character stem, next integer version, uid suffix
  derived from the version (``hash_to_uid(version, 4)``), ``is_latest`` moved.
- ``ln.settings.transform.stem_uid`` / ``.version`` (as in LaminDB) pin the
  uid: ``stem_uid + hash_to_uid(version, 4)``.
- A run is created per call; notebooks re-use the latest run of the same user
  unless ``new_run=True``.
- ``Transform.delete()`` calls :func:`delete_transform`: the transform, its runs
  and their hidden artifacts go together.
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, exc, func, or_, select, text, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import aliased

from lamin_sa.db import session as dbs
from lamin_sa.db.base import Base, utcnow
from lamin_sa.db.uid import BASE62, base62, hash_to_uid
from lamin_sa.errors import IntegrityError, NotSavedError
from lamin_sa.lineage.source import Source

if TYPE_CHECKING:
    from lamin_sa.models.core import Run, Transform

logger = logging.getLogger(__name__)

SOURCE_HASH = "source_hash"


def find_transform(session: Any, key: str, hash_: str) -> Transform | None:
    """The script/notebook transform with this key whose source has this hash."""
    from lamin_sa.models.core import Artifact, Transform

    src = aliased(Artifact)
    stmt = (
        select(Transform)
        .outerjoin(src, Transform.source_code_id == src.id)
        .where(
            Transform.key == key,
            Transform.type.in_(("script", "notebook")),
            or_(
                and_(
                    Transform.reference_type == SOURCE_HASH,
                    Transform.reference == hash_,
                ),
                src.hash == hash_,
            ),
        )
        .order_by(Transform.created_at.desc(), Transform.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()  # type: ignore[no-any-return]


def _next_version(versions: list[str | None]) -> int:
    numbers = [int(v) for v in versions if v is not None and v.isdigit()]
    return (max(numbers) if numbers else len(versions)) + 1


def _insert_transform(session: Any, uid: str, version: str, src: Source) -> Any:
    from lamin_sa.models.core import Transform

    transform = Transform(
        uid=uid,
        name=src.name,
        key=src.key,
        type=src.type,
        version=version,
        reference=src.hash,
        reference_type=SOURCE_HASH,
        is_latest=True,
    )
    session.add(transform)
    session.flush()
    stem = uid[: Transform._len_stem_uid]
    session.execute(
        update(Transform)
        .where(Transform.uid.startswith(stem, autoescape=True))
        .where(Transform.id != transform.id)
        .values(is_latest=False)
    )
    return transform


def _lock_key(session: Any, key: str) -> None:
    """Serialize transform creation per key across processes.

    SQLite writers hold the database lock from BEGIN already; PostgreSQL takes
    a transaction-scoped advisory lock on the key's hash.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.md5(f"lamin_sa.transform:{key}".encode()).digest()
    number = int.from_bytes(digest[:8], "big", signed=True)
    session.execute(text("SELECT pg_advisory_xact_lock(:n)"), {"n": number})


def transform_for_source(ctx: dbs.DBContext, src: Source) -> tuple[Transform, bool]:
    """The transform of this source, and whether it was created."""
    from lamin_sa.models.core import Transform

    with dbs.write_transaction(ctx) as session:
        _lock_key(session, src.key)
        found = find_transform(session, src.key, src.hash)
        if found is not None:
            if found.name != src.name:
                found.name = src.name
            return found, False
        family = list(
            session.scalars(
                select(Transform)
                .where(Transform.key == src.key, Transform.type == src.type)
                .order_by(Transform.is_latest.desc(), Transform.created_at.desc())
            )
        )
        if family:
            stem = family[0].uid[: Transform._len_stem_uid]
            siblings = list(
                session.scalars(
                    select(Transform.version).where(
                        Transform.uid.startswith(stem, autoescape=True)
                    )
                )
            )
            number = _next_version(siblings)
            taken = set(
                session.scalars(
                    select(Transform.uid).where(
                        Transform.uid.startswith(stem, autoescape=True)
                    )
                )
            )
            while stem + hash_to_uid(str(number), 4) in taken:
                number += 1
            logger.warning(
                "source of %s changed: new version %s of transform family %s",
                src.key,
                number,
                stem,
            )
        else:
            stem, number = base62(Transform._len_stem_uid), 1
        uid = stem + hash_to_uid(str(number), 4)
        transform = _insert_transform(session, uid, str(number), src)
        return transform, True


def _check_stem_uid(stem_uid: str, version: Any) -> None:
    if len(stem_uid) != 12 or any(c not in BASE62 for c in stem_uid):
        raise ValueError(
            f"ln.settings.transform.stem_uid must be 12 base62 characters, got "
            f"{stem_uid!r}."
        )
    if not isinstance(version, str) or not version:
        raise ValueError(
            "Set ln.settings.transform.version (a string such as '1') together "
            "with ln.settings.transform.stem_uid."
        )


def transform_for_pinned_uid(
    ctx: dbs.DBContext, src: Source, stem_uid: str, version: str
) -> tuple[Transform, bool]:
    """The transform with the uid pinned by ``ln.settings.transform``, created?"""
    from lamin_sa.models.core import Transform

    _check_stem_uid(stem_uid, version)
    uid = stem_uid + hash_to_uid(version, 4)
    with dbs.write_transaction(ctx) as session:
        _lock_key(session, uid)
        found = session.scalars(select(Transform).where(Transform.uid == uid)).first()
        if found is None:
            return _insert_transform(session, uid, version, src), True
        if (found.key, found.name) != (src.key, src.name):
            logger.info("updating key/name of transform %s to %s", uid, src.key)
            found.key, found.name = src.key, src.name
        if found.reference_type in (None, SOURCE_HASH):
            if found.reference not in (None, src.hash):
                logger.warning(
                    "the source of transform %s changed; consider a new version: "
                    "ln.settings.transform.version = ...",
                    uid,
                )
            found.reference, found.reference_type = src.hash, SOURCE_HASH
        return found, False


def transform_for_pinned_uid_without_file(
    ctx: dbs.DBContext, stem_uid: str, version: str, name: str, type_: str
) -> tuple[Transform, bool]:
    """The pinned transform when its file cannot be read (headless notebooks).

    An existing transform keeps its name, key and source hash; a new one is
    named ``name`` and has no key or hash (``ln.finish()`` cannot save its
    source).

    Returns:
        The transform and whether it was created.
    """
    from lamin_sa.models.core import Transform

    _check_stem_uid(stem_uid, version)
    uid = stem_uid + hash_to_uid(version, 4)
    with dbs.write_transaction(ctx) as session:
        _lock_key(session, uid)
        found = session.scalars(select(Transform).where(Transform.uid == uid)).first()
        if found is not None:
            return found, False
        transform = Transform(
            uid=uid, name=name[:150], type=type_, version=version, is_latest=True
        )
        session.add(transform)
        session.flush()
        session.execute(
            update(Transform)
            .where(Transform.uid.startswith(stem_uid, autoescape=True))
            .where(Transform.id != transform.id)
            .values(is_latest=False)
        )
        return transform, True


def pipeline_transform(
    ctx: dbs.DBContext, transform: Transform
) -> tuple[Transform, bool]:
    """A pipeline's transform (saved if new), and whether it was created."""
    if transform.type in ("notebook", "script"):
        raise ValueError(
            "Use ln.track() without passing transform in a notebook or script: "
            "the transform is identified from the file."
        )
    if transform.id is None:
        transform.save()
        return transform, True
    return transform, False


def get_run(
    ctx: dbs.DBContext, transform: Transform, new_run: bool, is_notebook: bool
) -> tuple[Run, bool]:
    """A new run, or the latest one of this user if not ``new_run``; created?"""
    from lamin_sa.models.core import Run

    with dbs.write_transaction(ctx) as session:
        run = None
        if not new_run and ctx.user_id is not None:
            run = session.scalars(
                select(Run)
                .where(Run.transform_id == transform.id)
                .where(Run.created_by_id == ctx.user_id)
                .order_by(Run.started_at.desc(), Run.id.desc())
                .limit(1)
            ).first()
        created = run is None
        if run is not None:
            run.started_at = utcnow()
            run.finished_at = None
        else:
            run = Run(transform=transform)
            session.add(run)
        if is_notebook:
            run.is_consecutive = True
        session.flush()
        return run, created


# ---- deleting a transform ------------------------------------------------------


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
            # the process may have loaded models of modules this database does
            # not mount (their tables are not there)
            present = set(sa_inspect(s.connection()).get_table_names())
            for table in Base.metadata.sorted_tables:
                if table.name in skip or "run_id" not in table.c:
                    continue
                if table.name not in present:
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
