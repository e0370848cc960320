"""Saving and deleting records in bulk, one transaction per call."""

from __future__ import annotations

import gc
import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import String, func, insert, select
from sqlalchemy import exc as sa_exc
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapper, Session, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_state

from lamin_sa.db.session import current, write_transaction
from lamin_sa.db.sql import advisory_lock, in_values
from lamin_sa.errors import IntegrityError, ValidationError
from lamin_sa.models.record import after_insert
from lamin_sa.progress import steps

logger = logging.getLogger(__name__)


def _unique_columns(cls: type) -> list[Any]:
    table = cls.__table__  # type: ignore[attr-defined]
    cols = [c for c in table.columns if c.unique and not c.primary_key]
    for constraint in table.constraints:
        if (
            getattr(constraint, "columns", None) is not None
            and len(constraint.columns) == 1
            and constraint.__class__.__name__ == "UniqueConstraint"
        ):
            col = next(iter(constraint.columns))
            if not col.primary_key and col not in cols:
                cols.append(col)
    # the human key (name, handle, root) first: it decides which record we mean
    name = getattr(cls, "_name_field", None)
    cols.sort(key=lambda c: c.key != name)
    return cols


def _identity_keys(cls: type) -> list[tuple[str, ...]]:
    """Field tuples that identify a stored record: the natural key, unique columns."""
    keys: list[tuple[str, ...]] = []
    natural = getattr(cls, "_natural_key", None)
    if natural:
        keys.append(tuple(natural))
    keys += [(col.key,) for col in _unique_columns(cls)]
    return keys


def _resolve_existing(session: Session, records: list[Any]) -> list[Any]:
    """Turn new records whose identity is stored into that stored record.

    The identity is the registry's natural key (e.g. Transform name + version) or
    a unique column (name, handle, root, a passed uid). One query per registry and
    key, whatever the number of records. Returns the records that are really new.
    """
    by_class: dict[type, list[Any]] = defaultdict(list)
    for r in records:
        by_class[type(r)].append(r)
    fresh: list[Any] = []
    dialect = session.get_bind().dialect.name
    for cls, group in by_class.items():
        table = cls.__table__  # type: ignore[attr-defined]
        taken: set[int] = set()
        for fields in _identity_keys(cls):
            first = fields[0]
            pending = [
                r
                for r in group
                if id(r) not in taken
                and not (first == "uid" and r.__dict__.get("_lamin_auto_uid"))
            ]
            values = {getattr(r, first) for r in pending} - {None}
            if not values:
                continue
            stored: dict[tuple[Any, ...], Any] = {}
            query = select(table).where(in_values(table.c[first], values, dialect))
            for row in session.execute(query).mappings():
                stored.setdefault(tuple(row[f] for f in fields), row)
            seen: set[tuple[Any, ...]] = set()
            for r in pending:
                key = tuple(getattr(r, f) for f in fields)
                if key[0] is None:
                    continue
                if key in stored:
                    _become_stored(session, r, stored[key], fields, key)
                    taken.add(id(r))
                elif key in seen:
                    raise IntegrityError(
                        f"Two new {cls.__name__} records share "
                        f"{_describe_key(fields, key)}; save only one of them."
                    )
                else:
                    seen.add(key)
        fresh.extend(r for r in group if id(r) not in taken)
    return fresh


def _describe_key(fields: tuple[str, ...], key: tuple[Any, ...]) -> str:
    return ", ".join(f"{f}={v!r}" for f, v in zip(fields, key, strict=True))


def adopt_stored(session: Session, record: Any, row: Any) -> None:
    """Make the new ``record`` the stored record ``row`` (its columns and identity).

    A record already loaded with that identity leaves the session: ``record`` takes
    its place, so callers keep using the object they constructed.
    """
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


def _become_stored(
    session: Session,
    record: Any,
    row: Any,
    fields: tuple[str, ...],
    key: tuple[Any, ...],
) -> None:
    adopt_stored(session, record, row)
    logger.warning(
        "returning existing %s record with same %s",
        type(record).__name__,
        _describe_key(fields, key),
    )


_BULK_MIN = 20


