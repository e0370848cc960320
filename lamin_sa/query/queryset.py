"""``QuerySet``: an immutable, lazy query over one registry.

A QuerySet wraps the criteria, ordering and slice of a SQLAlchemy ``select()``;
every method returns a new QuerySet, and nothing runs until results are needed.
Host applications can take the statement (``qs.statement``) and compose it.
"""

from __future__ import annotations

import builtins
import numbers
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Select, Text, cast, func, select
from sqlalchemy import exc as sa_exc
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import RelationshipProperty, Session, aliased
from sqlalchemy.sql.elements import ColumnElement, True_

from lamin_sa.db.context import DBContext
from lamin_sa.db.session import read
from lamin_sa.db.sql import raw_columns
from lamin_sa.errors import (
    FieldError,
    LaminSAError,
    MultipleResultsFound,
    NoResultFound,
    ValidationError,
)
from lamin_sa.query.compiler import (
    SEP,
    ModelInfo,
    RelInfo,
    compile_exclude,
    compile_filter,
    model_info,
    resolve_field,
)
from lamin_sa.query.frame import frame, gc_paused
from lamin_sa.query.q import Q

if TYPE_CHECKING:
    import pandas as pd

T = TypeVar("T")

#: rows shown by ``repr`` and ``_repr_html_``.
REPR_ROWS = 20
HTML_ROWS = 100

_Join = tuple[str, Any, Any]  # (path, aliased entity, ON clause)


#: exact keys that name one record: a call giving one sees every visibility.
_RECORD_KEYS = frozenset({"id", "uid", "pk", "id__exact", "uid__exact", "pk__exact"})


def _lifts_visibility(keys: Iterable[str], exclude: bool) -> bool:
    """Whether a call's keys lift the implicit ``visibility=1`` for that call.

    Any ``visibility`` key does; an exact ``id``/``uid``/``pk`` does in
    ``filter()`` (``id__in``, ``id__gt``, ``uid__startswith`` do not).
    """
    for key in keys:
        if key == "visibility" or key.startswith("visibility__"):
            return True
        if not exclude and key in _RECORD_KEYS:
            return True
    return False


def _like_too_long(error: BaseException) -> bool:
    return "LIKE or GLOB pattern too complex" in str(error)


def _lists(groups: dict[Any, list[Any]], ids: list[Any]) -> Any:
    """One list per id (empty when nothing is linked), as a 1-d object array.

    ``np.fromiter`` keeps each list whole: ``np.array`` would make a 2-d array
    of lists of equal length.
    """
    import numpy as np

    lists = (groups.get(i) or [] for i in ids)
    return np.fromiter(lists, dtype=object, count=len(ids))


class _FramePlan:
    """What ``df()`` reads, built once for an unfiltered QuerySet.

    The main statement with its selected expressions, its columns' names and SQL
    types, and per to-many include its statement for the QuerySet's records and
    one for every record of the table (or None). ``count_all`` counts the table
    when only most of its rows are the QuerySet's (the implicit visibility).
    """

    __slots__ = ("count_all", "names", "selected", "sql_types", "stmt", "to_many")

    def __init__(
        self,
        *,
        stmt: Any,
        selected: list[Any],
        names: list[str],
        sql_types: dict[str, Any],
        to_many: list[tuple[str, Any, Any]],
        count_all: Any = None,
    ) -> None:
        self.stmt = stmt
        self.count_all = count_all
        self.selected = selected
        self.names = names
        self.sql_types = sql_types
        self.to_many = to_many


#: plans of unfiltered QuerySets' ``df()`` by (model, visibility, includes)
_FRAME_PLANS: dict[Any, _FramePlan] = {}
_MAX_FRAME_PLANS = 256


def _groups(session: Session, stmt: Any) -> dict[Any, list[Any]]:
    """The values of ``SELECT owner, value`` grouped by owner, in read order."""
    owners, values = raw_columns(session.connection(), stmt).values()
    groups: dict[Any, list[Any]] = {}
    for owner, value in zip(owners, values, strict=True):
        groups.setdefault(owner, []).append(value)
    return groups


def _read(fn: Callable[[Session], T], ctx: DBContext | None) -> T:
    """:func:`~lamin_sa.db.session.read`, with SQLite's LIKE limit as a clear error."""
    try:
        return read(fn, ctx)
    except sa_exc.OperationalError as e:
        if not _like_too_long(e):
            raise
        raise ValidationError(
            "A contains/startswith/endswith value is too long for SQLite's LIKE "
            "(at most 50,000 bytes): match a shorter part of the text."
        ) from None


def _compose_slice(
    offset: int | None, limit: int | None, start: int, stop: int | None
) -> tuple[int | None, int | None]:
    """Apply ``[start:stop]`` to a window ``OFFSET offset LIMIT limit``."""
    new_offset = (offset or 0) + start
    if stop is None:
        new_limit = None if limit is None else max(0, limit - start)
    else:
        new_limit = max(0, stop - start)
        if limit is not None:
            new_limit = min(new_limit, max(0, limit - start))
    return (new_offset or None), new_limit


