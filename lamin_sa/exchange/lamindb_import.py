"""Import a LaminDB 0.72-era SQLite instance into the connected lamin-sa instance.

LaminDB's Django tables (``lnschema_core_*``, ``lnschema_bionty_*``) map onto
lamin-sa's tables nearly column for column. The import keeps uids, hashes, storage
roots and keys, so imported artifacts point at the bytes where they already are.
Rows are matched by uid (users by handle, link rows by their endpoints), so a second
import of the same instance inserts nothing.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Table,
    insert,
    inspect,
    select,
    update,
)

from lamin_sa.db.base import UTCDateTime, metadata
from lamin_sa.db.session import current, write_transaction
from lamin_sa.errors import LaminDBImportError
from lamin_sa.exchange.rows import canonical, identity_keys

logger = logging.getLogger(__name__)

# Django app labels of LaminDB 0.72 and the lamin-sa table prefix each maps onto.
_APP_PREFIXES = {"lnschema_core_": "core_", "lnschema_bionty_": "bionty_"}
# Tables whose name does not follow from the normalization rule below.
_TABLE_RENAMES = {"lnschema_bionty_publicsource": "bionty_source"}
# Columns renamed since 0.72 (everywhere, and per source table).
_COLUMN_RENAMES = {"public_source_id": "source_id"}
_TABLE_COLUMN_RENAMES = {
    "lnschema_bionty_publicsource": {"source": "name", "source_name": "description"}
}
# Tables the import never touches: lamin-sa's own identity and schema bookkeeping.
_SKIP = {"core_instance", "core_module"}


@dataclass
class ImportReport:
    """What an import did, per lamin-sa table.

    Attributes:
        inserted: Rows inserted per table.
        matched: Rows that were already there (same uid or natural key).
        skipped_tables: Source tables with no lamin-sa counterpart.
    """

    inserted: dict[str, int] = field(default_factory=dict)
    matched: dict[str, int] = field(default_factory=dict)
    skipped_tables: list[str] = field(default_factory=list)

    @property
    def total_inserted(self) -> int:
        return sum(self.inserted.values())


def _normal(name: str) -> str:
    # "artifact_input_of" ~ "artifactinput", "transform_parents" ~ "transformparent"
    text = name.replace("_", "")
    if text.endswith("of"):
        text = text[:-2]
    return text.rstrip("s")


def _target_table(source: str, targets: dict[str, Table]) -> Table | None:
    if source in _TABLE_RENAMES:
        return targets.get(_TABLE_RENAMES[source])
    for prefix, new in _APP_PREFIXES.items():
        if source.startswith(prefix):
            wanted = _normal(source[len(prefix) :])
            for name, table in targets.items():
                if name.startswith(new) and _normal(name[len(new) :]) == wanted:
                    return table
    return None


def _as_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    # Django stores UTC without an offset when USE_TZ is on.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _convert(column: Column[Any], value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, Boolean):
        return bool(value)
    if isinstance(column.type, JSON) and isinstance(value, str | bytes):
        return json.loads(value)
    if isinstance(column.type, UTCDateTime | DateTime):
        return _as_datetime(value)
    return value


class _Importer:
    def __init__(self, source: sqlite3.Connection) -> None:
        self.source = source
        self.ids: dict[str, dict[int, int]] = {}
        self.report = ImportReport()
        self.session = current().session
        self.user_id = current().user_id
        self.source_tables = {
            row[0]
            for row in source.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            )
        }

    def run(self) -> ImportReport:
        # tables of modules this instance does not mount are left out (reported)
        present = set(inspect(self.session.connection()).get_table_names())
        targets = {
            t.name: t
            for t in metadata.sorted_tables
            if t.name not in _SKIP and t.name in present
        }
        plan: list[tuple[Table, str]] = []
        for name in sorted(self.source_tables):
            table = _target_table(name, targets)
            if table is None:
                if name.startswith(tuple(_APP_PREFIXES)):
                    self.report.skipped_tables.append(name)
                continue
            plan.append((table, name))
        order = {t.name: i for i, t in enumerate(metadata.sorted_tables)}
        plan.sort(key=lambda item: order[item[0].name])
        position = {table.name: i for i, (table, _) in enumerate(plan)}
        deferred: list[tuple[Table, str, str, dict[int, int]]] = []
        for i, (table, source_name) in enumerate(plan):
            later = {
                fk.parent.name
                for fk in table.foreign_keys
                if position.get(fk.column.table.name, -1) >= i
            }
            fixups = self._copy(table, source_name, later)
            for column, pending in fixups.items():
                deferred.append((table, source_name, column, pending))
        for table, _source_name, column, pending in deferred:
            self._fix_deferred(table, column, pending)
        self._mark_latest(targets)
        return self.report

    def _rows(self, source_name: str) -> list[dict[str, Any]]:
        cursor = self.source.execute(f'SELECT * FROM "{source_name}"')  # noqa: S608
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]

    def _fk_targets(self, table: Table) -> dict[str, str]:
        return {fk.parent.name: fk.column.table.name for fk in table.foreign_keys}

    def _copy(
        self, table: Table, source_name: str, later: set[str]
    ) -> dict[str, dict[int, int]]:
        fks = self._fk_targets(table)
        id_map = self.ids.setdefault(table.name, {})
        existing = self._existing(table)
        pending: dict[str, dict[int, int]] = {c: {} for c in later}
        inserted = matched = 0
        for raw in self._rows(source_name):
            renames = {**_COLUMN_RENAMES, **_TABLE_COLUMN_RENAMES.get(source_name, {})}
            row = {renames.get(k, k): v for k, v in raw.items()}
            source_id = row.get("id")
            values: dict[str, Any] = {}
            for column in table.columns:
                if column.name == "id" or column.name not in row:
                    continue
                value = row[column.name]
                if column.name in fks and value is not None:
                    if column.name in later:
                        # Filled in once the referenced table is imported.
                        continue
                    value = self.ids.get(fks[column.name], {}).get(value)
                    if value is None:
                        break
                values[column.name] = _convert(column, value)
            else:
                self._defaults(table, values)
                target_id = self._match(table, values, existing)
                if target_id is None:
                    target_id = self._insert(table, values)
                    self._remember(table, values, existing, target_id)
                    inserted += 1
                    if source_id is not None:
                        for column in later:
                            if row.get(column) is not None:
                                pending[column][target_id] = row[column]
                else:
                    matched += 1
                if source_id is not None and target_id is not None:
                    id_map[source_id] = target_id
                continue
            logger.warning(
                "skipped a row of %s: it refers to a row that was not imported",
                source_name,
            )
        self.report.inserted[table.name] = inserted
        self.report.matched[table.name] = matched
        return pending

    def _defaults(self, table: Table, values: dict[str, Any]) -> None:
        now = datetime.now(UTC)
        for column in table.columns:
            if column.name in values or column.name == "id":
                continue
            if column.name in ("created_at", "updated_at", "started_at"):
                values[column.name] = values.get("created_at", now)
            elif column.name == "created_by_id":
                values[column.name] = self.user_id
            elif column.name == "is_latest":
                values[column.name] = False
            elif column.name == "visibility":
                values[column.name] = 1
            elif column.name == "key_is_virtual":
                values[column.name] = values.get("key") is None

    def _keys(self, table: Table) -> list[tuple[str, ...]]:
        # no content keys: an imported artifact keeps its own uid and key
        return identity_keys(table, content=False)

    def _existing(self, table: Table) -> dict[tuple[Any, ...], int]:
        out: dict[tuple[Any, ...], int] = {}
        for columns in self._keys(table):
            stmt = select(table.c.id, *[table.c[c] for c in columns])
            for row in self.session.execute(stmt):
                out[(columns, *map(canonical, row[1:]))] = row[0]
        return out

    def _match(
        self, table: Table, values: dict[str, Any], existing: dict[Any, int]
    ) -> int | None:
        for columns in self._keys(table):
            key = tuple(values.get(c) for c in columns)
            if any(v is None for v in key):
                continue
            found = existing.get((columns, *map(canonical, key)))
            if found is not None:
                return found
        return None

    def _remember(
        self, table: Table, values: dict[str, Any], existing: dict[Any, int], id_: int
    ) -> None:
        for columns in self._keys(table):
            key = tuple(values.get(c) for c in columns)
            if all(v is not None for v in key):
                existing[(columns, *map(canonical, key))] = id_

    def _insert(self, table: Table, values: dict[str, Any]) -> int:
        result = self.session.execute(
            insert(table).values(**values).returning(table.c.id)
        )
        return int(result.scalar_one())

    def _fix_deferred(self, table: Table, column: str, pending: dict[int, int]) -> None:
        target = self._fk_targets(table)[column]
        id_map = self.ids.get(target, {})
        for target_id, source_ref in pending.items():
            new_ref = id_map.get(source_ref)
            if new_ref is None:
                continue
            self.session.execute(
                update(table).where(table.c.id == target_id).values({column: new_ref})
            )

    def _mark_latest(self, targets: dict[str, Table]) -> None:
        # 0.72 has no is_latest: the newest visible version of each family is it.
        for name, stem in (
            ("core_artifact", 16),
            ("core_collection", 16),
            ("core_transform", 12),
        ):
            table = targets.get(name)
            imported = set(self.ids.get(name, {}).values())
            if table is None or not imported:
                continue
            columns = [table.c.id, table.c.uid, table.c.created_at, table.c.is_latest]
            has_visibility = "visibility" in table.c
            if has_visibility:
                columns.append(table.c.visibility)
            rows = self.session.execute(select(*columns)).all()
            families: dict[str, list[Any]] = {}
            for row in rows:
                if has_visibility and row.visibility == -1:
                    continue
                families.setdefault(row.uid[:stem], []).append(row)
            for members in families.values():
                if not any(m.id in imported for m in members):
                    continue
                if any(m.is_latest and m.id not in imported for m in members):
                    continue
                newest = max(members, key=lambda m: (m.created_at, m.id))
                self.session.execute(
                    update(table).where(table.c.id == newest.id).values(is_latest=True)
                )


def import_lamindb(path: str | Path) -> ImportReport:
    """Import a LaminDB 0.72-era SQLite instance into the connected instance.

    Users, storage locations, transforms, runs, labels, features, feature sets,
    artifacts, collections, their link tables and (when bionty is mounted) bionty
    terms are copied with their uids, hashes and keys, in one transaction. Storage
    roots are kept, so artifacts open where LaminDB stored them; nothing is copied.
    Rows already present (same uid) are not duplicated: importing twice is a no-op.

    Args:
        path: The LaminDB instance's SQLite file (``.../.lamindb/lamin.db`` or a
            ``<uuid>.lndb`` file).

    Returns:
        What was inserted and matched per table.

    Example:
        >>> report = ln.import_lamindb("old/.lamindb/lamin.db")  # doctest: +SKIP
        >>> report.inserted["core_artifact"]  # doctest: +SKIP
        12
    """
    file = Path(path).expanduser()
    if not file.is_file():
        raise LaminDBImportError(
            f"{file} is not a file: pass the LaminDB instance's SQLite file, e.g. "
            "ROOT/.lamindb/lamin.db."
        )
    try:
        source = sqlite3.connect(f"file:{file.as_posix()}?mode=ro", uri=True)
        source.execute("SELECT 1 FROM lnschema_core_artifact LIMIT 1")
    except sqlite3.DatabaseError as e:
        raise LaminDBImportError(
            f"{file} is not a LaminDB SQLite instance (no lnschema_core tables): "
            "pass the instance's lamin.db file."
        ) from e
    try:
        with write_transaction():
            report = _Importer(source).run()
    finally:
        source.close()
    logger.info(
        "imported %d records from LaminDB instance %s", report.total_inserted, file
    )
    if report.skipped_tables:
        logger.warning(
            "tables with no lamin-sa counterpart were not imported: %s",
            ", ".join(report.skipped_tables),
        )
    return report
