"""Pending saves: the journal that makes artifact saves crash-proof.

A save stages its objects under temporary keys, then commits the artifact rows
*and* one journal row per object in the same transaction, then moves the
objects into place. The finished journal rows are deleted inside the next
write transaction of the same process (no commit of their own), or at exit.
Whatever instant a process is killed at, the database says what to do next:

- no journal row: the rows were never committed; any temporary object is an
  orphan that :func:`repair` purges;
- a journal row whose temporary object still exists: the move did not finish;
  :func:`repair` rolls the save forward (moves the object into place);
- a journal row whose object is in place (no temporary object, final object of
  the recorded size): the save finished; :func:`repair` deletes the row
  silently;
- neither: the data is lost; :func:`repair` rolls the save back (deletes the new
  row, or restores a replaced artifact's fields) -- unless the artifact was
  deleted or replaced again since, then the row is stale and simply dropped.

``connect()`` calls :func:`check_pending`, which repairs the saves of processes
that surely ended and suggests ``lamin-sa repair`` for the others.
"""

from __future__ import annotations

import atexit
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy import delete as sql_delete

from lamin_sa.artifact._state import all_storages, read, storage_root
from lamin_sa.db import session as dbs
from lamin_sa.errors import StorageError
from lamin_sa.models.pending import pending_save
from lamin_sa.storage import (
    delete as delete_object,
)
from lamin_sa.storage import (
    exists,
    finish_move,
    is_dead,
    parse_root,
    process_tag,
    purge_tmp,
)

logger = logging.getLogger(__name__)

#: A pending save of another host (whose process cannot be checked) counts as
#: crashed after this many seconds.
STALE_AFTER = 3600.0

UNDO_FIELDS = ("suffix", "key", "size", "hash", "hash_type", "n_objects", "run_id")