class QuerySet:
    """An immutable, lazy query over the records of one model.

    Built by ``Model.filter(...)``, ``Model.exclude(...)``, ``Model.all()`` or
    directly: ``QuerySet(ln.ULabel)``. For models with a ``visibility`` column
    (Artifact, Collection) the first call adds ``visibility == 1`` unless it names
    a ``visibility`` key (``visibility=None`` means all states) or, in
    ``filter()``, an exact ``id``/``uid``/``pk``; later calls keep that decision.

    Args:
        model: The mapped class to query.
        implicit_visibility: Whether to apply the implicit ``visibility == 1``.

    Example:
        >>> qs = ln.Artifact.filter(ulabels=label, description__icontains="x")
        >>> qs.order_by("-created_at").df(include=["ulabels__name"])
    """

    __slots__ = (
        "model",
        "_info",
        "_criteria",
        "_ordering",
        "_joins",
        "_limit",
        "_offset",
        "_implicit_visibility",
        "_cache",
        "_stmt",
        "_annotations",
        "_ctx",
    )

    def __new__(cls, model: type | None = None, *args: Any, **kwargs: Any) -> QuerySet:
        # A registry may name its own QuerySet subclass (``_queryset_class``), e.g.
        # validatable registries get validation methods; the query layer only
        # reads the hook and knows no model.
        if cls is QuerySet and model is not None:
            own = getattr(model, "_queryset_class", None)
            if isinstance(own, type) and issubclass(own, QuerySet):
                cls = own
        return object.__new__(cls)

    def __init__(self, model: type, implicit_visibility: bool = True) -> None:
        check = getattr(model, "check_usable", None)
        if check is not None:  # e.g. a registry of a module the instance lacks
            check()
        self.model = model
        self._info: ModelInfo = model_info(model)
        self._criteria: tuple[ColumnElement[bool], ...] = ()
        self._ordering: tuple[Any, ...] = ()
        self._joins: tuple[_Join, ...] = ()
        self._limit: int | None = None
        self._offset: int | None = None
        self._implicit_visibility = implicit_visibility and self._info.has_visibility
        self._cache: list[Any] | None = None
        self._stmt: Select[Any] | None = None
        #: extra computed columns ``(name, SQL expression)`` that ``df()`` appends.
        self._annotations: tuple[tuple[str, Any], ...] = ()
        #: the context reads go through; None: the active one (see ``bind``).
        self._ctx: DBContext | None = None

    def _clone(self) -> QuerySet:
        qs = object.__new__(type(self))
        qs.model = self.model
        qs._info = self._info
        qs._criteria = self._criteria
        qs._ordering = self._ordering
        qs._joins = self._joins
        qs._limit = self._limit
        qs._offset = self._offset
        qs._implicit_visibility = self._implicit_visibility
        qs._cache = None
        qs._stmt = None
        qs._annotations = self._annotations
        qs._ctx = self._ctx
        return qs

    # ---- building -------------------------------------------------------------

    def _check_unsliced(self, what: str) -> None:
        if self._limit is not None or self._offset is not None:
            raise TypeError(f"Cannot {what} a QuerySet once a slice has been taken.")

    def _add(
        self, queries: tuple[Any, ...], expressions: dict[str, Any], exclude: bool
    ) -> QuerySet:
        self._check_unsliced("exclude" if exclude else "filter")
        compile_ = compile_exclude if exclude else compile_filter
        crit = compile_(self.model, queries, expressions)
        qs = self._clone()
        criteria = list(self._criteria)
        if self._implicit_visibility:
            # decided by this call alone; later calls neither add nor lift it
            qs._implicit_visibility = False
            keys: list[str] = list(expressions)
            for query in queries:
                if isinstance(query, Q):
                    keys.extend(query.keys())
            if not _lifts_visibility(keys, exclude):
                criteria.append(self._visible())
        if not isinstance(crit, True_):
            criteria.append(crit)
        qs._criteria = tuple(criteria)
        return qs

    def filter(self, *queries: Any, **expressions: Any) -> QuerySet:
        """Narrow the query with ``Q`` objects and Django-style lookups.

        Everything in one call (keywords and ``Q`` objects, however combined)
        that shares a to-many prefix must match the same related row; chained
        calls may match different rows. A missing related row counts as NULL.

        Args:
            *queries: ``Q`` objects or SQLAlchemy boolean criteria.
            **expressions: Lookups such as ``name__icontains="x"``,
                ``ulabels=label``, ``transform__name="nb"``, ``id__in=[1, 2]``.
                A field (across relationships with ``__``) ends in one of the
                lookups ``exact`` (the default), ``iexact``, ``contains``,
                ``icontains``, ``startswith``, ``istartswith``, ``endswith``,
                ``iendswith``, ``regex``, ``iregex``, ``in``, ``gt``, ``gte``,
                ``lt``, ``lte``, ``range`` or ``isnull`` (and those modules
                register, see :mod:`lamin_sa.query.lookups`).

        Raises:
            FieldError: an unknown field or lookup (the message names the valid
                fields and the closest match), or text given for a relationship.
            ValidationError: a value that does not fit its column or lookup.

        Example:
            >>> ln.Artifact.filter(description="my RNA-seq").df()
            >>> ln.Artifact.filter(size__gte=1000, key__startswith="raw/")
            >>> ln.Artifact.filter(transform__name__icontains="intro", ulabels=label)
            >>> ln.ULabel.filter(ln.Q(name="DMSO") | ln.Q(name__startswith="IF"))
        """
        return self._add(queries, expressions, exclude=False)

    def exclude(self, *queries: Any, **expressions: Any) -> QuerySet:
        """Drop the records matching all the given lookups (``NOT (...)``).

        As in Django, the conditions of one call need not refer to the same
        related row (each is its own ``NOT EXISTS``); for same-row exclusion
        write ``exclude(ulabels__in=ULabel.filter(a, b))``. Rows whose compared
        column is NULL are kept.

        Example:
            >>> ln.ULabel.filter().exclude(name="DMSO").list("name")
        """
        return self._add(queries, expressions, exclude=True)

    def all(self) -> QuerySet:
        """A fresh copy of the query (its results are fetched anew).

        Example:
            >>> ln.ULabel.filter(name__startswith="IF").all()
        """
        return self._clone()

    def distinct(self) -> QuerySet:
        """A copy; results never contain duplicates, so nothing else is needed.

        Example:
            >>> ln.Artifact.filter(ulabels__name__in=["DMSO", "IFNG"]).distinct()
        """
        return self._clone()

    # ---- the public API for services (no private members across packages) ----

    @property
    def info(self) -> ModelInfo:
        """Cached metadata of the model: ``pk``, ``columns``, ``table_columns``."""
        return self._info

    @property
    def is_sliced(self) -> bool:
        """Whether a slice (``qs[a:b]``, OFFSET/LIMIT) has been taken."""
        return self._limit is not None or self._offset is not None

    def bind(self, ctx: DBContext | None) -> QuerySet:
        """Read through ``ctx`` (another instance's context) instead of the active.

        Example:
            >>> qs = ln.ULabel.filter().bind(other_context)  # doctest: +SKIP
        """
        qs = self._clone()
        qs._ctx = ctx
        return qs

    @property
    def context(self) -> DBContext | None:
        """The context this QuerySet reads through; None for the active one."""
        return self._ctx

    def where(self, *clauses: ColumnElement[bool]) -> QuerySet:
        """Add raw SQLAlchemy criteria.

        Example:
            >>> ln.ULabel.filter().where(ULabel.id.in_([1, 2]))
        """
        qs = self._clone()
        qs._criteria = (*self._criteria, *clauses)
        return qs

    def annotate(self, name: str, expression: Any) -> QuerySet:
        """Add a computed column that ``df()`` appends (e.g. a search score).

        Example:
            >>> ln.ULabel.filter().annotate("has_f", ln.ULabel.name.like("%F%")).df()
        """
        qs = self._clone()
        qs._annotations = (*self._annotations, (name, expression))
        return qs

    def ids(self) -> Select[Any]:
        """``SELECT id`` of the matching records (a subquery for ``IN``).

        Example:
            >>> ln.Artifact.filter(run__in=ln.Run.filter(transform=transform).ids())
        """
        return self._as_id_select()

    def select(self, *columns: Any) -> Select[Any]:
        """An unordered ``SELECT`` of ``columns`` (default: the records).

        It covers the rows of the query; a slice is honoured through an id
        subquery.

        Example:
            >>> stmt = qs.select(ULabel.name).where(ULabel.name.like("a%"))
        """
        if not self.is_sliced:
            return self._select(*columns, joins=(), ordering=())
        ids = self._as_id_select().scalar_subquery()
        return select(*columns or (self.model,)).where(self._info.pk.in_(ids))

    def fetch(self, stmt: Select[Any]) -> list[Any]:
        """The ORM objects a statement selects, read in the active context.

        Example:
            >>> qs = ln.ULabel.filter()
            >>> qs.fetch(qs.select().limit(2))
        """
        return self._fetch(stmt)

    def _join_path(self, hops: tuple[RelInfo, ...], joins: dict[str, Any]) -> Any:
        """Return the entity reached by to-one ``hops``.

        Adds LEFT JOINs to ``joins`` (path -> (alias, ON clause)), one alias per
        path, reusing the aliases already there.
        """
        entity: Any = self.model
        path = ""
        for rel in hops:
            path = f"{path}{SEP}{rel.key}" if path else rel.key
            entry = joins.get(path)
            if entry is not None:
                entity = entry[0]
                continue
            alias: Any = aliased(rel.target)
            if rel.fk is not None:
                onclause = getattr(alias, rel.remote_key) == getattr(entity, rel.fk.key)
            else:
                onclause = getattr(entity, rel.key).of_type(alias)
            joins[path] = (alias, onclause)
            entity = alias
        return entity

    def _field_column(self, key: str, joins: dict[str, Any], what: str) -> Any:
        hops, _, column = resolve_field(self.model, key)
        for rel in hops:
            if rel.to_many:
                raise FieldError(
                    f"Cannot {what} {key!r}: {rel.parent.__name__}.{rel.key} is a "
                    f"to-many relationship (a record has several values); use "
                    f"df(include=[{key!r}]) to see them, or query "
                    f"{rel.target.__name__} and {what} its own fields."
                )
        return getattr(self._join_path(hops, joins), column)

    def order_by(self, *fields: str | Any) -> QuerySet:
        """Order by fields, replacing any previous ordering.

        Args:
            *fields: Field names, ``-name`` for descending, to-one paths like
                ``transform__name`` (LEFT OUTER JOINs), or SQLAlchemy columns.

        Raises:
            FieldError: unknown fields or a to-many path.

        Example:
            >>> ln.ULabel.filter().order_by("-created_at", "name").list("name")
        """
        self._check_unsliced("reorder")
        joins: dict[str, Any] = {}
        ordering: list[Any] = []
        for f in fields:
            if not isinstance(f, str):
                ordering.append(f)
                continue
            desc = f.startswith("-")
            name = f.lstrip("-+")
            column = self._field_column(name, joins, "order by")
            ordering.append(column.desc() if desc else column.asc())
        qs = self._clone()
        qs._ordering = tuple(ordering)
        qs._joins = tuple((p, a, o) for p, (a, o) in joins.items())
        return qs

    def _all_criteria(self) -> tuple[ColumnElement[bool], ...]:
        if self._implicit_visibility:
            return (self._visible(), *self._criteria)
        return self._criteria

    def _visible(self) -> ColumnElement[bool]:
        """The implicit ``visibility == 1``, marked as true for nearly every row."""
        visible = self._info.visible
        assert visible is not None  # only models with a visibility column get here
        return visible

    def _select(
        self,
        *columns: Any,
        joins: Iterable[_Join] | None = None,
        ordering: tuple[Any, ...] | None = None,
        offset: int | None = None,
        limit: int | None = None,
        sliced: bool = True,
    ) -> Select[Any]:
        if columns:
            stmt = select(*columns).select_from(self.model)
        else:
            stmt = select(self.model)
        for _, alias, onclause in self._joins if joins is None else joins:
            stmt = stmt.outerjoin(alias, onclause)
        criteria = self._all_criteria()
        if criteria:
            stmt = stmt.where(*criteria)
        ordering = self._ordering if ordering is None else ordering
        if ordering:
            stmt = stmt.order_by(*ordering)
        if sliced:
            offset = self._offset if offset is None else offset
            limit = self._limit if limit is None else limit
        if offset:
            stmt = stmt.offset(offset)
        if limit is not None:
            stmt = stmt.limit(limit)
        return stmt

    @property
    def statement(self) -> Select[Any]:
        """The SQLAlchemy ``Select`` of the records (compose it freely)."""
        if self._stmt is None:
            self._stmt = self._select()
        return self._stmt

    def _as_id_select(self) -> Select[Any]:
        """``SELECT id`` of the matching records (for ``__in`` subqueries)."""
        pk = self._info.pk
        if self._limit is None and self._offset is None:
            stmt = self._select(pk, joins=(), ordering=())
        else:
            stmt = self._select(pk)
        return stmt.correlate(None)

    # ---- fetching -------------------------------------------------------------

    def _fetch(self, stmt: Select[Any]) -> list[Any]:
        return _read(lambda s: list(s.scalars(stmt).all()), self._ctx)

    def _fetch_all(self) -> list[Any]:
        if self._cache is None:
            self._cache = self._fetch(self.statement)
        return self._cache

    def __iter__(self) -> Iterator[Any]:
        return iter(self._fetch_all())

    def __len__(self) -> int:
        return len(self._fetch_all())

    def __bool__(self) -> bool:
        if self._cache is not None:
            return bool(self._cache)
        return self.exists()

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            if index.step not in (None, 1):
                raise ValidationError("QuerySet slices do not support a step.")
            start = index.start or 0
            if start < 0 or (index.stop is not None and index.stop < 0):
                raise ValidationError("Negative indexing is not supported.")
            qs = self._clone()
            qs._offset, qs._limit = _compose_slice(
                self._offset, self._limit, start, index.stop
            )
            if self._cache is not None:
                qs._cache = self._cache[index]
            return qs
        if not isinstance(index, numbers.Integral) or isinstance(index, bool):
            raise TypeError(
                f"QuerySet indices must be integers or slices, not {index!r}."
            )
        if self._cache is not None:
            return self._cache[index]
        if index < 0:
            raise ValidationError("Negative indexing is not supported.")
        offset, limit = _compose_slice(self._offset, self._limit, int(index), index + 1)
        rows = self._fetch(self._select(offset=offset, limit=limit))
        if not rows:
            raise IndexError(f"QuerySet index {index} out of range.")
        return rows[0]

    def list(self, field: str | None = None) -> list[Any]:
        """The records, or the values of one field, as a list.

        Args:
            field: A column name or a to-one path such as ``transform__name``;
                None gives the records.

        Example:
            >>> ln.ULabel.filter(name__startswith="IF").list("name")
            ['IFNG']
        """
        if field is None:
            return list(self._fetch_all())
        joins = dict((p, (a, o)) for p, a, o in self._joins)
        column = self._field_column(field, joins, "list")
        join_list = [(p, a, o) for p, (a, o) in joins.items()]
        stmt = self._select(column, joins=join_list)
        return self._fetch(stmt)

    def one(self) -> Any:
        """Exactly one record.

        Raises:
            NoResultFound: nothing matches.
            MultipleResultsFound: several records match.

        Example:
            >>> ln.Artifact.filter(ulabels=ulabels.ifng).one()
        """
        record = self.one_or_none()
        if record is None:
            raise NoResultFound(
                f"No {self.model.__name__} record matches the query; check the "
                f"filters (or use .one_or_none() / .first())."
            )
        return record

    def one_or_none(self) -> Any | None:
        """One record or None.

        Raises:
            MultipleResultsFound: several records match.

        Example:
            >>> ln.ULabel.filter(name="none").one_or_none() is None
            True
        """
        if self._cache is not None:
            rows = self._cache
        else:
            offset, limit = _compose_slice(self._offset, self._limit, 0, 2)
            rows = self._fetch(self._select(offset=offset, limit=limit))
        if len(rows) > 1:
            raise MultipleResultsFound(
                f"More than one {self.model.__name__} record matches the query; "
                f"add filters, or use .first() or iterate."
            )
        return rows[0] if rows else None

    def first(self) -> Any | None:
        """The first record (by the ordering, else by id), or None.

        Example:
            >>> ln.Artifact.filter(description="my RNA-seq").first()
        """
        if self._cache is not None and self._ordering:
            return self._cache[0] if self._cache else None
        ordering = self._ordering or (self._info.pk.asc(),)
        offset, limit = _compose_slice(self._offset, self._limit, 0, 1)
        rows = self._fetch(self._select(ordering=ordering, offset=offset, limit=limit))
        return rows[0] if rows else None

    def count(self) -> int:
        """The number of records (one ``COUNT`` query).

        Example:
            >>> ln.Artifact.filter(suffix=".parquet").count()
        """
        if self._cache is not None:
            return len(self._cache)
        pk = self._info.pk
        if self._limit is None and self._offset is None:
            stmt = self._select(func.count(pk), joins=(), ordering=())
        else:
            sub = self._select(pk).subquery()
            stmt = select(func.count()).select_from(sub)
        return int(_read(lambda s: s.execute(stmt).scalar_one(), self._ctx))

    def exists(self) -> bool:
        """Whether any record matches (a ``LIMIT 1`` query).

        Example:
            >>> ln.ULabel.filter(name="DMSO").exists()
            True
        """
        if self._cache is not None:
            return bool(self._cache)
        offset, limit = _compose_slice(self._offset, self._limit, 0, 1)
        stmt = self._select(
            self._info.pk, joins=(), ordering=(), offset=offset, limit=limit
        )
        return _read(lambda s: s.execute(stmt).first(), self._ctx) is not None

    # ---- DataFrame ------------------------------------------------------------

    def _default_ordering(self) -> tuple[Any, ...]:
        if self._ordering:
            return self._ordering
        info = self._info
        if "updated_at" in info.columns:
            return (info.columns["updated_at"].desc(), info.pk.desc())
        return (info.pk.desc(),)

    def df(
        self,
        include: str | builtins.list[str] | None = None,
        *,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """A pandas DataFrame of the records' columns, indexed by ``id``.

        Foreign keys appear as ``<fk>_id`` columns. Without an explicit ordering,
        rows come newest first (``-updated_at``, else ``-id``).

        Args:
            include: Related fields to prepend as columns, e.g.
                ``["parents__name", "created_by__handle"]``: a to-many path gives
                a list per row (empty when nothing is linked), a to-one path a
                scalar. One extra query per to-many path, joins for to-one.
            limit: At most this many rows.

        Example:
            >>> ln.ULabel.filter().df(include=["parents__name"])
        """
        info = self._info
        includes = [include] if isinstance(include, str) else list(include or [])
        key = self._plain_key(includes, limit)
        plan = _FRAME_PLANS.get(key) if key is not None else None
        if plan is None:
            plan = self._frame_plan(includes, limit, plain=key is not None)
            if key is not None:
                if len(_FRAME_PLANS) >= _MAX_FRAME_PLANS:
                    _FRAME_PLANS.clear()
                _FRAME_PLANS[key] = plan

        def fetch(session: Session) -> tuple[dict[str, Any], dict[str, Any]]:
            conn = session.connection()
            raw = raw_columns(conn, plan.stmt, columns=plan.selected)
            if plan.to_many and plan.to_many[0][2] is not None:
                n = len(raw[next(iter(raw))])
                # all records, or nearly (at most a tenth hidden): reading every
                # record's links by the link table's own index beats selecting
                # the records' links (extra groups are never looked up)
                everyone = plan.count_all is None or (
                    conn.execute(plan.count_all).scalar_one() <= n + n // 10
                )
            else:
                everyone = False
            many = {
                inc: _groups(session, every if everyone else own)
                for inc, own, every in plan.to_many
            }
            return raw, many

        with gc_paused():
            raw, many = _read(fetch, self._ctx)
            by_name = dict(zip(plan.names, raw.values(), strict=True))
            # the included columns come first, built before the frame (inserting
            # into a built frame copies its blocks)
            ordered: dict[str, Any] = {}
            for inc in includes:
                if inc in many:
                    ordered[inc] = _lists(many[inc], by_name[info.pk_key])
                else:
                    ordered[inc] = by_name.pop(inc)
            ordered.update(by_name)
            return frame(ordered, plan.sql_types, info.utc_keys, index=info.pk_key)

    def _plain_key(self, includes: builtins.list[Any], limit: int | None) -> Any:
        """The key of ``df()``'s plan if this QuerySet is unfiltered, else None.

        The statements of an unfiltered QuerySet (``ln.Artifact.df()``) depend
        only on the model and the includes: they are built once (building them
        cost a tenth of reading 1,000 rows).
        """
        if (
            self._criteria
            or self._ordering
            or self._joins
            or self._annotations
            or self._limit is not None
            or self._offset is not None
            or limit is not None
            or not all(isinstance(inc, str) for inc in includes)
        ):
            return None
        return (self.model, self._implicit_visibility, tuple(includes))

    def _frame_plan(
        self, includes: builtins.list[str], limit: int | None, *, plain: bool = False
    ) -> _FramePlan:
        """The statements of ``df()`` and the names of their columns.

        ``plain``: the QuerySet is unfiltered (see :meth:`_plain_key`).
        """
        info = self._info
        keys = list(info.table_columns)
        joins = dict((p, (a, o)) for p, a, o in self._joins)
        to_one: dict[str, Any] = {}
        to_many: list[tuple[str, tuple[RelInfo, ...], str]] = []
        for inc in includes:
            hops, _, column = resolve_field(self.model, inc)
            if any(rel.to_many for rel in hops):
                to_many.append((inc, hops, column))
            else:
                to_one[inc] = getattr(self._join_path(hops, joins), column)
        qs = self
        if limit is not None:
            qs = self[:limit]
        ordering = qs._default_ordering()
        # UTC timestamps come as ISO text and are parsed by pandas in one go
        # (much faster than building and converting datetime objects per value)
        columns = [
            cast(info.table_columns[k], Text)
            if k in info.utc_keys
            else info.table_columns[k]
            for k in keys
        ]
        annotations = [expr.label(name) for name, expr in self._annotations]
        selected = [*columns, *to_one.values(), *annotations]
        stmt = qs._select(
            *selected,
            joins=[(p, a, o) for p, (a, o) in joins.items()],
            ordering=ordering,
        )
        return _FramePlan(
            stmt=stmt,
            selected=selected,
            names=[*keys, *to_one, *(name for name, _ in self._annotations)],
            sql_types={k: info.table_columns[k].type for k in keys},
            to_many=[
                (
                    inc,
                    qs._to_many_statement(hops, column, ordering),
                    qs._to_many_statement(hops, column, ordering, every_owner=True)
                    if plain
                    else None,
                )
                for inc, hops, column in to_many
            ],
            count_all=(
                select(func.count()).select_from(self.model)
                if plain and self._implicit_visibility
                else None
            ),
        )

    def _to_many_statement(
        self,
        hops: tuple[RelInfo, ...],
        column: str,
        ordering: tuple[Any, ...],
        *,
        every_owner: bool = False,
    ) -> Any:
        """``SELECT owner id, value`` of a to-many path for all records, by owner.

        ``every_owner``: for the owners of the whole table, matching or not.
        """
        if every_owner:
            direct = self._link_table_read(hops, column, None)
            return self._joined_read(hops, column, None) if direct is None else direct
        if self._limit is None and self._offset is None:
            ids = self._select(self._info.pk, joins=(), ordering=())
        else:
            ids = self._select(self._info.pk, ordering=ordering)
        owner_ids = ids.correlate(None).scalar_subquery()
        direct = self._link_table_read(hops, column, owner_ids)
        if direct is not None:
            return direct
        return self._joined_read(hops, column, owner_ids)

    def _link_table_read(
        self, hops: tuple[RelInfo, ...], column: str, owner_ids: Any
    ) -> Any:
        """One hop through a link table as plain Core (no aliased entities), or None.

        ``SELECT link.owner_id, target.column FROM link JOIN target``: building
        the aliased ORM join costs more than running it.
        """
        if len(hops) != 1:
            return None
        prop: RelationshipProperty[Any] = sa_inspect(self.model).relationships[
            hops[0].key
        ]
        if prop.secondary is None:
            return None
        assert prop.secondary_synchronize_pairs is not None  # set with secondary
        if (
            len(prop.synchronize_pairs) != 1
            or len(prop.secondary_synchronize_pairs) != 1
        ):
            return None
        ((_, left),) = prop.synchronize_pairs
        ((target_col, right),) = prop.secondary_synchronize_pairs
        target = model_info(hops[0].target)
        if column not in target.table_columns:
            return None
        value = target.table_columns[column]
        target_pk = target.table_columns[target.pk_key]
        # the link's own column equals the target's id: ordering by it walks the
        # link table's (owner, target) unique index instead of sorting the join
        by = right if target_col is target_pk else target_pk
        return (
            select(left, value)
            .select_from(prop.secondary)
            .join(target_col.table, target_col == right)
            .where(*(() if owner_ids is None else (left.in_(owner_ids),)))
            .order_by(left, by)
        )

    def _joined_read(
        self, hops: tuple[RelInfo, ...], column: str, owner_ids: Any
    ) -> Any:
        """Any to-many path as joins of aliased entities."""
        root: Any = aliased(self.model)
        entity: Any = root
        joined: list[tuple[Any, Any]] = []
        for rel in hops:
            alias: Any = aliased(rel.target)
            joined.append((alias, getattr(entity, rel.key).of_type(alias)))
            entity = alias
        root_pk = getattr(root, self._info.pk_key)
        target_pk = getattr(entity, model_info(type_of(entity)).pk_key)
        stmt = select(root_pk, getattr(entity, column))
        for alias, onclause in joined:
            stmt = stmt.join(alias, onclause)
        if owner_ids is not None:
            stmt = stmt.where(root_pk.in_(owner_ids))
        return stmt.order_by(root_pk, target_pk)

    # ---- versions, get, delete ------------------------------------------------

    def latest_version(self) -> QuerySet:
        """Per version family (uid stem), the record created last.

        Raises:
            FieldError: the model is not versioned.

        Example:
            >>> ln.Artifact.filter(description="my RNA-seq").latest_version().df()
        """
        info = self._info
        stem_len = int(getattr(self.model, "_len_stem_uid", 0) or 0)
        if (
            not stem_len
            or "uid" not in info.columns
            or "created_at" not in info.columns
        ):
            raise FieldError(f"{self.model.__name__} is not a versioned registry.")
        pk = info.pk
        rank = (
            func.row_number()
            .over(
                partition_by=func.substr(info.columns["uid"], 1, stem_len),
                order_by=(info.columns["created_at"].desc(), pk.desc()),
            )
            .label("rank")
        )
        if self._limit is None and self._offset is None:
            ranked = self._select(pk.label("id"), rank, joins=(), ordering=())
        else:
            # rank within the slice, not within the whole query
            ranked = select(pk.label("id"), rank).where(
                pk.in_(self._as_id_select().scalar_subquery())
            )
        ranked_rows = ranked.subquery()
        latest = select(ranked_rows.c.id).where(ranked_rows.c.rank == 1)
        qs = self._clone()
        qs._limit = qs._offset = None
        qs._criteria = (*self._criteria, pk.in_(latest.scalar_subquery()))
        return qs

    def get(self, idlike: int | str | None = None, **expressions: Any) -> Any:
        """One record by id, uid, uid prefix or lookups.

        Args:
            idlike: An integer id; a full uid; or a uid prefix. For versioned
                registries a stem or prefix matching several versions of one
                family gives the version with ``is_latest=True`` (else the newest).
            **expressions: Lookups, as in :meth:`filter`.

        Raises:
            NoResultFound: nothing matches.
            MultipleResultsFound: several records (or version families) match.

        Example:
            >>> ln.Transform.filter().get("FPnfDtJz8qbE")  # a uid prefix
        """
        qs = self.filter(**expressions) if expressions else self
        if idlike is None:
            if not expressions:
                raise ValidationError("get() needs an id, a uid or lookups.")
            return qs.one()
        if isinstance(idlike, bool) or not isinstance(idlike, numbers.Integral | str):
            raise ValidationError(
                f"get() takes an integer id or a uid string, got {idlike!r}."
            )
        name = self.model.__name__
        if isinstance(idlike, numbers.Integral):
            record = qs.filter(id=int(idlike)).one_or_none()
            if record is None:
                raise NoResultFound(f"No {name} record with id={int(idlike)}.")
            return record
        info = self._info
        if "uid" not in info.columns:
            raise FieldError(f"{name} has no uid; get it by id or by lookups.")
        len_uid = int(getattr(self.model, "_len_uid", 0) or 0)
        if len_uid and len(idlike) == len_uid:
            record = qs.filter(uid=idlike).one_or_none()
            if record is None:
                raise NoResultFound(f"No {name} record with uid={idlike!r}.")
            return record
        matches = qs.filter(uid__startswith=idlike)
        names = ["id", "uid"] + [
            k for k in ("is_latest", "created_at") if k in info.columns
        ]
        cols = [info.pk, *(info.columns[k] for k in names[1:])]
        stmt = matches._select(*cols, joins=(), ordering=())
        rows = [
            dict(zip(names, row, strict=True))
            for row in _read(lambda s: s.execute(stmt).all(), self._ctx)
        ]
        if not rows:
            raise NoResultFound(f"No {name} record with a uid starting {idlike!r}.")
        chosen = rows[0]
        if len(rows) > 1:
            stem_len = int(getattr(self.model, "_len_stem_uid", 0) or 0)
            stems = {row["uid"][:stem_len] for row in rows} if stem_len else set()
            if len(stems) != 1:
                raise MultipleResultsFound(
                    f"{len(rows)} {name} records have a uid starting {idlike!r}; "
                    f"give more characters."
                )
            chosen = _latest_row(rows)
        return qs.filter(id=chosen["id"]).one()

    def delete(self, **kwargs: Any) -> None:
        """Delete every matching record (through the model's ``bulk_delete``).

        Example:
            >>> ln.ULabel.filter(name__startswith="tmp").delete()
        """
        self.model.bulk_delete(list(self), **kwargs)  # type: ignore[attr-defined]

    # ---- rendering ------------------------------------------------------------

    def _repr_columns(self) -> builtins.list[str]:
        info = self._info
        keys = [info.pk_key]
        if "uid" in info.columns:
            keys.append("uid")
        name = getattr(self.model, "_name_field", None)
        if isinstance(name, str) and name in info.columns and name not in keys:
            keys.append(name)
        return keys

    def __repr__(self) -> str:
        title = f"QuerySet[{self.model.__name__}]"
        try:
            rows = list(self[: REPR_ROWS + 1])
        except LaminSAError as e:  # no instance connected, ...
            return f"<{title}: not evaluated ({e})>"
        more = len(rows) > REPR_ROWS
        rows = rows[:REPR_ROWS]
        keys = self._repr_columns()
        table = [keys] + [[_cell(getattr(r, k, None)) for k in keys] for r in rows]
        widths = [max(len(line[i]) for line in table) for i in range(len(keys))]
        lines = [
            "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True))
            for line in table
        ]
        n = len(rows)
        total = self.count() if more else n  # one count, only when cut off
        count = f"{n} of {total}" if more else str(n)
        count += " record" if total == 1 else " records"
        body = "\n".join(f"  {line.rstrip()}" for line in lines)
        return f"{title} ({count})\n{body}" + _more_rows(total - n, "\n  ")

    def _repr_html_(self) -> str:
        shown = self.df(limit=HTML_ROWS)
        table = str(shown._repr_html_())
        if len(shown) < HTML_ROWS:
            return table
        return table + _more_rows(self.count() - len(shown), "<p>", "</p>")


def type_of(entity: Any) -> type:
    """The mapped class of a class or an ``aliased()`` class."""
    insp = getattr(entity, "_aliased_insp", None)
    return insp.class_ if insp is not None else entity  # type: ignore[no-any-return]


def _more_rows(n: int, before: str = "", after: str = "") -> str:
    """The line below a cut-off table: ``… 25 more rows`` (empty for none)."""
    if n <= 0:
        return ""
    return f"{before}… {n} more row{'' if n == 1 else 's'}{after}"


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _latest_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Among versions of one family: the ``is_latest`` one, else the newest."""
    latest = [row for row in rows if row.get("is_latest")]
    if len(latest) == 1:
        return latest[0]
    return max(rows, key=lambda row: (row.get("created_at") or 0, row["id"]))
