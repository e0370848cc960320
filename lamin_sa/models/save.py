"""Saving and deleting records in bulk, one transaction per call."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.orm import make_transient_to_detached

from lamin_sa.db.session import current, write_transaction
from lamin_sa.errors import IntegrityError

logger = logging.getLogger("lamin_sa")


def _unique_columns(cls: type) -> list[Any]:
    table = cls.__table__  # type: ignore[attr-defined]
    cols = [c for c in table.columns if c.unique and not c.primary_key]
    for constraint in table.constraints:
        if getattr(constraint, "columns", None) is not None and len(
            constraint.columns
        ) == 1 and constraint.__class__.__name__ == "UniqueConstraint":
            col = next(iter(constraint.columns))
            if not col.primary_key and col not in cols:
                cols.append(col)
    # the human key (name, handle, root) first: it decides which record we mean
    name = getattr(cls, "_name_field", None)
    cols.sort(key=lambda c: c.key != name)
    return cols


def _resolve_existing(session: Any, records: list[Any]) -> list[Any]:
    """Turn new records whose unique name or uid is stored into that stored record.

    One query per registry and unique column, whatever the number of records.
    Returns the records that are really new.
    """
    by_class: dict[type, list[Any]] = defaultdict(list)
    for r in records:
        by_class[type(r)].append(r)
    fresh: list[Any] = []
    for cls, group in by_class.items():
        mapper = sa_inspect(cls)
        taken: set[int] = set()
        for col in _unique_columns(cls):
            key = mapper.get_property_by_column(col).key
            pending = [r for r in group if id(r) not in taken]
            values = {getattr(r, key) for r in pending} - {None}
            if not values:
                continue
            stored: dict[Any, Any] = {}
            for chunk in _chunks(sorted(values, key=str), 900):
                for row in session.execute(
                    select(cls.__table__).where(col.in_(chunk))  # type: ignore[attr-defined]
                ).mappings():
                    stored[row[col.key]] = row
            seen: dict[Any, Any] = {}
            for r in pending:
                value = getattr(r, key)
                if value in stored:
                    _become_stored(session, r, stored[value], key, value)
                    taken.add(id(r))
                elif value in seen:
                    raise IntegrityError(
                        f"Two new {cls.__name__} records share {key}={value!r}; "
                        "save only one of them."
                    )
                elif value is not None:
                    seen[value] = r
        fresh.extend(r for r in group if id(r) not in taken)
    return fresh


def _become_stored(session: Any, record: Any, row: Any, key: str, value: Any) -> None:
    mapper = sa_inspect(type(record))
    identity = mapper.identity_key_from_primary_key(
        [row[c.key] for c in mapper.primary_key]
    )
    existing = session.identity_map.get(identity)
    if existing is not None:
        session.expunge(existing)
    for attr in mapper.column_attrs:
        setattr(record, attr.key, row[attr.columns[0].key])
    make_transient_to_detached(record)
    session.add(record)
    logger.warning(
        "returning existing %s record with same %s: %r",
        type(record).__name__,
        key,
        value,
    )


def _chunks(values: list[Any], n: int) -> Iterable[list[Any]]:
    for i in range(0, len(values), n):
        yield values[i : i + n]


def save_records(records: Iterable[Any]) -> None:
    """Insert new and update changed records in one transaction.

    Raises:
        IntegrityError: a constraint failed; nothing was saved.
    """
    records = list(records)
    if not records:
        return
    ctx = current()
    try:
        with write_transaction(ctx) as session:
            new = [r for r in records if sa_inspect(r).transient]
            fresh = _resolve_existing(session, new)
            session.add_all(fresh)
            for r in records:
                state = sa_inspect(r)
                if state.detached:
                    session.add(r)
            session.flush()
    except sa_exc.IntegrityError as e:
        raise IntegrityError(
            f"Nothing was saved: {_constraint_message(e)}"
        ) from e


def delete_records(records: Iterable[Any]) -> None:
    """Delete records in one transaction.

    Raises:
        IntegrityError: a record is still referenced; nothing was deleted.
    """
    records = list(records)
    ctx = current()
    try:
        with write_transaction(ctx) as session:
            for r in records:
                state = sa_inspect(r)
                if state.transient:
                    continue
                if state.detached:
                    r = session.merge(r, load=True)
                session.delete(r)
            session.flush()
    except sa_exc.IntegrityError as e:
        names = ", ".join(type(r).__name__ for r in records[:3])
        raise IntegrityError(
            f"Cannot delete {names}: it is still referenced by other records; "
            f"delete or unlink those first ({_constraint_message(e)})."
        ) from e


def _constraint_message(error: sa_exc.IntegrityError) -> str:
    text = str(error.orig).splitlines()[0] if error.orig is not None else str(error)
    return text[:300]
