"""Pending saves: the journal that makes artifact saves crash-proof.

A save stages its objects under temporary keys, then commits the artifact rows
*and* one journal row per object in the same transaction, then moves the
objects into place and deletes the journal rows. Whatever instant a process is
killed at, the database says what to do next:

- no journal row: the rows were never committed; any temporary object is an
  orphan that :func:`repair` purges;
- a journal row: the rows are committed; :func:`repair` rolls the save forward
  (moves the temporary object into place) or, if the object is lost, back
  (deletes the new row, or restores a replaced artifact's fields).

``connect()`` calls :func:`check_pending`, which repairs the saves of processes
that surely ended and suggests ``lamin-sa repair`` for the others.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import insert, select, update

from lamin_sa.artifact._state import all_storages, read, storage_root
from lamin_sa.db import session as dbs
from lamin_sa.errors import StorageError
from lamin_sa.models.pending import pending_save
from lamin_sa.storage import (
    delete as delete_object,
)
from lamin_sa.storage import (
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


def record(session: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Inside the save's write transaction: add journal rows, return their ids."""
    if not rows:
        return []
    table = pending_save
    return list(
        session.execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
        ).scalars()
    )


def clear(ids: list[int]) -> None:
    """Delete journal rows once their objects are in place (own transaction)."""
    if not ids:
        return
    try:
        with dbs.write_transaction() as session:
            session.execute(sql_delete(pending_save).where(pending_save.c.id.in_(ids)))
    except Exception as e:  # the objects are in place; repair clears rows later
        logger.warning("could not clear %d finished save(s): %s", len(ids), e)


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


def repair(
    *, force: bool = False, tmp_older_than: float = 3600.0, purge: bool = True
) -> RepairReport:
    """Finish or undo interrupted saves, then remove stale temporary objects.

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
    rows = read(lambda s: list(s.execute(select(pending_save)).all()))
    now = time.time()
    keep: dict[str, set[str]] = {}
    for row in rows:
        if not force and not _abandoned(row, now):
            report.in_progress += 1
            keep.setdefault(row.storage_root, set()).add(row.tmp_key)
            continue
        root = parse_root(row.storage_root)
        try:
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
        if moved:
            if row.clear_key and row.clear_key != row.final_key:
                try:
                    delete_object(root, row.clear_key)
                except Exception as e:  # the save is complete; report the leftover
                    logger.warning("could not delete %s: %s", row.clear_key, e)
            report.rolled_forward.append(row.artifact_uid)
        else:
            logger.warning(
                "the data of artifact %s was lost before it reached storage; its "
                "save was rolled back",
                row.artifact_uid,
            )
            report.rolled_back.append(row.artifact_uid)
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

    One small query when nothing is pending. Temporary objects are not purged
    here (listing cloud storage is slow); ``lamin-sa repair`` does that.
    """
    count = read(lambda s: len(s.execute(select(pending_save.c.id)).all()))
    if not count:
        return None
    report = RepairReport()
    rows = read(lambda s: list(s.execute(select(pending_save)).all()))
    now = time.time()
    if any(_abandoned(r, now) for r in rows):
        report = repair(purge=False)
        if report.rolled_forward or report.rolled_back:
            logger.warning("finished interrupted saves: %s", report)
    else:
        report.in_progress = len(rows)
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
