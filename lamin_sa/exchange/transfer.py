"""Copy a record from another lamin-sa instance into the connected one.

The record comes with what it needs: the rows its foreign keys point at (storage,
user, and, through link tables, labels with their features, feature sets with their
members, bionty terms, a collection's artifacts). Every row is first matched in the
target — by uid, by any unique column set, by ``ontology_id`` for ontology terms and
by content hash for artifacts — so nothing is duplicated and a second transfer
inserts nothing. The transferred rows are attributed to a run of a transform named
after the source instance, which records where they came from. Artifacts keep
their storage root and key, so their bytes are read where they are.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Connection, Table, insert, inspect, select, update

from lamin_sa.db.base import metadata, utcnow
from lamin_sa.db.session import current, write_transaction
from lamin_sa.exchange.rows import RowMatcher

logger = logging.getLogger(__name__)

# Link tables to runs are lineage of the source instance; they are not copied.
_NOT_FOLLOWED = ("core_run",)
# Parent links would drag whole ontologies along; parents are not transferred.
_PARENT_SUFFIX = "_parent"


def _link_tables(table: Table) -> list[tuple[Table, str]]:
    """Link tables owned by ``table``: ``<module>_<table>_<other>`` with an FK to it."""
    # "core_artifact" owns core_artifact_ulabel and bionty_artifact_celltype
    stem = table.name.split("_", 1)[-1] + "_"
    found = []
    for other in metadata.sorted_tables:
        if not other.name.split("_", 1)[-1].startswith(stem) or other.name.endswith(
            _PARENT_SUFFIX
        ):
            continue
        for fk in other.foreign_keys:
            if fk.column.table is table and fk.parent.name != "id":
                endpoints = {
                    f.column.table.name
                    for f in other.foreign_keys
                    if f.parent.name not in ("created_by_id", "run_id", fk.parent.name)
                }
                if not endpoints & set(_NOT_FOLLOWED):
                    found.append((other, fk.parent.name))
    return found


class Transfer:
    """One transfer session: source rows to target rows, with an id map."""

    def __init__(self, source: Connection, source_name: str) -> None:
        self.source = source
        self.source_name = source_name
        ctx = current()
        self.session = ctx.session
        self.user_id = ctx.user_id
        self.ids: dict[str, dict[int, int]] = {}
        self.in_progress: set[tuple[str, int]] = set()
        self.deferred: list[tuple[Table, int, str, Table, int]] = []
        self.matcher = RowMatcher(self.session)
        # only tables both databases have: a module may be mounted on one only
        self.tables = set(inspect(source).get_table_names()) & set(
            inspect(self.session.connection()).get_table_names()
        )
        self.inserted = 0
        self._provenance: tuple[int, int] | None = None

    # ---- provenance ------------------------------------------------------------

    def provenance(self) -> tuple[int, int]:
        """The transform and run new rows are attributed to (one per source)."""
        if self._provenance is not None:
            return self._provenance
        transform = metadata.tables["core_transform"]
        run = metadata.tables["core_run"]
        key = f"__transfer__/{self.source_name}"
        found = self.session.execute(
            select(transform.c.id).where(transform.c.key == key)
        ).scalar()
        from lamin_sa.db.uid import base62, hash_to_uid

        now = utcnow()
        if found is None:
            found = self.session.execute(
                insert(transform)
                .values(
                    uid=hash_to_uid(key, 12) + "0000",
                    name=f"Transfer from {self.source_name}",
                    key=key,
                    type="function",
                    created_at=now,
                    updated_at=now,
                    created_by_id=self.user_id,
                    is_latest=True,
                )
                .returning(transform.c.id)
            ).scalar_one()
        run_id = int(
            self.session.execute(
                insert(run)
                .values(
                    uid=base62(20),
                    transform_id=found,
                    started_at=now,
                    finished_at=now,
                    created_at=now,
                    created_by_id=self.user_id,
                )
                .returning(run.c.id)
            ).scalar_one()
        )
        self._provenance = (int(found), run_id)
        return self._provenance

    # ---- rows ------------------------------------------------------------------

    def copy(self, table: Table, source_id: int) -> int | None:
        """Copy one row (and what it points at); return its id in the target."""
        known = self.ids.setdefault(table.name, {}).get(source_id)
        if known is not None:
            return known
        if (table.name, source_id) in self.in_progress:
            return None  # a cycle: the caller fills the reference in afterwards
        row = (
            self.source.execute(select(table).where(table.c.id == source_id))
            .mappings()
            .first()
        )
        if row is None:
            return None
        self.in_progress.add((table.name, source_id))
        values: dict[str, Any] = {}
        pending: list[tuple[str, Table, int]] = []
        for column in table.columns:
            if column.name == "id":
                continue
            value = row[column.name]
            if column.name in ("run_id", "transform_id") and "run_id" in table.c:
                value = None  # set below, once the row is known to be new
            elif column.name == "created_by_id" and value is not None:
                value = self.copy(metadata.tables["core_user"], value) or self.user_id
            elif column.foreign_keys and value is not None:
                (fk,) = column.foreign_keys
                target = fk.column.table
                if target.name in _NOT_FOLLOWED:
                    value = None
                else:
                    copied = self.copy(target, value)
                    if copied is None:
                        pending.append((column.name, target, value))
                    value = copied
            values[column.name] = value
        self.in_progress.discard((table.name, source_id))
        matched = self.matcher.match(table, values)
        if matched is not None:
            self.ids[table.name][source_id] = matched
            return matched
        if "run_id" in table.c:
            transform_id, values["run_id"] = self.provenance()
            if "transform_id" in table.c:
                values["transform_id"] = transform_id
        if "is_latest" in table.c:
            values["is_latest"] = self._is_latest(table, values)
        new_id = int(
            self.session.execute(
                insert(table).values(**values).returning(table.c.id)
            ).scalar_one()
        )
        self.matcher.remember(table, values, new_id)
        self.ids[table.name][source_id] = new_id
        self.inserted += 1
        for column, target, ref in pending:
            self.deferred.append((table, new_id, column, target, ref))
        self._copy_links(table, source_id)
        return new_id

    def _is_latest(self, table: Table, values: dict[str, Any]) -> bool:
        # A transferred version is latest only if the family has none here yet.
        stem = 12 if table.name == "core_transform" else 16
        uid = values.get("uid") or ""
        taken = self.session.execute(
            select(table.c.id).where(
                table.c.uid.startswith(uid[:stem]), table.c.is_latest.is_(True)
            )
        ).first()
        return bool(values.get("is_latest")) and taken is None

    def _copy_links(self, table: Table, source_id: int) -> None:
        for link, own_column in _link_tables(table):
            if link.name not in self.tables:
                continue
            rows = self.source.execute(
                select(link.c.id).where(link.c[own_column] == source_id)
            ).scalars()
            for link_id in list(rows):
                self.copy(link, link_id)

    def finish(self) -> None:
        """Fill in the references that pointed into a cycle."""
        for table, row_id, column, target, ref in self.deferred:
            new_ref = self.ids.get(target.name, {}).get(ref)
            if new_ref is not None:
                self.session.execute(
                    update(table).where(table.c.id == row_id).values({column: new_ref})
                )


def transfer_row(
    source: Connection, source_name: str, table: Table, source_id: int
) -> tuple[int, int]:
    """Copy one row of another instance into the connected one, in one transaction.

    Args:
        source: A connection to the other instance's database.
        source_name: The other instance's name (recorded as the transfer's origin).
        table: The row's table (the same in both instances).
        source_id: The row's id in the other instance.

    Returns:
        The row's id in the connected instance and how many rows were inserted.
    """
    with write_transaction():
        job = Transfer(source, source_name)
        new_id = job.copy(table, source_id)
        job.finish()
    if new_id is None:
        raise LookupError(f"No row {source_id} in {table.name} of {source_name}.")
    logger.info(
        "transferred %s from %s (%d new records)",
        table.name,
        source_name,
        job.inserted,
    )
    return new_id, job.inserted
