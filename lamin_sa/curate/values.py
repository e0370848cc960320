"""Scope, field and value helpers shared by validation, lookup and synonyms."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from lamin_sa.errors import FieldError

if TYPE_CHECKING:
    from lamin_sa.query.queryset import QuerySet


logger = logging.getLogger(__name__)


#: with at most this many distinct values, validation asks the database for the
#: matching ones (one ``IN`` query); with more, it compares against the whole
#: column when the registry is not much larger than the values.
FEW_VALUES = 1_000
#: fetch the whole column when it has at most this many rows per distinct value.
COLUMN_PER_VALUE = 4

SYNONYM_SEP = "|"


# ---- scope, field and values ------------------------------------------------------


def as_queryset(scope: Any) -> QuerySet:
    """The QuerySet of a registry class (all records) or the QuerySet itself."""
    from lamin_sa.query.queryset import QuerySet

    if isinstance(scope, QuerySet):
        return scope
    return QuerySet(scope)


def field_name(model: type, field: Any, *, default: str | None = None) -> str:
    """The column key named by ``field`` (a name or a class attribute).

    Args:
        model: The registry.
        field: A column name, an attribute such as ``ULabel.name``, or None for
            ``default`` (else the registry's ``_name_field``).
        default: The fallback when ``field`` is None.

    Raises:
        FieldError: the registry has no such column, or no default field.
    """
    from lamin_sa.query.compiler import field_error, model_info

    info = model_info(model)
    if field is None:
        name = default or getattr(model, "_name_field", None)
        if not isinstance(name, str):
            raise FieldError(
                f"{model.__name__} has no default name field; pass field=..."
            )
    elif isinstance(field, str):
        name = field
    else:
        name = getattr(field, "key", None)
        owner = getattr(field, "class_", None)
        if not isinstance(name, str) or (
            owner is not None and not issubclass(model, owner)
        ):
            raise FieldError(
                f"field must be a column name or an attribute of {model.__name__}, "
                f"got {field!r}."
            )
    if name not in info.columns:
        raise field_error(info, name, name)
    return name


def column_of(qs: QuerySet, name: str) -> Any:
    return qs.info.table_columns[name]


def has_column(qs: QuerySet, name: str | None) -> bool:
    return bool(name) and name in qs.info.columns


def scoped_select(qs: QuerySet, *columns: Any) -> Any:
    """``SELECT columns`` over the rows of ``qs`` (unordered)."""
    return qs.select(*columns)


def execute(stmt: Any, params: dict[str, Any] | None = None) -> list[Any]:
    """Run a Core statement in the active context; rows as tuples.

    When no selected column needs result processing (plain strings, numbers),
    rows come straight from the DBAPI cursor, skipping SQLAlchemy's per-row
    objects (several times faster for whole columns).
    """
    from lamin_sa.db.session import read as run_read

    return run_read(lambda session: _rows(session.connection(), stmt, params))


def _rows(conn: Any, stmt: Any, params: dict[str, Any] | None = None) -> list[Any]:
    """:func:`execute`'s rows, on a connection of the running read."""
    result = conn.execute(stmt, params) if params else conn.execute(stmt)
    dialect = conn.dialect
    raw = all(
        c.type.dialect_impl(dialect).result_processor(dialect, None) is None
        for c in stmt.selected_columns
    )
    if raw and result.cursor is not None:
        rows = result.cursor.fetchall()
        result.close()
        return rows  # type: ignore[no-any-return]
    return list(result.all())


#: joins a column's values into one aggregated string (the unit separator)
UNIT_SEP = "\x1f"


def _joined_column(col: Any, dialect: str, order_by: Any = None) -> Any:
    """``group_concat``/``string_agg`` of ``col`` with :data:`UNIT_SEP`.

    The separator is SQL text, not a bound parameter: SQLite evaluates a
    parameter (or ``char(31)``) once per row, which makes the aggregate
    about 1.7x slower; PostgreSQL folds ``chr(31)`` to a constant.
    """
    from sqlalchemy import func, literal_column

    if dialect == "postgresql":
        sep: Any = literal_column("chr(31)")
        if order_by is not None:
            from sqlalchemy.dialects.postgresql import aggregate_order_by

            # string_agg(col, sep ORDER BY ...): the ordering wraps the last argument
            return func.string_agg(col, aggregate_order_by(sep, order_by))
        return func.string_agg(col, sep)
    return func.group_concat(col, literal_column(f"'{UNIT_SEP}'"))


def column_values(qs: QuerySet, col: Any, *, ordered: bool = False) -> list[Any]:
    """The non-null values of one column over the rows of ``qs``.

    A text column whose values need no result processing is read as one
    aggregated string and split here: building one row tuple per value costs
    3-4x more than the split (10,000 labels: 7 ms against 2 ms on SQLite).
    Values that contain the separator make the split disagree with the count,
    and the column is then read row by row. The values are kept while the
    database is unchanged (:func:`~lamin_sa.db.readcache.cached_read`); each
    call gets its own list.

    Args:
        qs: The scope.
        col: A column of its table.
        ordered: In id order (else in whatever order the database scans).

    Example:
        >>> column_values(as_queryset(ln.ULabel), ULabel.__table__.c.name)
        ['label 1', 'label 2']
    """
    return list(_column(qs, col, ordered).values)


def column_set(qs: QuerySet, col: Any) -> frozenset[Any]:
    """The distinct non-empty values of one column over the rows of ``qs``.

    Kept with the values of :func:`column_values`: a repeated validation
    against an unchanged registry neither reads nor hashes its column again.

    Example:
        >>> "label 1" in column_set(as_queryset(ln.ULabel), ULabel.__table__.c.name)
        True
    """
    return _column(qs, col, False).distinct()


class _Column:
    """A column's values as read, and their distinct set once asked for."""

    __slots__ = ("_distinct", "values")

    def __init__(self, values: list[Any]) -> None:
        self.values = values
        self._distinct: frozenset[Any] | None = None

    def distinct(self) -> frozenset[Any]:
        if self._distinct is None:
            self._distinct = frozenset(distinct(self.values))
        return self._distinct


def _column(qs: QuerySet, col: Any, ordered: bool) -> _Column:
    """The values of ``col`` over ``qs``, through the read cache."""
    return _cached_stmt(  # type: ignore[no-any-return]
        scoped_select(qs, col),
        ("column", ordered),
        lambda session: _Column(_read_column(session, qs, col, ordered)),
    )


def row_count(qs: QuerySet) -> int:
    """The number of rows of ``qs`` (kept while the database is unchanged).

    Example:
        >>> row_count(as_queryset(ln.ULabel))
        2
    """
    from sqlalchemy import func

    stmt = scoped_select(qs, func.count())

    def count(session: Any) -> int:
        return int(session.connection().execute(stmt).scalar_one())

    return _cached_stmt(stmt, "count", count)


def _cached_stmt(stmt: Any, kind: Any, fn: Callable[[Any], Any]) -> Any:
    from lamin_sa.db.readcache import cached_read, statement_key
    from lamin_sa.db.session import read

    key = statement_key(stmt)
    if key is None:
        return read(fn)
    return cached_read((kind, key), fn)


def _read_column(session: Any, qs: QuerySet, col: Any, ordered: bool) -> list[Any]:
    """The read of :func:`column_values`, in ``session``'s transaction."""
    from operator import itemgetter

    from sqlalchemy import String, func, select

    conn = session.connection()
    pk = qs.info.pk
    engine_dialect = conn.dialect
    impl = col.type.dialect_impl(engine_dialect)
    if isinstance(col.type, String) and not impl.result_processor(engine_dialect, None):
        dialect = engine_dialect.name
        if dialect == "postgresql" or not ordered:
            agg = _joined_column(col, dialect, pk if ordered else None)
            stmt = scoped_select(qs, func.count(col), agg)
        else:
            # SQLite keeps a subquery's ORDER BY for the aggregate above it (it
            # never flattens an ordered subquery into an aggregate query)
            sub = scoped_select(qs, col.label("v")).order_by(pk).subquery()
            stmt = select(func.count(sub.c.v), _joined_column(sub.c.v, dialect))
        n, joined = conn.execute(stmt).one()
        if not n:
            return []
        parts = joined.split(UNIT_SEP)
        if len(parts) == n:
            return parts
    stmt = scoped_select(qs, col).where(col.isnot(None))
    return list(map(itemgetter(0), _rows(conn, stmt.order_by(pk) if ordered else stmt)))


def is_empty(value: Any) -> bool:
    """None, NaN and empty strings never validate."""
    if value is None:
        return True
    if isinstance(value, str):
        return value == ""
    if isinstance(value, float):
        return math.isnan(value)
    return False


def to_list(values: Any) -> tuple[list[Any], bool]:
    """Values as a list (never modified), and whether a single value was passed."""
    if isinstance(values, str):
        return [values], True
    if type(values) is list:
        return values, False
    tolist = getattr(values, "tolist", None)
    if tolist is not None:  # numpy arrays, pandas Series / Index / Categorical
        return list(tolist()), False
    if isinstance(values, dict):
        return list(values), False
    if isinstance(values, Iterable):
        return list(values), False
    return [values], True


def unique(values: list[Any]) -> list[Any]:
    """Distinct non-empty values in order of first appearance."""
    return _drop_empty(list(dict.fromkeys(values)))


def distinct(values: list[Any]) -> set[Any]:
    """Distinct non-empty values (unordered; faster than :func:`unique`)."""
    out = set(values)
    out.discard(None)
    out.discard("")
    if set(map(type, out)) - {str}:
        out = {v for v in out if not is_empty(v)}
    return out


def unique_counting_empty(values: list[Any]) -> tuple[list[Any], int]:
    """:func:`unique` and :func:`count_empty` in one pass over the values.

    The values are counted only when an empty one is among the distinct ones.
    """
    seen = dict.fromkeys(values)
    if set(map(type, seen)) <= {str}:
        if "" not in seen:
            return list(seen), 0
        return [v for v in seen if v], values.count("")
    return _drop_empty(list(seen)), count_empty(values)


def count_empty(values: list[Any]) -> int:
    """How many values are None, NaN or empty strings."""
    n = values.count(None) + values.count("")
    if float in set(map(type, values)):
        n += sum(1 for v in values if isinstance(v, float) and math.isnan(v))
    return n


def _drop_empty(values: list[Any]) -> list[Any]:
    if set(map(type, values)) <= {str}:
        return [v for v in values if v]
    return [v for v in values if not is_empty(v)]


def split_synonyms(text: str | None) -> list[str]:
    """The synonyms stored in a ``|``-joined string."""
    if not text:
        return []
    return [s for s in text.split(SYNONYM_SEP) if s]


def quote_list(values: Iterable[Any], limit: int = 20) -> str:
    """``'a', 'b', ...`` for log messages."""
    values = list(values)
    text = ", ".join(repr(v) for v in values[:limit])
    return text + (", ..." if len(values) > limit else "")


def plural_terms(n: int) -> str:
    return f"{n} term{'' if n == 1 else 's'} {'is' if n == 1 else 'are'}"


def current_dialect() -> Any:
    """The active context's SQLAlchemy dialect."""
    from lamin_sa.db.session import current

    return current().session.get_bind().dialect


def dialect_name() -> str:
    """The active context's database dialect (``sqlite`` or ``postgresql``)."""
    return str(current_dialect().name)
