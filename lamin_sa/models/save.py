"""Saving and deleting records in bulk, one transaction per call."""

from __future__ import annotations

import gc
import logging
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from itertools import chain
from typing import Any

from sqlalchemy import String, func, insert, select
from sqlalchemy import exc as sa_exc
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapper, Session, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.orm.state import InstanceState

from lamin_sa.db.session import current, write_transaction
from lamin_sa.db.sql import advisory_lock, in_values, python_default
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


_KEYS: dict[type, list[tuple[str, ...]]] = {}


def _identity_keys(cls: type) -> list[tuple[str, ...]]:
    """Field tuples that identify a stored record: the natural key, unique columns."""
    keys = _KEYS.get(cls)
    if keys is None:
        keys = []
        natural = getattr(cls, "_natural_key", None)
        if natural:
            keys.append(tuple(natural))
        keys += [(col.key,) for col in _unique_columns(cls)]
        _KEYS[cls] = keys
    return keys


def _resolve_existing(session: Session, records: list[Any]) -> list[Any]:
    """Turn new records whose identity is stored into that stored record.

    The identity is the registry's natural key (e.g. Transform name + version) or
    a unique column (name, handle, root, a passed uid). One query per registry and
    key, whatever the number of records. Returns the records that are really new.

    Raises:
        IntegrityError: two of the new records share an identity.
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
            pending = [r for r in group if id(r) not in taken] if taken else group
            if first == "uid":
                # a fresh random uid cannot be stored already
                pending = [r for r in pending if "_lamin_auto_uid" not in r.__dict__]
            # transient records: the instance dict holds every value that was set
            firsts = [r.__dict__.get(first) for r in pending]
            values = set(firsts)
            values.discard(None)
            if not values:
                continue
            stored: dict[tuple[Any, ...], Any] = {}
            query = select(table).where(in_values(table.c[first], values, dialect))
            for row in session.execute(query).mappings():
                stored.setdefault(tuple(row[f] for f in fields), row)
            if not stored and len(fields) == 1:
                if len(values) == len(firsts) - firsts.count(None):
                    continue  # nothing stored, no two alike: all new
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
        fresh.extend([r for r in group if id(r) not in taken] if taken else group)
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


class _BulkPlan:
    """How records of one registry become rows of one multi-row INSERT (cached)."""

    __slots__ = ("pk", "keys", "names", "defaults", "to_one", "to_many", "sql")

    def __init__(self, cls: type) -> None:
        mapper: Mapper[Any] = sa_inspect(cls)
        self.pk = str(mapper.primary_key[0].key)
        #: attribute keys and column names of the inserted columns, one order
        self.keys: list[str] = []
        self.names: list[str] = []
        self.defaults: dict[str, Any] = {}
        for attr in mapper.column_attrs:
            col = attr.columns[0]
            if col.key == self.pk:
                continue
            self.keys.append(attr.key)
            self.names.append(col.key)
            default = python_default(col)
            if default is not None:
                self.defaults[attr.key] = default
        self.to_one: list[tuple[str, str, str]] = []
        for rel in mapper.relationships:
            if rel.direction.name == "MANYTOONE" and not rel.viewonly:
                ((local, remote),) = rel.local_remote_pairs
                self.to_one.append(
                    (
                        rel.key,
                        mapper.get_property_by_column(local).key,
                        str(remote.key),
                    )
                )
        self.to_many = frozenset(r.key for r in mapper.relationships if r.uselist)
        #: the compiled INSERT and its columns' bind processors, per dialect
        self.sql: dict[str, tuple[str, list[Any]]] = {}

    def flatten_to_one(self, record: Any) -> bool:
        """Copy ids of assigned to-one records into FK columns; False if not possible.

        A record that sets a to-many collection, or refers to an unsaved record,
        needs the unit of work.
        """
        state = record.__dict__
        if not self.to_many.isdisjoint(state.keys()):
            return False
        for key, fk_key, remote_key in self.to_one:
            target = state.get(key)
            if target is None:
                continue
            value = getattr(target, remote_key, None)
            if value is None:
                return False
            if state.get(fk_key) is None:
                setattr(record, fk_key, value)
        return True

    def columns(self, dicts: list[dict[str, Any]]) -> tuple[list[list[Any]], set[int]]:
        """The inserted values column by column, and which columns hold one value.

        Defaults are stored on the records, computed once per batch (one
        timestamp, one user); the records are committed right after the insert,
        so they need no attribute history.
        """
        out, constant = [], set()
        n = len(dicts)
        for i, key in enumerate(self.keys):
            values = [d.get(key) for d in dicts]
            default = self.defaults.get(key)
            if default is not None and None in values:
                value = default()
                if values.count(None) == n:
                    for d in dicts:
                        d[key] = value
                    values = [value] * n
                    constant.add(i)
                else:
                    for d, v in zip(dicts, values, strict=True):
                        if v is None:
                            d[key] = value
                    values = [value if v is None else v for v in values]
            out.append(values)
        return out, constant

    def statement(self, table: Any, dialect: Any) -> tuple[str, list[Any]]:
        """``INSERT INTO t (columns) VALUES`` and each column's bind processor.

        The primary key is left out; on SQLite the caller appends one
        ``(?, ...)`` group per row.
        """
        cached = self.sql.get(dialect.name)
        if cached is None:
            quote = dialect.identifier_preparer.quote
            head = (
                f"INSERT INTO {quote(table.name)} "
                f"({', '.join(quote(n) for n in self.names)}) VALUES "
            )
            procs = [
                table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
                for name in self.names
            ]
            cached = self.sql[dialect.name] = (head, procs)
        return cached


_PLANS: dict[type, _BulkPlan] = {}


def _bulk_plan(cls: type) -> _BulkPlan:
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = _BulkPlan(cls)
    return plan


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
        simple: list[Any] = []
        for r in group:
            (simple if plan.flatten_to_one(r) else rest).append(r)
        if simple:
            _insert_rows(session, cls, plan, simple)
    return rest


def _insert_rows(
    session: Session, cls: type, plan: _BulkPlan, records: list[Any]
) -> None:
    table = cls.__table__  # type: ignore[attr-defined]
    pk = plan.pk
    dicts = [r.__dict__ for r in records]
    columns, constant = plan.columns(dicts)
    conn = session.connection()
    dialect = conn.dialect
    procs = plan.statement(table, dialect)[1]
    ids: Sequence[int]
    # bound values, converted by the columns' own types (once per repeated value)
    plan_values = [
        col
        if proc is None
        else [proc(col[0])] * len(col)
        if i in constant
        else _processed(proc, col)
        for i, (proc, col) in enumerate(zip(procs, columns, strict=True))
    ]
    if dialect.name == "sqlite" and len(records) == 1:
        # one row (a single artifact's save): its rowid, no query for the maximum
        head = plan.statement(table, dialect)[0]
        group = "(" + ", ".join(["?"] * len(plan_values)) + ")"
        result = conn.exec_driver_sql(head + group, tuple(c[0] for c in plan_values))
        ids = [result.lastrowid]
    elif dialect.name == "sqlite" and conn.get_execution_options().get("lamin_write"):
        # We hold SQLite's write lock (BEGIN IMMEDIATE): ids after the current
        # maximum are ours, and plain multi-row INSERTs are far faster than
        # RETURNING.
        start = conn.execute(select(func.coalesce(func.max(table.c[pk]), 0))).scalar()
        assert start is not None  # COALESCE(..., 0) always gives a number
        ids = range(start + 1, start + 1 + len(records))
        _insert_sqlite(conn, plan.statement(table, dialect)[0], plan_values)
    elif (
        dialect.name == "postgresql"
        and dialect.driver == "psycopg"
        and len(records) >= _BULK_MIN  # a few rows: one INSERT ... RETURNING
    ):
        ids = _insert_postgres(conn, table, pk, plan.names, plan_values)
    else:
        rows = [
            dict(zip(plan.names, row, strict=True))
            for row in zip(*columns, strict=True)
        ]
        ids = (
            conn.execute(
                insert(table).returning(table.c[pk], sort_by_parameter_order=True), rows
            )
            .scalars()
            .all()
        )
    _attach_persistent(session, cls, records, dicts, pk, ids)


def _insert_sqlite(conn: Any, head: str, columns: list[list[Any]]) -> None:
    """Insert rows given column-wise with multi-row ``VALUES`` statements.

    Up to 1,000 rows per statement (within SQLite's bound-parameter limit): a
    third less CPU than the driver's executemany of one row per step, and no
    SQLAlchemy parameter bookkeeping per row.
    """
    width = len(columns)
    limit = _sqlite_variable_limit(conn)
    per_statement = max(1, min(1000, limit // width))
    group = "(" + ", ".join(["?"] * width) + ")"
    n = len(columns[0])
    for start in range(0, n, per_statement):
        stop = min(start + per_statement, n)
        params = tuple(
            chain.from_iterable(zip(*(c[start:stop] for c in columns), strict=True))
        )
        conn.exec_driver_sql(head + ", ".join([group] * (stop - start)), params)


def _insert_postgres(
    conn: Any, table: Any, pk: str, names: list[str], columns: list[list[Any]]
) -> list[int]:
    """``COPY`` the rows, with ids drawn from the table's sequence beforehand.

    One round trip for the ids and a COPY stream for the rows: a fraction of the
    client and server time of multi-row ``INSERT ... RETURNING``. Errors come
    back as SQLAlchemy's (an ``IntegrityError`` for a violated constraint).
    """
    quote = conn.dialect.identifier_preparer.quote
    n = len(columns[0])
    ids = sorted(
        conn.execute(
            select(
                func.nextval(func.pg_get_serial_sequence(quote(table.name), pk))
            ).select_from(func.generate_series(1, n))
        ).scalars()
    )
    cols = ", ".join(quote(c) for c in [pk, *names])
    sql = f"COPY {quote(table.name)} ({cols}) FROM STDIN"
    dbapi = conn.connection.dbapi_connection
    try:
        with dbapi.cursor() as cursor, cursor.copy(sql) as copy:
            for row in zip(ids, *columns, strict=True):
                copy.write_row(row)
    except dbapi.Error as e:
        raise sa_exc.DBAPIError.instance(sql, None, e, type(dbapi).Error) from e
    return ids


def _sqlite_variable_limit(conn: Any) -> int:
    """How many ``?`` parameters one statement may have on this connection."""
    dbapi = conn.connection.dbapi_connection
    try:
        return int(dbapi.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    except (AttributeError, sqlite3.Error):  # an older driver: SQLite's old limit
        return 999


def _processed(proc: Any, values: list[Any]) -> list[Any]:
    """``values`` through a bind processor, once per distinct value if they repeat.

    Batch defaults (one timestamp for all records) repeat one object.
    """
    try:
        distinct = set(values)
    except TypeError:  # unhashable values (JSON): convert each
        distinct = None
    if distinct is not None and len(distinct) * 4 <= len(values):
        converted = {v: None if v is None else proc(v) for v in distinct}
        return list(map(converted.__getitem__, values))
    return [None if v is None else proc(v) for v in values]


def _attach_persistent(
    session: Session,
    cls: type,
    records: list[Any],
    dicts: list[dict[str, Any]],
    pk: str,
    ids: Any,
) -> None:
    """Make inserted ``records`` persistent in ``session`` with their new ids.

    Done in bulk, not per object as ``session.add`` (a cascade walk each) and a
    flush would. The records join the transaction's new objects, so a rollback
    turns them transient again, as it does for flushed objects.
    """
    mapper: Mapper[Any] = sa_inspect(cls)
    ident_cls, _, token = mapper.identity_key_from_primary_key((0,))
    states = [instance_state(r) for r in records]
    for state, d, id_ in zip(states, dicts, ids, strict=True):
        d[pk] = id_
        state.key = (ident_cls, (id_,), token)
    InstanceState._commit_all_states((s, s.dict) for s in states)
    transaction = session.get_nested_transaction() or session.get_transaction()
    new = transaction._new if transaction is not None else None
    identity_map = session.identity_map
    dispatch = session.dispatch
    if (
        dispatch.before_attach
        or dispatch.after_attach
        or dispatch.detached_to_persistent
    ):
        for state in states:
            obj = state.obj()
            session._before_attach(state, obj)
            identity_map.add(state)
            session._after_attach(state, obj)
    else:
        # what _before_attach/_after_attach do when nobody listens: records
        # attached to another session are refused there
        session._before_attach(states[0], states[0].obj())
        hash_key = session.hash_key
        for state in states:
            if state.session_id is not None and state.session_id != hash_key:
                session._before_attach(state, state.obj())
            state.session_id = hash_key
            identity_map.add(state)
    if new is not None:
        for state in states:
            new[state] = True


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
            new, detached = [], []
            for r in records:
                state = instance_state(r)
                if state.transient:
                    new.append(r)
                elif state.detached:
                    detached.append(r)
            # PostgreSQL: writers of new records of one registry take turns, so
            # a name saved by another process meanwhile is found, not inserted
            # twice (SQLite's BEGIN IMMEDIATE already serializes writers)
            tables = {type(r).__table__.name for r in new}  # type: ignore[attr-defined]
            advisory_lock(session, *((t, "save") for t in tables))
            fresh = _resolve_existing(session, new)
            bar.advance()
            session.add_all(bulk_insert(session, fresh))
            session.add_all(detached)
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
