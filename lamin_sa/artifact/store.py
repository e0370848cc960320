"""Atomic artifact saves: stage objects, commit rows, move objects into place.

Order for every save (one artifact or many)::

    1. stage every object to a temporary key      (storage; nothing visible)
    2. one database transaction for all rows      (rows visible) and a journal
       row per object (lamin_sa.artifact.journal)
    3. Staged.commit() per object                 (objects visible at their keys)
    4. the journal rows are deleted inside the next save's transaction (or
       at exit): no commit of their own

A process killed between 2 and 3 leaves journal rows: the next connect (or
``lamin-sa repair``) moves the objects into place or rolls the rows back. A
row left after 3 says "done" (no temporary object, the object in place) and
is deleted silently.

A failure in 1 or 2 aborts the staged objects and rolls the transaction back:
nothing was saved. A failure in 3 deletes the rows of the objects that could
not be moved and removes their temporary objects; the error lists what was
stored and what was not.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm.attributes import set_committed_value

from lamin_sa.artifact import journal
from lamin_sa.artifact._state import (
    PRIVATE_ATTRS,
    full_path,
    private,
    set_private,
    storage_key,
    storage_root,
)
from lamin_sa.artifact.prepare import by_hash_statement
from lamin_sa.artifact.versions import claim_version, mark_latest
from lamin_sa.config import SUCCESS
from lamin_sa.db import session as dbs
from lamin_sa.db.sql import advisory_lock, in_values
from lamin_sa.errors import RecordExistsError, SaveError, ValidationError
from lamin_sa.models.save import validate_fields
from lamin_sa.storage import (
    Staged,
    StorageRoot,
    add_to_cache,
    delete,
    fingerprint,
    stage,
    validate_key,
)

logger = logging.getLogger(__name__)


def _describe(a: Any) -> str:
    return f"{a.uid} ({a.key or a.description or a.suffix})"


Target = tuple[Any, StorageRoot, str, Any, Any, Any]


def _target(artifact: Any) -> Target:
    """Source, root, key, known hash and stat, prestaged copy (main thread)."""
    source = private(artifact, "_lamin_source")
    known = private(artifact, "_lamin_source_hash")  # hashed by the constructor
    stat = private(artifact, "_lamin_source_stat")  # (size, mtime_ns) before
    prestaged = private(artifact, "_lamin_prestaged")
    set_private(artifact, "_lamin_prestaged", None)  # used once, even on failure
    root, key = storage_root(artifact.storage), storage_key(artifact)
    return (source, root, key, known if stat else None, stat, prestaged)


def _stage_one(target: Target) -> Staged:
    """Copy a local source under a temporary key of its storage (any thread).

    A hash computed by the constructor is used only while the file is unchanged
    (same size and mtime); otherwise the file is hashed again while copying, so
    the stored hash always describes the stored bytes.
    """
    source, root, key, known, stat, prestaged = target
    if prestaged is not None:
        staged = prestaged.result()  # a failed copy raises: nothing was stored
        if (
            known is not None
            and staged.root.root == root.root
            and staged.size == stat[0]
            and fingerprint(source) == stat
        ):
            staged.final_key = validate_key(key, allow_internal=True)
            if root.is_local:
                root.local_target(staged.final_key)
            staged.hash, staged.hash_type = known
            return staged
        staged.abort()
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    return stage(source, root, key, known_hash=known, known_stat=stat)


def _write_rows(session: Any, artifacts: list[Any]) -> None:
    """Inside the write transaction: insert new rows, update changed ones."""
    from lamin_sa.models.save import bulk_insert

    new = [a for a in artifacts if sa_inspect(a).transient]
    versioned = []
    for a in artifacts:
        pending = private(a, "_lamin_update_version_of")
        if private(a, "_lamin_new_version") and sa_inspect(a).transient:
            versioned.append(a)
        if pending is not None:
            old, version = pending
            old = session.merge(old) if sa_inspect(old).detached else old
            if old.version is None:
                old.version = version
                session.add(old)
        state = sa_inspect(a)
        if state.detached:
            if state.key in session.identity_map:
                # a twin of a batch (see _become_twin): its changes go to the
                # loaded record of the same row
                session.merge(a)
            else:
                session.add(a)
    for a in artifacts:
        run = private(a, "_lamin_new_run")
        if run is not None and not sa_inspect(a).transient:
            _move_to_run(session, a, run)
    # a fresh random uid stem has no other versions: only new versions of an
    # existing family need is_latest cleared on their siblings
    if versioned:
        mark_latest(session, versioned)  # takes the family locks
        batch: dict[str, set[str]] = {}
        for a in versioned:
            if private(a, "_lamin_auto_version"):
                claim_version(session, a, batch)
    # a Core INSERT even for one artifact: the unit of work costs ~1 ms a save
    session.add_all(bulk_insert(session, new, min_rows=1))
    session.flush()


def _move_to_run(session: Any, artifact: Any, run: Any) -> None:
    """Attribute a stored artifact to ``run``; keep its old run in previous_runs."""
    from lamin_sa.models.core import artifact_previous_run as link

    old = artifact.run_id
    if old is not None and old != run.id:
        exists = session.scalar(
            select(link.c.id).where(
                link.c.artifact_id == artifact.id, link.c.run_id == old
            )
        )
        if exists is None:
            session.execute(insert(link).values(artifact_id=artifact.id, run_id=old))
    artifact.run_id = run.id
    artifact.transform_id = run.transform_id
    set_committed_value(artifact, "run", run)
    session.expire(artifact, ["previous_runs"])


def _commit_one(staged: Staged) -> None:
    staged.commit()


def _journal_entry(
    artifact: Any, staged: Staged, originals: dict[int, dict[str, Any]]
) -> dict[str, Any]:
    undo = originals.get(id(artifact))
    return journal.entry(
        artifact,
        staged,
        is_new=undo is None,
        clear_key=private(artifact, "_lamin_clear_key"),
        undo=undo,
    )


def _claim(session: Any, artifacts: list[Any]) -> dict[int, Any]:
    """Inside the write transaction: refuse taken real keys, adopt equal content.

    Runs under the writer lock (SQLite) or an advisory lock on the artifact
    table (PostgreSQL), so two processes saving the same content or the same
    real key at once see each other's committed rows.

    Returns:
        ``{id(artifact): artifact}`` of new artifacts that became the stored
        artifact with the same hash (their staged objects are not needed).

    Raises:
        RecordExistsError: Another artifact stores its data at the same real
            key, or the same content is in the trash (or policy ``error``).
    """
    from lamin_sa.config import switches as settings
    from lamin_sa.models.save import adopt_stored

    new = [a for a in artifacts if sa_inspect(a).transient]
    keyed = [
        a
        for a in artifacts
        if a.key is not None
        and not a.key_is_virtual
        and private(a, "_lamin_source") is not None
    ]
    if not new and not keyed:
        return {}
    cls = type((new or keyed)[0])
    table = cls.__table__
    advisory_lock(session, (table.name, "save"))
    dialect = session.get_bind().dialect.name
    if keyed:
        taken = session.execute(
            select(table.c.id, table.c.uid, table.c.key, table.c.storage_id).where(
                in_values(table.c.key, {a.key for a in keyed}, dialect),
                table.c.key_is_virtual.is_(False),
            )
        ).all()
        for a in keyed:
            for row in taken:
                if (row.key, row.storage_id) == (a.key, a.storage_id) and (
                    row.id != a.id
                ):
                    raise RecordExistsError(taken_key_message(a.key, row.uid))
    policy = settings.upon_artifact_create_if_hash_exists
    hashes = {a.hash for a in new if a.hash is not None}
    if policy == "warn_create_new" or not hashes:
        return {}
    stored: dict[str, Any] = {}
    conn = session.connection()
    if len(hashes) == 1:  # one save: statements built once, on the connection
        (hash_,) = hashes
        # almost always a miss: probed by id alone, the whole row read on a hit
        if conn.execute(by_hash_statement(cls), {"hash": hash_}).first() is None:
            return {}
        rows = conn.execute(_same_hash_statement(table), {"hash": hash_})
    else:
        query = select(table).where(in_values(table.c.hash, hashes, dialect))
        rows = conn.execute(query.order_by(table.c.id))
    for row in rows.mappings():
        stored.setdefault(row["hash"], row)
    adopted: dict[int, Any] = {}
    for a in new:
        row = stored.get(a.hash)
        if row is None:
            continue
        if row["visibility"] == -1 or policy == "error":
            raise RecordExistsError(
                f"Artifact {row['uid']!r} with the same content was saved meanwhile"
                + (" and is in the trash" if row["visibility"] == -1 else "")
                + f"; use ln.Artifact.get('{row['uid']}') instead."
            )
        adopt_stored(session, a, row)
        logger.warning(
            "returning existing artifact with same hash: %r (saved by another "
            "process meanwhile)",
            row["uid"],
        )
        adopted[id(a)] = a
    return adopted


_SAME_HASH: dict[Any, Any] = {}


def _same_hash_statement(table: Any) -> Any:
    stmt = _SAME_HASH.get(table)
    if stmt is None:
        stmt = _SAME_HASH[table] = (
            select(table).where(table.c.hash == bindparam("hash")).order_by(table.c.id)
        )
    return stmt


def taken_key_message(key: str, uid: str) -> str:
    """The error for a real key that another artifact's data occupies."""
    return (
        f"Artifact {uid!r} already stores its data at the real key {key!r}; "
        "saving another artifact there would overwrite it. Replace its data "
        f"with ln.Artifact.get('{uid}').replace(data) and save(), or choose "
        "another key."
    )