def entry(
    artifact: Any,
    staged: Any,
    *,
    is_new: bool,
    clear_key: str | None = None,
    undo: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The journal row of one staged object (inserted with the artifact rows)."""
    return {
        "artifact_uid": artifact.uid,
        "storage_root": staged.root.root,
        "tmp_key": staged.tmp_key,
        "final_key": staged.final_key,
        "clear_key": clear_key,
        "is_dir": staged.is_dir,
        "size": None if staged.is_dir else staged.size,
        "is_new": is_new,
        "undo": undo,
        "owner": process_tag(),
    }


_INSERT = insert(pending_save).returning(
    pending_save.c.id, sort_by_parameter_order=True
)


_INSERT_ONE = insert(pending_save).returning(pending_save.c.id)


def record(session: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Inside the save's write transaction: add journal rows, return their ids."""
    if not rows:
        return []
    conn = session.connection()
    if len(rows) == 1:
        # one save: a plain INSERT ... RETURNING, not the executemany path that
        # sorts the returned ids by parameter order (half the cost of the insert)
        return [conn.execute(_INSERT_ONE, rows[0]).scalar_one()]
    return list(conn.execute(_INSERT, rows).scalars())


# built once: a statement per call would be compiled anew each save
_DELETE_IDS = sql_delete(pending_save).where(
    pending_save.c.id.in_(bindparam("ids", expanding=True))
)


_DELETE_ONE = sql_delete(pending_save).where(pending_save.c.id == bindparam("id"))


def _delete_ids(conn: Any, ids: list[int]) -> None:
    # one id (the previous save's row) is the common case: a statement compiled
    # once, where an expanding IN list is rendered anew at every execution
    if len(ids) == 1:
        conn.execute(_DELETE_ONE, {"id": ids[0]})
    else:
        conn.execute(_DELETE_IDS, {"ids": ids})


def clear(ids: list[int]) -> None:
    """Delete journal rows once their objects are in place (own transaction)."""
    if not ids:
        return
    try:
        with dbs.write_transaction() as session:
            _delete_ids(session.connection(), ids)
    except Exception as e:  # the objects are in place; repair clears rows later
        logger.warning("could not clear %d finished save(s): %s", len(ids), e)


#: Contexts whose finished journal rows await deletion (see :func:`finished`).
_WAITING: dict[int, Any] = {}
_KEY = "journal_finished"


def finished(ctx: Any, ids: list[int]) -> None:
    """Note journal rows whose objects are in place; delete them later.

    A save's own transaction deletes the rows of the saves before it
    (:func:`clear_finished`), and :func:`flush` deletes the rest at exit, so a
    save costs one commit, not two. Until then a row only says "done": its
    temporary object is gone and its object is in place, which :func:`repair`
    and :func:`check_pending` recognise. A host's session (which lamin-sa never
    commits) has its rows deleted at once, inside the host's transaction.

    Rows left this way once failed the kill-loop tests (a replaced object
    beside the artifact's old row); the cause was a read committing unsaved
    changes (see ``db.session._end_transaction``), fixed since.
    """
    if not ids:
        return
    if not ctx.autocommit:
        clear(ids)
        return
    ctx.extra.setdefault(_KEY, []).extend(ids)
    _WAITING[id(ctx)] = ctx


def clear_finished(session: Any, ctx: Any) -> list[int]:
    """Inside a write transaction of ``ctx``: delete its finished rows.

    Returns:
        The ids deleted; pass them to :func:`forget` once the transaction
        committed (on a rollback the rows stay noted).
    """
    ids = list(ctx.extra.get(_KEY) or ())
    if ids:
        _delete_ids(session.connection(), ids)
    return ids


def forget(ctx: Any, ids: list[int]) -> None:
    """After the commit of :func:`clear_finished`: the rows are gone."""
    if not ids:
        return
    done = set(ids)
    left = [i for i in ctx.extra.get(_KEY) or () if i not in done]
    ctx.extra[_KEY] = left
    if not left:
        _WAITING.pop(id(ctx), None)


def waiting(ctx: Any) -> set[int]:
    """Ids of this process's finished rows in ``ctx`` not yet deleted."""
    return set(ctx.extra.get(_KEY) or ())


def flush(ctx: Any | None = None) -> None:
    """Delete the finished journal rows of ``ctx`` (default: of every context).

    Runs at interpreter exit; call it before closing a connection whose rows
    should not linger until the next connect.
    """
    contexts = [ctx] if ctx is not None else list(_WAITING.values())
    for c in contexts:
        if not waiting(c):
            _WAITING.pop(id(c), None)
            continue
        try:
            with dbs.write_transaction(c) as session:
                ids = clear_finished(session, c)
            forget(c, ids)
        except Exception as e:  # the saves are complete; the next connect clears
            logger.debug("could not delete finished journal rows: %s", e)


atexit.register(flush)


@dataclass
class RepairReport:
    """What :func:`repair` did."""

    rolled_forward: list[str] = field(default_factory=list)
    rolled_back: list[str] = field(default_factory=list)
    in_progress: int = 0
    failed: list[str] = field(default_factory=list)
    purged: int = 0

    def __str__(self) -> str:
        parts = [
            f"{len(self.rolled_forward)} save(s) completed",
            f"{len(self.rolled_back)} rolled back",
            f"{self.purged} temporary object(s) removed",
        ]
        if self.in_progress:
            parts.append(f"{self.in_progress} still in progress (left alone)")
        if self.failed:
            parts.append(f"{len(self.failed)} failed: {'; '.join(self.failed)}")
        return ", ".join(parts)


def _abandoned(row: Any, now: float) -> bool:
    """The saving process surely ended (this host), or is long silent (others)."""
    if is_dead(row.owner):
        return True
    same_host = row.owner.split(".", 1)[0] == process_tag().split(".", 1)[0]
    created = row.created_at.timestamp() if row.created_at is not None else now
    return not same_host and now - created > STALE_AFTER


def _roll_back(session: Any, row: Any) -> None:
    from lamin_sa.models.core import Artifact

    if row.is_new:
        target = session.scalars(
            select(Artifact).where(Artifact.uid == row.artifact_uid)
        ).first()
        if target is not None:
            session.delete(target)
    elif row.undo:
        values = {k: v for k, v in row.undo.items() if k in UNDO_FIELDS}
        session.execute(
            update(Artifact)
            .where(Artifact.uid == row.artifact_uid)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def _artifact_now(row: Any) -> Any:
    """The artifact's current key fields and size (None if it was deleted)."""
    from lamin_sa.models.core import Artifact

    t = Artifact.__table__
    query = select(t.c.uid, t.c.key, t.c.key_is_virtual, t.c.suffix, t.c.size).where(
        t.c.uid == row.artifact_uid
    )
    return read(lambda s: s.execute(query).first())


def _stale(row: Any) -> bool:
    """The artifact was deleted or its data replaced again after this save.

    Then neither rolling forward (it would overwrite newer data) nor back (it
    would delete or revert a newer state) is right: the row is dropped.
    """
    from lamin_sa.artifact._state import storage_key

    now = _artifact_now(row)
    if now is None:
        return True
    if storage_key(now).rstrip("/") != row.final_key.rstrip("/"):
        return True
    return (
        not row.is_dir
        and row.size is not None
        and now.size is not None
        and now.size != row.size
    )


def repair(
    *, force: bool = False, tmp_older_than: float = 3600.0, purge: bool = True
) -> RepairReport:
    """Finish or undo interrupted saves, then remove stale temporary objects.

    A journal row whose save finished (its object is in place, no temporary
    object is left) is deleted without counting as a repair.

    Args:
        force: Also repair saves of processes that may still be running (use
            when no other process saves into this instance).
        tmp_older_than: Temporary objects older than this many seconds that no
            pending save needs are removed; those of ended processes on this
            host at any age.
        purge: Remove stale temporary objects (lists every managed storage).

    Returns:
        A :class:`RepairReport`.

    Example:
        >>> from lamin_sa.artifact.journal import repair
        >>> print(repair())
        0 save(s) completed, 0 rolled back, 0 temporary object(s) removed
    """
    report = RepairReport()
    ctx = dbs.current()
    rows = read(lambda s: list(s.execute(select(pending_save)).all()))
    now, tag, own = time.time(), process_tag(), waiting(ctx)
    keep: dict[str, set[str]] = {}
    done: list[int] = []
    for row in rows:
        if row.owner == tag and row.id in own:
            done.append(row.id)  # this process finished it; no storage check
            continue
        root = parse_root(row.storage_root)
        try:
            pending = exists(root, row.tmp_key)
        except Exception:  # cannot tell: treat as still needed
            pending = True
        if not force and not _abandoned(row, now):
            if pending:
                report.in_progress += 1
                keep.setdefault(row.storage_root, set()).add(row.tmp_key)
            continue  # a finished save of a live process: its owner deletes it
        try:
            if _stale(row):
                if pending:
                    delete_object(root, row.tmp_key)
                moved, stale = True, True
            else:
                stale = False
                moved = finish_move(
                    root, row.tmp_key, row.final_key, is_dir=row.is_dir, size=row.size
                )
        except StorageError as e:
            report.failed.append(f"{row.artifact_uid}: {e}")
            keep.setdefault(row.storage_root, set()).add(row.tmp_key)
            continue
        with dbs.write_transaction() as session:
            if not moved:
                _roll_back(session, row)
            session.execute(sql_delete(pending_save).where(pending_save.c.id == row.id))
        if stale:
            logger.info("dropped the outdated save record of %s", row.artifact_uid)
        elif moved:
            clears = bool(row.clear_key and row.clear_key != row.final_key)
            if clears:
                try:
                    delete_object(root, row.clear_key)
                except Exception as e:  # the save is complete; report the leftover
                    logger.warning("could not delete %s: %s", row.clear_key, e)
            if pending or clears:
                report.rolled_forward.append(row.artifact_uid)
        else:
            logger.warning(
                "the data of artifact %s was lost before it reached storage; its "
                "save was rolled back",
                row.artifact_uid,
            )
            report.rolled_back.append(row.artifact_uid)
    if done:
        with dbs.write_transaction(ctx) as session:
            session.execute(sql_delete(pending_save).where(pending_save.c.id.in_(done)))
        forget(ctx, done)
    for storage in _managed_storages() if purge else []:
        root = storage_root(storage)
        try:
            report.purged += purge_tmp(
                root, tmp_older_than, keep=keep.get(root.root, ())
            )
        except Exception as e:
            report.failed.append(f"purging {root.root}: {e}")
    dbs.end_read(dbs.current())
    return report


def _managed_storages() -> list[Any]:
    from lamin_sa.artifact._state import is_managed

    return [s for s in all_storages() if is_managed(s)]


def check_pending() -> RepairReport | None:
    """At connect: repair saves of ended processes; suggest repair for the rest.

    One small query when nothing is pending. Finished saves whose journal rows
    were left (a process killed after its last move) are cleared silently.
    Temporary objects are not purged here (listing cloud storage is slow);
    ``lamin-sa repair`` does that.
    """
    count = read(lambda s: len(s.execute(select(pending_save.c.id)).all()))
    if not count:
        return None
    report = repair(purge=False)
    if report.rolled_forward or report.rolled_back:
        logger.warning("finished interrupted saves: %s", report)
    if report.in_progress or report.failed:
        logger.warning(
            "%d artifact save(s) are unfinished; if no other process is saving, "
            "run `lamin-sa repair`",
            report.in_progress + len(report.failed),
        )
    return report


def settle(artifact: Any) -> bool:
    """Move a pending save's object into place now (a reader found it missing).

    Rolling forward is safe while the saving process still runs: whichever
    process moves the object first wins, the other sees it in place.

    Returns:
        True if a pending object of ``artifact`` is now in place.
    """
    table = pending_save
    rows = read(
        lambda s: list(
            s.execute(select(table).where(table.c.artifact_uid == artifact.uid)).all()
        )
    )
    settled = False
    for row in rows:
        root = parse_root(row.storage_root)
        if finish_move(
            root, row.tmp_key, row.final_key, is_dir=row.is_dir, size=row.size
        ):
            settled = True
    return settled