def bulk_insert(
    session: Session, records: list[Any], min_rows: int = _BULK_MIN
) -> list[Any]:
    """Insert plain new records with one multi-row INSERT per registry.

    Records that set to-many collections or refer to unsaved records are returned
    for the unit of work; the others become persistent records in ``session``.
    Registries with fewer than ``min_rows`` new records use the unit of work.
    """
    by_class: dict[type, list[Any]] = defaultdict(list)
    rest: list[Any] = []
    for r in records:
        by_class[type(r)].append(r)
    for cls, group in by_class.items():
        if len(group) < min_rows:
            rest.extend(group)
            continue
        plan = _bulk_plan(cls)
        simple = [r for r in group if _flatten_to_one(r, plan)]
        rest.extend(r for r in group if r not in simple) if len(simple) < len(
            group
        ) else None
        if not simple:
            continue
        defaults = {key: fn() for key, fn in plan["defaults"]}
        rows = []
        for r in simple:
            state = r.__dict__
            row = {}
            for key, col in plan["columns"]:
                value = state.get(key)
                if value is None and key in defaults:
                    # committed right after the insert, so no history needed
                    value = state[key] = defaults[key]
                row[col] = value
            rows.append(row)
        _insert_rows(session, cls, plan["pk"], simple, rows)
    return rest


def _insert_rows(
    session: Session, cls: type, pk: str, records: list[Any], rows: list[dict[str, Any]]
) -> None:
    table = cls.__table__  # type: ignore[attr-defined]
    conn = session.connection()
    if conn.dialect.name == "sqlite" and conn.get_execution_options().get(
        "lamin_write"
    ):
        # We hold SQLite's write lock (BEGIN IMMEDIATE): ids after the current
        # maximum are ours, and a plain executemany is far faster than RETURNING.
        start = conn.execute(select(func.coalesce(func.max(table.c[pk]), 0))).scalar()
        assert start is not None  # COALESCE(..., 0) always gives a number
        ids = list(range(start + 1, start + 1 + len(rows)))
        for row, id_ in zip(rows, ids, strict=True):
            row[pk] = id_
        _executemany_sqlite(conn, table, rows)
    else:
        ids = list(
            conn.execute(
                insert(table).returning(table.c[pk], sort_by_parameter_order=True),
                rows,
            ).scalars()
        )
    mapper: Mapper[Any] = sa_inspect(cls)
    states = []
    for r, id_ in zip(records, ids, strict=True):
        r.__dict__[pk] = id_
        state = instance_state(r)
        state.key = mapper.identity_key_from_primary_key((id_,))
        state._commit_all(state.dict)
        states.append(state)
    # Attach as persistent without a per-object cascade walk (what add() does).
    for state in states:
        session._before_attach(state, state.obj())
        session.identity_map.add(state)
        session._after_attach(state, state.obj())