def save_artifacts(artifacts: Iterable[Any]) -> None:
    """Save artifacts atomically: data and rows together, or nothing.

    Args:
        artifacts: New or changed artifacts.

    Raises:
        SaveError: Nothing was saved (upload or database failure), or only the
            listed artifacts were stored.
    """
    artifacts = list(dict.fromkeys(artifacts))
    if not artifacts:
        return
    artifacts, twins = _same_content_in_batch(artifacts)
    ctx = dbs.current()
    uploads = [a for a in artifacts if private(a, "_lamin_source") is not None]
    staged: dict[int, Staged] = {}
    failed_upload: list[tuple[Any, BaseException]] = []
    # worker threads never touch ORM objects (the session is not thread-safe)
    targets = {id(a): _target(a) for a in uploads}
    results = _parallel(_stage_one, [targets[id(a)] for a in uploads])
    for a, (_, result) in zip(uploads, results, strict=True):
        if isinstance(result, BaseException):
            failed_upload.append((a, result))
        else:
            staged[id(a)] = result
    if failed_upload:
        _abort(staged.values())
        a, e = failed_upload[0]
        if isinstance(e, KeyboardInterrupt):
            raise e
        raise SaveError(
            f"Copying the data of artifact {_describe(a)} into storage failed ({e}); "
            "nothing was saved: no database rows were written and temporary objects "
            "were removed. Fix the cause and call save() again."
        ) from e
    new = [a for a in artifacts if sa_inspect(a).transient]
    snapshots = {id(a): _snapshot(a) for a in new}
    replaced = [a for a in uploads if not sa_inspect(a).transient]
    originals = {id(a): _original_data_fields(a) for a in replaced}
    for a in uploads:
        _apply_hash(a, staged[id(a)])
    try:
        validate_fields(artifacts)
        with dbs.write_transaction(ctx) as session:
            adopted = _claim(session, artifacts)
            if adopted:
                artifacts = [a for a in artifacts if id(a) not in adopted]
                uploads = [a for a in uploads if id(a) not in adopted]
            _write_rows(session, artifacts)
            entries = [_journal_entry(a, staged[id(a)], originals) for a in uploads]
            journal_ids = journal.record(session, entries)
            # the finished rows of earlier saves go in this commit (no commit
            # of their own): see journal.finished
            cleared = journal.clear_finished(session, ctx)
    except BaseException as e:
        _abort(staged.values())
        for a in new:
            _back_to_transient(ctx.session, a, snapshots[id(a)])
        for a in replaced:
            _restore_fields(a, originals[id(a)], write=False)
        if isinstance(e, KeyboardInterrupt | SystemExit | RecordExistsError):
            raise
        if isinstance(e, ValidationError):
            raise
        raise SaveError(
            f"Writing {len(artifacts)} artifact row(s) failed ({e}); nothing was "
            "saved: the transaction was rolled back and temporary objects were "
            "removed. Fix the cause and call save() again."
        ) from e
    journal.forget(ctx, cleared)
    for a in adopted.values():  # the stored artifact already holds these bytes
        _abort([staged[id(a)]] if id(a) in staged else [])
        _after_save(a)
    moved = _parallel(_commit_one, [staged[id(a)] for a in uploads])
    failed = [
        (a, result)
        for a, (_, result) in zip(uploads, moved, strict=True)
        if isinstance(result, BaseException)
    ]
    if failed:
        failed_new = [a for a, _ in failed if id(a) in snapshots]
        _undo_rows(ctx, failed_new, snapshots)
        for a, _ in failed:
            if id(a) in originals:  # a replace(): the old data is still in place
                _restore_fields(a, originals[id(a)], write=True)
        _abort(staged[id(a)] for a, _ in failed)
        journal.clear(journal_ids)
        ok = [a for a in artifacts if all(a is not f for f, _ in failed)]
        raise SaveError(
            "Moving objects into place failed for "
            f"{[_describe(a) for a, _ in failed]} ({failed[0][1]}); their rows were "
            "deleted and temporary objects removed. Stored: "
            f"{[_describe(a) for a in ok] or 'none'}."
        ) from failed[0][1]
    # a replace() that moved the data to another key deletes the old object in
    # _after_save; its row is cleared at once so a lingering row never names
    # an object key that may be reused later
    clears = [
        i
        for i, e in zip(journal_ids, entries, strict=True)
        if e["clear_key"] is not None and e["clear_key"] != e["final_key"]
    ]
    for a in artifacts:
        _after_save(a)
    journal.clear(clears)
    journal.finished(ctx, [i for i in journal_ids if i not in set(clears)])
    _log_stored(uploads, staged)
    for twin, first in twins:
        _become_twin(twin, first)


