"""``QuerySet``: an immutable, lazy query over one registry.

A QuerySet wraps the criteria, ordering and slice of a SQLAlchemy ``select()``;
every method returns a new QuerySet, and nothing runs until results are needed.
Host applications can take the statement (``qs.statement``) and compose it.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Select, Text, cast, func, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement, True_

from lamin_sa.db.session import current, end_read
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


def _run(fn: Callable[[Session], T]) -> T:
    """Run a read in the active context and end its read transaction."""
    ctx = current()
    try:
        result = fn(ctx.session)
    except BaseException as e:
        if ctx.autocommit and ctx.session.in_transaction():
            ctx.session.rollback()
        if isinstance(e, sa_exc.OperationalError) and _like_too_long(e):
            raise ValidationError(
                "A contains/startswith/endswith value is too long for SQLite's "
                "LIKE (at most 50,000 bytes): match a shorter part of the text."
            ) from None
        raise
    end_read(ctx)
    return result


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
    )

    def __init__(self, model: type, implicit_visibility: bool = True) -> None:
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

    def _clone(self) -> QuerySet:
        qs = type(self).__new__(type(self))
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
                criteria.append(self._info.columns["visibility"] == 1)
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

        Raises:
            FieldError: an unknown field or lookup (the message names the valid
                fields and the closest match), or text given for a relationship.
            ValidationError: a value that does not fit its column or lookup.
        """
        return self._add(queries, expressions, exclude=False)

    def exclude(self, *queries: Any, **expressions: Any) -> QuerySet:
        """Drop the records matching all the given lookups (``NOT (...)``).

        As in Django, the conditions of one call need not refer to the same
        related row (each is its own ``NOT EXISTS``); for same-row exclusion
        write ``exclude(ulabels__in=ULabel.filter(a, b))``. Rows whose compared
        column is NULL are kept.
        """
        return self._add(queries, expressions, exclude=True)

    def all(self) -> QuerySet:
        """A fresh copy of the query (its results are fetched anew)."""
        return self._clone()

    def distinct(self) -> QuerySet:
        """A copy; results never contain duplicates, so nothing else is needed."""
        return self._clone()

    def _where(self, *clauses: ColumnElement[bool]) -> QuerySet:
        """Add raw SQLAlchemy criteria (used by related managers)."""
        qs = self._clone()
        qs._criteria = (*self._criteria, *clauses)
        return qs

    def _order(self, *columns: Any) -> QuerySet:
        """Order by raw SQLAlchemy columns, replacing any ordering."""
        qs = self._clone()
        qs._ordering = tuple(columns)
        return qs

    def _annotate(self, name: str, expression: Any) -> QuerySet:
        """Add a computed column that ``df()`` appends (e.g. a search score)."""
        qs = self._clone()
        qs._annotations = (*self._annotations, (name, expression))
        return qs

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
            alias = aliased(rel.target)
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
            return (self._info.columns["visibility"] == 1, *self._criteria)
        return self._criteria

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
        return _run(lambda s: list(s.scalars(stmt).all()))

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
        """The first record (by the ordering, else by id), or None."""
        if self._cache is not None and self._ordering:
            return self._cache[0] if self._cache else None
        ordering = self._ordering or (self._info.pk.asc(),)
        offset, limit = _compose_slice(self._offset, self._limit, 0, 1)
        rows = self._fetch(self._select(ordering=ordering, offset=offset, limit=limit))
        return rows[0] if rows else None

    def count(self) -> int:
        """The number of records (one ``COUNT`` query)."""
        if self._cache is not None:
            return len(self._cache)
        pk = self._info.pk
        if self._limit is None and self._offset is None:
            stmt = self._select(func.count(pk), joins=(), ordering=())
        else:
            sub = self._select(pk).subquery()
            stmt = select(func.count()).select_from(sub)
        return int(_run(lambda s: s.execute(stmt).scalar_one()))

    def exists(self) -> bool:
        """Whether any record matches (a ``LIMIT 1`` query)."""
        if self._cache is not None:
            return bool(self._cache)
        offset, limit = _compose_slice(self._offset, self._limit, 0, 1)
        stmt = self._select(
            self._info.pk, joins=(), ordering=(), offset=offset, limit=limit
        )
        return _run(lambda s: s.execute(stmt).first()) is not None

    # ---- DataFrame ------------------------------------------------------------

    def _default_ordering(self) -> tuple[Any, ...]:
        if self._ordering:
            return self._ordering
        info = self._info
        if "updated_at" in info.columns:
            return (info.columns["updated_at"].desc(), info.pk.desc())
        return (info.pk.desc(),)

    def df(
        self, include: str | list[str] | None = None, *, limit: int | None = None
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
        import pandas as pd

        info = self._info
        includes = [include] if isinstance(include, str) else list(include or [])
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
        stmt = qs._select(
            *columns,
            *to_one.values(),
            *annotations,
            joins=[(p, a, o) for p, (a, o) in joins.items()],
            ordering=ordering,
        )

        def read(session: Session) -> tuple[list[Any], dict[str, Any]]:
            # Core execution: rows as plain tuples, no ORM loading.
            rows = session.connection().execute(stmt).all()
            many: dict[str, Any] = {}
            for inc, hops, column in to_many:
                many[inc] = qs._read_to_many(session, hops, column, ordering)
            return rows, many

        rows, many = _run(read)
        pk = info.pk_key
        names = [*keys, *to_one, *(name for name, _ in self._annotations)]
        df = pd.DataFrame.from_records(rows, columns=names, index=pk)
        for key in info.utc_keys:
            df[key] = _utc_datetimes(df[key])
        for position, inc in enumerate(includes):
            if inc in many:
                groups = many[inc]
                lists = [groups.get(i) or [] for i in df.index.tolist()]
                values = pd.Series(lists, index=df.index, dtype=object)
            else:
                values = df.pop(inc)
            df.insert(position, inc, values)
        return df

    def _read_to_many(
        self,
        session: Session,
        hops: tuple[RelInfo, ...],
        column: str,
        ordering: tuple[Any, ...],
    ) -> dict[Any, list[Any]]:
        """Values of a to-many path per record: one query for all records."""
        root = aliased(self.model)
        entity: Any = root
        joined: list[tuple[Any, Any]] = []
        for rel in hops:
            alias = aliased(rel.target)
            joined.append((alias, getattr(entity, rel.key).of_type(alias)))
            entity = alias
        root_pk = getattr(root, self._info.pk_key)
        target_pk = getattr(entity, model_info(type_of(entity)).pk_key)
        stmt = select(root_pk, getattr(entity, column))
        for alias, onclause in joined:
            stmt = stmt.join(alias, onclause)
        if self._limit is None and self._offset is None:
            ids = self._select(self._info.pk, joins=(), ordering=())
        else:
            ids = self._select(self._info.pk, ordering=ordering)
        stmt = stmt.where(root_pk.in_(ids.correlate(None).scalar_subquery()))
        stmt = stmt.order_by(root_pk, target_pk)
        groups: dict[Any, list[Any]] = {}
        for owner, value in session.connection().execute(stmt):
            groups.setdefault(owner, []).append(value)
        return groups

    # ---- versions, get, delete ------------------------------------------------

    def latest_version(self) -> QuerySet:
        """Per version family (uid stem), the record created last.

        Raises:
            FieldError: the model is not versioned.
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
        ranked = ranked.subquery()
        latest = select(ranked.c.id).where(ranked.c.rank == 1)
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
            for row in _run(lambda s: s.execute(stmt).all())
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
        """Delete every matching record.

        Models that override ``delete()`` (to trash first, remove files, ...) get
        it called per record; others are deleted in one bulk transaction.
        """
        from lamin_sa.models.record import Record

        records = list(self)
        own = getattr(self.model, "delete", None)
        if own is not None and own is not Record.delete:
            for record in records:
                record.delete(**kwargs)
            return
        from lamin_sa.models.save import delete_records

        delete_records(records)

    # ---- rendering ------------------------------------------------------------

    def _repr_columns(self) -> list[str]:
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
        count = f"{n}+ records" if more else f"{n} record{'' if n == 1 else 's'}"
        body = "\n".join(f"  {line.rstrip()}" for line in lines)
        return f"{title} ({count})\n{body}" + ("\n  ..." if more else "")

    def _repr_html_(self) -> str:
        return str(self.df(limit=HTML_ROWS)._repr_html_())

    # ---- validation and search (lamin_sa.curate) -------------------------------

    def validate(self, values: Any, field: Any = None, *, mute: bool = False) -> Any:
        """Whether each value is stored in ``field`` among these records.

        See :meth:`lamin_sa.models.mixins.CanValidate.validate`.
        """
        from lamin_sa.curate.validate import validate

        return validate(self, values, field, mute=mute)

    def inspect(self, values: Any, field: Any = None, *, mute: bool = False) -> Any:
        """Validated and non-validated values among these records, with hints.

        See :meth:`lamin_sa.models.mixins.CanValidate.inspect`.
        """
        from lamin_sa.curate.validate import inspect

        return inspect(self, values, field, mute=mute)

    def standardize(self, values: Any, field: Any = None, **kwargs: Any) -> Any:
        """Map values to canonical field values of these records.

        See :meth:`lamin_sa.models.mixins.CanValidate.standardize`.
        """
        from lamin_sa.curate.validate import standardize

        return standardize(self, values, field, **kwargs)

    def from_values(self, values: Any, field: Any = None, **kwargs: Any) -> list[Any]:
        """The records among these whose field matches the values.

        See :meth:`lamin_sa.models.mixins.CanValidate.from_values`.
        """
        from lamin_sa.curate.validate import from_values

        return from_values(self, values, field, **kwargs)

    def lookup(self, field: Any = None, return_field: Any = None) -> Any:
        """Attribute access to these records by a field's values.

        See :meth:`lamin_sa.models.mixins.CanValidate.lookup`.
        """
        from lamin_sa.curate.validate import lookup

        return lookup(self, field, return_field)

    def search(self, string: str, **kwargs: Any) -> QuerySet:
        """These records ranked by how well they match ``string``.

        See :meth:`lamin_sa.models.mixins.CanValidate.search`.
        """
        from lamin_sa.curate.search import search

        return search(self, string, **kwargs)


def type_of(entity: Any) -> type:
    """The mapped class of a class or an ``aliased()`` class."""
    insp = getattr(entity, "_aliased_insp", None)
    return insp.class_ if insp is not None else entity  # type: ignore[no-any-return]


def _utc_datetimes(values: pd.Series) -> pd.Series:
    """Parse raw timestamps (ISO strings on SQLite, datetimes elsewhere) as UTC."""
    import pandas as pd

    try:
        return pd.to_datetime(values, utc=True, format="ISO8601")
    except (ValueError, TypeError):  # a server printing dates in another style
        return pd.to_datetime(values, utc=True, format="mixed")


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _latest_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Among versions of one family: the ``is_latest`` one, else the newest."""
    latest = [row for row in rows if row.get("is_latest")]
    if len(latest) == 1:
        return latest[0]
    return max(rows, key=lambda row: (row.get("created_at") or 0, row["id"]))
