"""Small SQL building blocks that depend on the backend."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, select, type_coerce
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import String

# Above this many values an IN list becomes one bound array/JSON parameter.
LARGE_IN = 200


def in_values(
    column: Any, values: Collection[Any], dialect: str
) -> ColumnElement[bool]:
    """``column IN values`` that stays one bound parameter for long lists.

    SQLite expands the values from a JSON array with ``json_each``; Postgres
    compares with ``= ANY(array)``. Short lists use a plain expanding IN.
    """
    values = list(values)
    if len(values) <= LARGE_IN:
        return column.in_(values)
    if dialect == "postgresql":
        item_type = column.type
        return column == func.any(
            bindparam(None, values, type_=postgresql.ARRAY(item_type))
        )
    each = func.json_each(type_coerce(json.dumps(values), String)).table_valued("value")
    return column.in_(select(each.c.value))


def lock_key(*parts: str) -> int:
    """A stable signed 64-bit key for a PostgreSQL advisory lock."""
    import hashlib

    digest = hashlib.blake2b("\0".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def advisory_lock(session: Any, *names: tuple[str, ...]) -> None:
    """On PostgreSQL, take transaction-scoped advisory locks on ``names``.

    Locks are taken in one deterministic order (sorted keys), so two
    transactions locking overlapping names never deadlock. They are released at
    commit or rollback. SQLite needs none: its writers hold the database lock
    from ``BEGIN IMMEDIATE`` on.

    Example:
        >>> advisory_lock(session, ("core_ulabel",), ("family", "abc"))
    """
    if not names or session.get_bind().dialect.name != "postgresql":
        return
    for key in sorted({lock_key(*n) for n in names}):
        session.execute(select(func.pg_advisory_xact_lock(key)))


def insert_ignoring_duplicates(session: Any, table: Any) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` for ``table`` on the session's backend.

    For link rows added by several processes at once: a row another transaction
    committed first is kept, not reported as an error.
    """
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if name == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table).on_conflict_do_nothing()
    from sqlalchemy import insert

    return insert(table)


def raw_columns(
    conn: Any, stmt: Any, params: dict[str, Any] | None = None
) -> dict[str, list[Any]]:
    """Run ``stmt`` and return its result column by column, values as Python sees them.

    Rows come straight from the DBAPI cursor (no per-row ``Row`` objects); each
    column's result processor (booleans and JSON on SQLite, ...) is applied to
    the whole column at once. Keys are the selected columns' labels, in order.

    Example:
        >>> raw_columns(session.connection(), select(ULabel.id, ULabel.name))
        {'id': [1, 2], 'name': ['a', 'b']}
    """
    result = conn.execute(stmt, params) if params else conn.execute(stmt)
    dialect = conn.dialect
    selected = list(stmt.selected_columns)
    if result.cursor is None:  # pragma: no cover - a statement without rows
        return {}
    # the DBAPI's type codes, as SQLAlchemy passes them to result processors
    type_codes = [d[1] for d in result.cursor.description]
    rows = result.cursor.fetchall()
    result.close()
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(selected)
    out: dict[str, list[Any]] = {}
    for i, (col, values) in enumerate(zip(selected, columns, strict=True)):
        impl = col.type.dialect_impl(dialect)
        process = impl.result_processor(dialect, type_codes[i])
        key = getattr(col, "key", None) or f"column_{i}"
        out[key if key not in out else f"{key}_{i}"] = (
            list(values) if process is None else list(map(process, values))
        )
    return out