def _same_content_in_batch(
    artifacts: list[Any],
) -> tuple[list[Any], list[tuple[Any, Any]]]:
    """Split off new artifacts whose content an earlier one of the batch has.

    Saved one by one, the second would resolve to the first (same hash); in one
    save it does too, instead of storing the same bytes twice.

    Returns:
        The artifacts to save, and ``(twin, first)`` pairs.
    """
    from lamin_sa.config import switches as settings

    if len(artifacts) < 2 or (
        settings.upon_artifact_create_if_hash_exists == "warn_create_new"
    ):
        return artifacts, []
    first: dict[str, Any] = {}
    keep, twins = [], []
    for a in artifacts:
        if a.hash is None or not sa_inspect(a).transient:
            keep.append(a)
            continue
        other = first.setdefault(a.hash, a)
        if other is a:
            keep.append(a)
        else:
            twins.append((a, other))
    return keep, twins


def _become_twin(twin: Any, first: Any) -> None:
    """After the save: ``twin`` is the stored ``first`` (detached copy of its row).

    One session holds one object per row, so the twin is a detached copy with
    the same id and fields; saving it updates that row. Related records are
    read through ``first`` (or ``ln.Artifact.get(uid)``).
    """
    from sqlalchemy.orm import make_transient_to_detached

    from lamin_sa.artifact.prepare import discard_source

    logger.warning(
        "returning existing artifact with same hash: %r (%s has the same content "
        "in this save)",
        first.uid,
        twin.description or twin.key or "an artifact",
    )
    discard_source(twin.__dict__)
    for name in PRIVATE_ATTRS:
        twin.__dict__.pop(name, None)
    for attr in sa_inspect(type(twin)).column_attrs:
        setattr(twin, attr.key, getattr(first, attr.key))
    make_transient_to_detached(twin)