def _memo(proc: Any) -> Any:
    """Reuse the last conversion: batch defaults (timestamps) repeat one object."""
    if proc is None:
        return None
    last: list[Any] = [object(), None]

    def convert(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, proc(value)
        return last[1]

    return convert


def _executemany_sqlite(conn: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    """One compiled INSERT run through the driver's executemany.

    Type conversion happens once per value with the columns' own bind processors;
    this skips SQLAlchemy's per-row parameter bookkeeping (the bulk-save hot path).
    """
    dialect = conn.dialect
    cache_key = (table, tuple(rows[0]), dialect.name)
    cached = _COMPILED.get(cache_key)
    if cached is None:  # compiling costs ~0.3 ms: once per table and columns
        compiled = insert(table).compile(dialect=dialect, column_keys=list(rows[0]))
        order = list(compiled.positiontup or [])
        cached = _COMPILED[cache_key] = (compiled.string, order)
    sql, order = cached
    procs = [
        _memo(table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
        for name in order
    ]
    data = [
        tuple(
            p(row[name]) if p is not None and row[name] is not None else row[name]
            for name, p in zip(order, procs, strict=True)
        )
        for row in rows
    ]
    conn.exec_driver_sql(sql, data)


_COMPILED: dict[tuple[Any, ...], tuple[str, list[str]]] = {}
_PLANS: dict[type, dict[str, Any]] = {}


def _bulk_plan(cls: type) -> dict[str, Any]:
    plan = _PLANS.get(cls)
    if plan is None:
        mapper: Mapper[Any] = sa_inspect(cls)
        pk = mapper.primary_key[0].key
        columns, defaults = [], []
        for attr in mapper.column_attrs:
            col = attr.columns[0]
            if col.key == pk:
                continue
            columns.append((attr.key, col.key))
            default = col.default
            if default is not None:
                if default.is_callable:
                    defaults.append((attr.key, lambda d=default: d.arg(None)))
                elif default.is_scalar:
                    defaults.append((attr.key, lambda d=default: d.arg))
        to_one = []
        for rel in mapper.relationships:
            if rel.direction.name == "MANYTOONE" and not rel.viewonly:
                ((local, remote),) = rel.local_remote_pairs
                to_one.append(
                    (rel.key, mapper.get_property_by_column(local).key, remote.key)
                )
        to_many = [r.key for r in mapper.relationships if r.uselist]
        plan = {
            "pk": pk,
            "columns": columns,
            "defaults": defaults,
            "to_one": to_one,
            "to_many": to_many,
        }
        _PLANS[cls] = plan
    return plan


def _flatten_to_one(record: Any, plan: dict[str, Any]) -> bool:
    """Copy ids of assigned to-one records into FK columns; False if not possible."""
    state = record.__dict__
    if any(key in state for key in plan["to_many"]):
        return False
    for key, fk_key, remote_key in plan["to_one"]:
        if key in state:
            target = state[key]
            if target is None:
                continue
            value = getattr(target, remote_key, None)
            if value is None:
                return False
            state_fk = state.get(fk_key)
            if state_fk is None:
                setattr(record, fk_key, value)
    return True


_LIMITS: dict[type, tuple[tuple[tuple[str, int], ...], str | None]] = {}


def _limits(cls: type) -> tuple[tuple[tuple[str, int], ...], str | None]:
    """``((attribute, max length), ...)`` and the required name field of ``cls``."""
    limits = _LIMITS.get(cls)
    if limits is None:
        lengths, name = [], None
        name_field = getattr(cls, "_name_field", None)
        mapper: Mapper[Any] = sa_inspect(cls)
        for attr in mapper.column_attrs:
            col = attr.columns[0]
            length = getattr(col.type, "length", None)
            if isinstance(col.type, String) and length:
                lengths.append((attr.key, int(length)))
                if attr.key == name_field and not col.nullable:
                    name = attr.key
        limits = _LIMITS[cls] = (tuple(lengths), name)
    return limits


def validate_fields(records: Iterable[Any]) -> None:
    """Refuse values the database would refuse (or, on SQLite, silently keep).

    SQLite does not enforce ``VARCHAR(n)``; PostgreSQL does. Checking here gives
    both backends the same limits and one clear error before anything is written.
    A required name that is empty or only whitespace is refused too.

    Raises:
        ValidationError: A string is longer than its column, or a name is empty.

    Example:
        >>> validate_fields([ULabel(name="x" * 300)])
        Traceback (most recent call last):
        ValidationError: ULabel.name has 300 characters; the limit is 255 ...
    """
    for r in records:
        lengths, name = _limits(type(r))
        state = r.__dict__
        for key, limit in lengths:
            value = state.get(key)
            if isinstance(value, str) and len(value) > limit:
                raise ValidationError(
                    f"{type(r).__name__}.{key} has {len(value)} characters; the "
                    f"limit is {limit}: shorten it (starts {value[:40]!r})."
                )
        if name is not None:
            value = state.get(name)
            if isinstance(value, str) and not value.strip():
                raise ValidationError(
                    f"{type(r).__name__}.{name} is empty; pass a non-blank {name}."
                )


def save_records(records: Iterable[Any]) -> None:
    """Insert new and update changed records in one transaction.

    Raises:
        IntegrityError: a constraint failed; nothing was saved.
    """
    records = list(records)
    if not records:
        return
    validate_fields(records)
    ctx = current()
    # Bulk saves create many objects at once; the cyclic GC would rescan them all
    # several times (a third of the run time for 10,000 records).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    names = ["looking up stored records", "inserting", "committing"]
    try:
        with (
            steps(
                f"saving {len(records)} records",
                names,
                work=len(records),
                unit="record",
            ) as bar,
            write_transaction(ctx) as session,
        ):
            new = [r for r in records if instance_state(r).transient]
            # PostgreSQL: writers of new records of one registry take turns, so
            # a name saved by another process meanwhile is found, not inserted
            # twice (SQLite's BEGIN IMMEDIATE already serializes writers)
            advisory_lock(session, *{(type(r).__table__.name, "save") for r in new})
            fresh = _resolve_existing(session, new)
            bar.advance()
            session.add_all(bulk_insert(session, fresh))
            for r in records:
                if instance_state(r).detached:
                    session.add(r)
            session.flush()
            after_insert(session, new)  # registries add related rows (hook)
            bar.advance()
    except sa_exc.IntegrityError as e:
        raise IntegrityError(f"Nothing was saved: {_constraint_message(e)}") from e
    finally:
        if gc_was_enabled:
            gc.enable()


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
