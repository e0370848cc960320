"""Writes and reads through to-many relationships (the related-manager methods)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, delete, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import RelationshipDirection, RelationshipProperty, Session

from lamin_sa.db.context import FOREIGN_CONTEXT, DBContext
from lamin_sa.db.session import current, write_connection, write_transaction
from lamin_sa.db.sql import insert_ignoring_duplicates, python_default
from lamin_sa.errors import FieldError, NotSavedError

if TYPE_CHECKING:
    from lamin_sa.query.queryset import QuerySet


def _relationship(owner: Any, key: str) -> RelationshipProperty[Any]:
    return sa_inspect(type(owner)).relationships[key]


def _require_saved(records: list[Any], what: str) -> None:
    unsaved = [r for r in records if getattr(r, "id", None) is None]
    if unsaved:
        raise NotSavedError(
            f"Save the {what} first ({unsaved[0]!r}): links need stored records."
        )


def _extend_loaded(
    session: Session,
    owner: Any,
    key: str,
    prop: RelationshipProperty[Any],
    linked: list[Any],
) -> None:
    """Append newly linked records to the collections that are loaded already.

    Loaded collections reflect the database; ``linked`` are exactly the links
    just inserted, so appending them keeps them right without a reload (reloading
    every linked record after each ``add()`` made linking quadratic). Collections
    not loaded stay unloaded; ordered ones are expired (an append could misplace).
    """
    if prop.order_by:
        _expire(session, owner, key, prop, linked)
        return
    loaded = owner.__dict__.get(key)
    if loaded is not None:
        loaded._items.extend(linked)
    back = prop.back_populates
    if back:
        for record in linked:
            reverse = record.__dict__.get(back)
            if reverse is not None:
                reverse._items.append(owner)


def _expire(
    session: Session,
    owner: Any,
    key: str,
    prop: RelationshipProperty[Any],
    records: list[Any],
) -> None:
    # The loaded collections are stale now; the next access reloads them.
    if owner in session:
        session.expire(owner, [key])
    back = prop.back_populates
    if back:
        for record in records:
            if record in session:
                session.expire(record, [back])


class _LinkSpec:
    """How ``owner.key`` links through its link table, worked out once per field.

    ``add()`` is called once per link in loops; finding the columns and the owner's
    and target's attribute keys through the mappers each time cost about as much
    as the insert.
    """

    def __init__(self, prop: RelationshipProperty[Any]) -> None:
        # a relationship through a secondary table has both pair lists
        assert prop.secondary_synchronize_pairs is not None
        ((owner_col, left),) = [(a, b) for a, b in prop.synchronize_pairs]
        ((target_col, right),) = [(a, b) for a, b in prop.secondary_synchronize_pairs]
        self.table = prop.secondary
        self.left, self.right = left, right
        self.owner_key = (
            sa_inspect(prop.parent.class_).get_property_by_column(owner_col).key
        )
        self.target_key = (
            sa_inspect(prop.mapper.class_).get_property_by_column(target_col).key
        )
        #: (dialect name, given columns) -> the compiled single-link insert
        self.compiled: dict[tuple[str, frozenset[str]], _CompiledInsert] = {}

    def insert_one(self, session: Session, conn: Any, row: dict[str, Any]) -> bool:
        """Insert one link unless it is stored already; True if it went in.

        The statement is compiled once per backend and set of given columns and
        run as driver SQL with the column defaults filled in here: SQLAlchemy's
        per-execution default and parameter processing cost more than the insert.
        """
        key = (conn.dialect.name, frozenset(row))
        compiled = self.compiled.get(key)
        if compiled is None:
            stmt = insert_ignoring_duplicates(session, self.table).returning(self.left)
            compiled = self.compiled[key] = _CompiledInsert(
                stmt, self.table, set(row), conn.dialect
            )
        return compiled.run(conn, row)


class _CompiledInsert:
    """One INSERT compiled for a dialect: driver SQL, parameter order, defaults."""

    def __init__(self, stmt: Any, table: Any, given: set[str], dialect: Any) -> None:
        #: given columns, then those with a Python default (server defaults apply)
        self.names = [
            c.key
            for c in table.columns
            if c.key in given or python_default(c) is not None
        ]
        compiled = stmt.compile(dialect=dialect, column_keys=self.names)
        self.sql = compiled.string
        self.order: list[str] | None = (
            list(compiled.positiontup) if compiled.positional else None
        )
        self.defaults: dict[str, Any] = {}
        self.procs: dict[str, Any] = {}
        for name in self.names:
            col = table.c[name]
            default = python_default(col)
            if name not in given and default is not None:
                self.defaults[name] = default
            proc = col.type.dialect_impl(dialect).bind_processor(dialect)
            if proc is not None:
                self.procs[name] = proc

    def run(self, conn: Any, row: dict[str, Any]) -> bool:
        values = dict(row)
        for name, default in self.defaults.items():
            values[name] = default()
        for name, proc in self.procs.items():
            values[name] = proc(values[name])
        params: Any = (
            values if self.order is None else tuple(values[n] for n in self.order)
        )
        return conn.exec_driver_sql(self.sql, params).first() is not None


_SPECS: dict[tuple[type, str], _LinkSpec] = {}


def _link_spec(owner: Any, key: str, prop: RelationshipProperty[Any]) -> _LinkSpec:
    spec = _SPECS.get((type(owner), key))
    if spec is None:
        spec = _SPECS[(type(owner), key)] = _LinkSpec(prop)
    return spec


def _check_link_fields(
    owner: Any, key: str, prop: RelationshipProperty[Any], fields: dict[str, Any]
) -> None:
    """Refuse link fields the link rows do not have (they would be dropped)."""
    if not fields:
        return
    where = f"{type(owner).__name__}.{key}"
    if prop.secondary is None:
        raise FieldError(
            f"{where} stores no link rows: call add() without {sorted(fields)}."
        )
    own = {left.key for _, left in prop.synchronize_pairs}
    assert prop.secondary_synchronize_pairs is not None  # set with secondary
    own |= {right.key for _, right in prop.secondary_synchronize_pairs}
    allowed = set(prop.secondary.c.keys()) - own - {"id"}
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise FieldError(
            f"The links of {where} have no field {', '.join(map(repr, unknown))}; "
            f"pass one of {', '.join(sorted(allowed))}."
        )


def add_related(
    owner: Any, key: str, records: list[Any], link_fields: dict[str, Any]
) -> None:
    """Link ``records`` to ``owner`` through relationship ``key`` and commit."""
    prop = _relationship(owner, key)
    _require_saved([owner], type(owner).__name__)
    target = prop.mapper.class_
    wrong = [r for r in records if not isinstance(r, target)]
    if wrong:
        raise TypeError(
            f"{type(owner).__name__}.{key} holds {target.__name__} records, got "
            f"{type(wrong[0]).__name__}."
        )
    _require_saved(records, target.__name__)
    if not records:
        return
    _check_link_fields(owner, key, prop, link_fields)
    ctx = current()
    session = ctx.session
    if prop.secondary is not None:
        spec = _link_spec(owner, key, prop)
        left, right = spec.left, spec.right
        owner_value = getattr(owner, spec.owner_key)
        by_value = {getattr(r, spec.target_key): r for r in records}
        values = list(by_value)
        # Core statements only: the kept connection's own transaction serves
        with write_connection(ctx, one_statement=len(values) == 1) as conn:
            # a link another process added meanwhile is kept, not an error
            if len(values) == 1:
                # the common single add: one statement (the unique pair decides)
                # the pairs' columns are Table columns: their keys are never None
                row: dict[Any, Any] = {
                    left.key: owner_value,
                    right.key: values[0],
                    **link_fields,
                }
                new = values if spec.insert_one(session, conn, row) else []
            else:
                existing = set(
                    conn.execute(
                        select(right).where(left == owner_value, right.in_(values))
                    ).scalars()
                )
                new = [v for v in values if v not in existing]
                rows = [
                    {left.key: owner_value, right.key: v, **link_fields} for v in new
                ]
                if rows:
                    conn.execute(insert_ignoring_duplicates(session, spec.table), rows)
        # committed: now the loaded collections may follow
        _extend_loaded(session, owner, key, prop, [by_value[v] for v in new])
        return
    if prop.direction is not RelationshipDirection.ONETOMANY:
        raise TypeError(f"{type(owner).__name__}.{key} is not a to-many field.")
    with write_transaction(ctx) as session:
        ((owner_col, fk_col),) = prop.local_remote_pairs
        owner_value = getattr(
            owner, sa_inspect(type(owner)).get_property_by_column(owner_col).key
        )
        session.execute(
            update(fk_col.table)
            .where(fk_col.table.c.id.in_([r.id for r in records]))
            .values({fk_col.key: owner_value})
        )
        _expire(session, owner, key, prop, records)


def remove_related(owner: Any, key: str, records: list[Any]) -> None:
    """Unlink ``records`` from ``owner`` through relationship ``key`` and commit."""
    prop = _relationship(owner, key)
    _require_saved([owner], type(owner).__name__)
    _require_saved(records, prop.mapper.class_.__name__)
    if not records:
        return
    ctx = current()
    with write_transaction(ctx) as session:
        if prop.secondary is not None:
            assert prop.secondary_synchronize_pairs is not None
            ((_, left),) = prop.synchronize_pairs
            ((_, right),) = prop.secondary_synchronize_pairs
            session.execute(
                # link tables are always Tables (the stubs say FromClause)
                delete(cast(Table, prop.secondary)).where(
                    left == owner.id, right.in_([r.id for r in records])
                )
            )
        elif prop.direction is RelationshipDirection.ONETOMANY:
            ((_, fk_col),) = prop.local_remote_pairs
            if not fk_col.nullable:
                raise TypeError(
                    f"Cannot unlink: {fk_col.table.name}.{fk_col.key} is required; "
                    "delete the records or point them elsewhere."
                )
            session.execute(
                update(fk_col.table)
                .where(fk_col.table.c.id.in_([r.id for r in records]))
                .values({fk_col.key: None})
            )
        else:
            raise TypeError(f"{type(owner).__name__}.{key} is not a to-many field.")
        _expire(session, owner, key, prop, records)


def _session_context(owner: Any) -> DBContext | None:
    from sqlalchemy.orm import object_session

    session = object_session(owner)
    ctx = session.info.get(FOREIGN_CONTEXT) if session is not None else None
    return ctx if isinstance(ctx, DBContext) else None


def related_queryset(owner: Any, key: str) -> QuerySet:
    """The records related to ``owner`` through ``key`` as a QuerySet."""
    from lamin_sa.query.queryset import QuerySet

    prop = _relationship(owner, key)
    _require_saved([owner], type(owner).__name__)
    qs = QuerySet(prop.mapper.class_, implicit_visibility=False)
    # a record read from another instance reads its related records there too
    qs = qs.bind(_session_context(owner))
    qs = qs.where(prop._with_parent(owner, alias_secondary=False))
    if prop.order_by:
        qs = qs.order_by(*prop.order_by)
    return qs