#: more stored artifacts than this are logged as one line, not one each
LOG_EACH_STORED = 10


def _log_stored(uploads: list[Any], staged: dict[int, Staged]) -> None:
    """The seed's ``✅ storing artifact '<uid>' at '<path>'`` per uploaded artifact.

    Hidden artifacts (a run's source code, environment and report) are not
    announced: ``finish()`` reports on them itself.
    """
    uploads = [a for a in uploads if a.visibility != 0]
    if len(uploads) > LOG_EACH_STORED:
        roots = sorted({staged[id(a)].root.root for a in uploads})
        logger.log(SUCCESS, "stored %d artifacts in %s", len(uploads), ", ".join(roots))
        return
    for a in uploads:
        logger.log(
            SUCCESS, "storing artifact %r at %r", a.uid, staged[id(a)].final_path
        )


#: Threads that stage or move objects of one bulk save in parallel.
WORKERS = 4


def _parallel(fn: Any, items: list[Any]) -> list[tuple[Any, Any]]:
    """``[(item, fn(item) or the exception it raised)]`` in item order."""

    def call(item: Any) -> Any:
        try:
            return fn(item)
        except Exception as e:
            return e

    if len(items) < 4:
        return [(item, call(item)) for item in items]
    with ThreadPoolExecutor(min(WORKERS, len(items)), "lamin-sa-save") as pool:
        return list(zip(items, pool.map(call, items), strict=True))


def _apply_hash(artifact: Any, staged: Staged) -> None:
    from lamin_sa.config import switches as settings

    if artifact.hash is not None and staged.hash != artifact.hash:
        logger.warning(
            "the data of %s changed since the artifact was created; storing the "
            "new hash",
            artifact.uid,
        )
    if artifact.hash is None and settings.upon_file_create_skip_size_hash:
        return
    artifact.hash, artifact.hash_type = staged.hash, staged.hash_type
    artifact.size = staged.size
    if staged.is_dir:
        artifact.n_objects = staged.n_objects


def _abort(staged: Iterable[Staged]) -> None:
    for s in staged:
        s.abort()


_DATA_FIELDS = ("suffix", "key", "size", "hash", "hash_type", "n_objects", "run_id")


def _snapshot(artifact: Any) -> dict[str, Any]:
    """Column values and to-one records of a new artifact, to undo a failed save."""
    mapper = sa_inspect(type(artifact))
    state = artifact.__dict__
    columns = {a.key: state[a.key] for a in mapper.column_attrs if a.key in state}
    columns.pop("id", None)
    related = {k: state[k] for k in ("storage", "run") if state.get(k) is not None}
    return {"columns": columns, "related": related}


def _back_to_transient(session: Any, artifact: Any, snapshot: dict[str, Any]) -> None:
    """Make a new artifact unsaved again (after a rollback or a deleted row).

    A rollback may leave bulk-inserted records attached (and expired); they are
    detached, made transient and refilled, so ``save()`` can simply be retried.
    """
    from sqlalchemy.orm import make_transient

    state = sa_inspect(artifact)
    if state.session is not None:
        state.session.expunge(artifact)
    if not state.transient:
        make_transient(artifact)
    artifact.__dict__.pop("id", None)
    for key, value in snapshot["columns"].items():
        setattr(artifact, key, value)
    for key, value in snapshot["related"].items():
        set_committed_value(artifact, key, value)


def _original_data_fields(artifact: Any) -> dict[str, Any]:
    """The stored values of the data fields of a persistent artifact."""
    attrs = sa_inspect(artifact).attrs
    out = {}
    for name in _DATA_FIELDS:
        history = attrs[name].history
        if history.deleted:
            out[name] = history.deleted[0]
        else:
            out[name] = getattr(artifact, name)
    return out


def _restore_fields(artifact: Any, values: dict[str, Any], *, write: bool) -> None:
    """Put back the data fields of a replaced artifact (and store them)."""
    for name, value in values.items():
        setattr(artifact, name, value)
    if write:
        try:
            with dbs.write_transaction() as session:
                session.add(artifact)
        except Exception as e:  # pragma: no cover - reported, nothing else to do
            logger.error("could not restore the fields of %s: %s", artifact.uid, e)


def _undo_rows(
    ctx: Any, artifacts: list[Any], snapshots: dict[int, dict[str, Any]]
) -> None:
    from lamin_sa.models.save import delete_records

    try:
        delete_records(artifacts)
    except Exception as e:  # pragma: no cover - reported, nothing else to do
        logger.error("could not delete rows of unsaved artifacts: %s", e)
        return
    for a in artifacts:
        _back_to_transient(ctx.session, a, snapshots[id(a)])


def _after_save(artifact: Any) -> None:
    """Remove or cache the serialized temp file; delete a replaced object."""
    source = private(artifact, "_lamin_source")
    if source is not None:
        if private(artifact, "_lamin_tmp_file"):
            _settle_tmp_file(artifact, source)
        set_private(artifact, "_lamin_source", None)
        set_private(artifact, "_lamin_tmp_file", False)
    set_private(artifact, "_lamin_update_version_of", None)
    set_private(artifact, "_lamin_new_version", False)
    set_private(artifact, "_lamin_auto_version", False)
    set_private(artifact, "_lamin_new_run", None)
    clear = private(artifact, "_lamin_clear_key")
    if clear is not None:
        set_private(artifact, "_lamin_clear_key", None)
        if clear != storage_key(artifact):
            try:
                delete(storage_root(artifact.storage), clear)
            except Exception as e:
                logger.warning("could not delete the replaced object %s: %s", clear, e)


def _settle_tmp_file(artifact: Any, source: Path | bytes) -> None:
    from lamin_sa.config import switches as settings

    root = storage_root(artifact.storage)
    if isinstance(source, bytes):
        if root.is_local:
            return
        # cloud: keep the serialized bytes as the cache copy (no download later)
        path = settings.cache_dir / f".{artifact.uid}{artifact.suffix or ''}"
        path.write_bytes(source)
        source = path
    try:
        if root.is_local or source.is_dir():
            _remove(source)
        else:
            add_to_cache(source, full_path(artifact), settings.cache_dir, move=True)
    except Exception as e:  # the data is stored; only the cache copy is affected
        logger.warning("could not move %s into the cache: %s", source, e)
        _remove(source)


def _remove(path: Path) -> None:
    import shutil

    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def save_artifact(artifact: Any) -> Any:
    """``artifact.save()``: save one artifact atomically and return it."""
    save_artifacts([artifact])
    return artifact
