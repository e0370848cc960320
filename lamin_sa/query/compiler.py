"""Compile Django-style keyword lookups into SQLAlchemy criteria.

``a__b__c__lookup=value`` is read left to right over the mapper of the model:
a relationship descends, a column ends the path (optionally followed by a lookup
from :data:`~lamin_sa.query.lookups.LOOKUPS`). Every hop is a semi-join: "a
related row exists", written ``key IN (SELECT ...)`` over the link or related
table when the relationship joins on one column pair (the database can start
from the related rows' index), else ``Rel.has()`` / ``Rel.any()`` (correlated
``EXISTS``). Results never contain duplicates and need no ``DISTINCT``.

Lookups compiled together (one ``filter()`` call, or one ``Q``) are grouped by
relationship prefix, recursively: conditions that share a to-many prefix must hold
for the same related row (Django's rule), e.g. ``ulabel_links__ulabel=l,
ulabel_links__feature=f`` means *one* link with both. Separate calls compile to
separate ``EXISTS`` and may match different rows.

The compiler knows no specific model: everything comes from
``sqlalchemy.inspect(model)``, cached per model in :class:`ModelInfo`.
"""

from __future__ import annotations

import difflib
import numbers
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    String,
    and_,
    cast,
    extract,
    false,
    inspect,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Mapper, RelationshipDirection, RelationshipProperty, aliased
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BinaryExpression, ClauseElement, ColumnElement

from lamin_sa.db.base import UTCDateTime
from lamin_sa.db.sql import to_date, usually_true, utc
from lamin_sa.errors import FieldError, NotSavedError, ValidationError
from lamin_sa.query.lookups import LOOKUPS, NULL_SAFE, as_in_values

SEP = "__"


@dataclass(frozen=True, slots=True)
class SemiJoin:
    """How "a related row exists" is written as ``local IN (SELECT picked ...)``.

    An uncorrelated ``IN`` lets the database start from the related rows (an
    index on the link table) instead of testing a correlated ``EXISTS`` per row
    of the queried table: 10 hits among 1,000 rows are 10 lookups, not 1,000.
    """

    #: attribute key on the parent compared with ``IN``.
    local_key: str
    local_nullable: bool
    #: the link table of a many-to-many relationship (else None: the target's).
    table: Any
    #: the column selected: a link table column name, else a target attribute key.
    picked: str
    picked_nullable: bool
    #: the link table column joined to ``target_key`` of the target.
    link_key: str | None = None
    target_key: str | None = None


@dataclass(frozen=True, slots=True)
class RelInfo:
    """What the compiler needs to know about one relationship."""

    key: str
    parent: type
    target: type
    attr: Any
    to_many: bool
    #: the local foreign-key attribute of a simple many-to-one (else None).
    fk: Any
    #: whether ``fk`` is nullable.
    fk_nullable: bool
    #: the attribute key on ``target`` that ``fk`` (or a row match) compares to.
    remote_key: str
    prop: RelationshipProperty[Any]
    #: the ``IN`` form of ``EXISTS`` over this relationship (None: keep EXISTS).
    semi: SemiJoin | None = None


@dataclass(slots=True)
class ModelInfo:
    """Per-model metadata, computed once and cached (see :func:`model_info`)."""

    model: type
    mapper: Mapper[Any]
    #: column attribute key -> instrumented attribute.
    columns: dict[str, Any]
    #: column attribute key -> Core column (the table's own column).
    table_columns: dict[str, Any]
    nullable: dict[str, bool]
    relationships: dict[str, RelInfo]
    pk_key: str
    datetime_keys: frozenset[str]
    #: columns of lamin-sa's UTC timestamp type (stored as UTC on every backend).
    utc_keys: tuple[str, ...]
    #: column attribute key -> the Python type of its values (None: unknown, JSON).
    py_types: dict[str, type | None]
    has_visibility: bool
    choices: tuple[str, ...] = field(default=())
    n_props: int = 0
    #: the implicit ``visibility == 1`` (None: no visibility column); built once,
    #: as an immutable expression it is shared by every statement that uses it
    visible: ColumnElement[bool] | None = None

    @property
    def pk(self) -> Any:
        """The primary-key attribute (``Model.id``)."""
        return self.columns[self.pk_key]


_INFO: dict[type, ModelInfo] = {}


def model_info(model: type, *, refresh: bool = False) -> ModelInfo:
    """Return the cached :class:`ModelInfo` of a mapped class."""
    info = None if refresh else _INFO.get(model)
    if info is None:
        info = _build_info(model)
        _INFO[model] = info
    return info


def clear_cache() -> None:
    """Forget cached model metadata and parsed paths (after mapping changes)."""
    _INFO.clear()
    _PATHS.clear()


def _python_type(type_: Any) -> type | None:
    impl = getattr(type_, "impl_instance", None)  # a TypeDecorator
    for candidate in (impl, type_):
        if candidate is None:
            continue
        try:
            return candidate.python_type  # type: ignore[no-any-return]
        except (NotImplementedError, AttributeError):
            continue
    return None


#: value types the compiler checks before a value reaches the database.
_CHECKED_TYPES = (int, float, str, bool, datetime, date)


def _build_info(model: type) -> ModelInfo:
    mapper: Mapper[Any] = inspect(model)
    columns: dict[str, Any] = {}
    table_columns: dict[str, Any] = {}
    nullable: dict[str, bool] = {}
    datetime_keys: set[str] = set()
    utc_keys: list[str] = []
    py_types: dict[str, type | None] = {}
    for attr in mapper.column_attrs:
        col = attr.columns[0]
        columns[attr.key] = attr.class_attribute
        table_columns[attr.key] = col
        nullable[attr.key] = bool(getattr(col, "nullable", True))
        py_type = _python_type(col.type)
        py_types[attr.key] = py_type if py_type in _CHECKED_TYPES else None
        if py_type in (datetime, date):
            datetime_keys.add(attr.key)
        if isinstance(col.type, UTCDateTime):
            utc_keys.append(attr.key)
    relationships: dict[str, RelInfo] = {}
    for prop in mapper.relationships:
        target = prop.mapper.class_
        to_many = bool(prop.uselist)
        fk = None
        fk_nullable = True
        target_mapper = prop.mapper
        remote_key = target_mapper.get_property_by_column(
            target_mapper.primary_key[0]
        ).key
        pairs = prop.local_remote_pairs
        if (
            prop.direction is RelationshipDirection.MANYTOONE
            and prop.secondary is None
            and pairs is not None
            and len(pairs) == 1
        ):
            local_col, remote_col = pairs[0]
            try:
                fk = mapper.get_property_by_column(local_col).class_attribute
                remote_key = target_mapper.get_property_by_column(remote_col).key
                fk_nullable = bool(local_col.nullable)
            except Exception:  # noqa: BLE001 - an unusual join: fall back to has()
                fk = None
        relationships[prop.key] = RelInfo(
            key=prop.key,
            parent=model,
            target=target,
            attr=prop.class_attribute,
            to_many=to_many,
            fk=fk,
            fk_nullable=fk_nullable,
            remote_key=remote_key,
            prop=prop,
            semi=_semi_join(mapper, prop, fk, fk_nullable, remote_key),
        )
    pk_key = mapper.get_property_by_column(mapper.primary_key[0]).key
    return ModelInfo(
        model=model,
        mapper=mapper,
        columns=columns,
        table_columns=table_columns,
        nullable=nullable,
        relationships=relationships,
        pk_key=pk_key,
        datetime_keys=frozenset(datetime_keys),
        utc_keys=tuple(utc_keys),
        py_types=py_types,
        has_visibility="visibility" in columns,
        choices=tuple(sorted([*columns, *relationships])),
        n_props=len(mapper.attrs),
        visible=(
            usually_true(columns["visibility"] == 1)
            if "visibility" in columns
            else None
        ),
    )


def _simple_join(join: Any) -> bool:
    return isinstance(join, BinaryExpression) and join.operator is operators.eq


def _semi_join(
    mapper: Mapper[Any],
    prop: RelationshipProperty[Any],
    fk: Any,
    fk_nullable: bool,
    remote_key: str,
) -> SemiJoin | None:
    """The ``IN`` form of a relationship joined on one column pair, else None."""
    target = prop.mapper
    try:
        if prop.secondary is not None:
            pairs = prop.synchronize_pairs
            target_pairs = prop.secondary_synchronize_pairs or []
            if (
                len(pairs) != 1
                or len(target_pairs) != 1
                or not _simple_join(prop.primaryjoin)
                or not _simple_join(prop.secondaryjoin)
            ):
                return None
            ((local_col, link_col),) = pairs
            ((target_col, link_target),) = target_pairs
            return SemiJoin(
                local_key=mapper.get_property_by_column(local_col).key,
                local_nullable=bool(local_col.nullable),
                table=prop.secondary,
                picked=link_col.name,
                picked_nullable=bool(link_col.nullable),
                link_key=link_target.name,
                target_key=target.get_property_by_column(target_col).key,
            )
        pairs = prop.local_remote_pairs or []
        if len(pairs) != 1 or not _simple_join(prop.primaryjoin):
            return None
        ((local_col, remote_col),) = pairs
        if prop.direction is RelationshipDirection.MANYTOONE:
            if fk is None:
                return None
            return SemiJoin(fk.key, fk_nullable, None, remote_key, False)
        if prop.direction is not RelationshipDirection.ONETOMANY:
            return None
        return SemiJoin(
            local_key=mapper.get_property_by_column(local_col).key,
            local_nullable=bool(local_col.nullable),
            table=None,
            picked=target.get_property_by_column(remote_col).key,
            picked_nullable=bool(remote_col.nullable),
        )
    except Exception:  # noqa: BLE001 - an unusual mapping: keep EXISTS
        return None


# ---- errors --------------------------------------------------------------------


def _closest(name: str, choices: tuple[str, ...] | list[str]) -> str | None:
    found = difflib.get_close_matches(name, choices, n=1, cutoff=0.5)
    return found[0] if found else None


def field_error(info: ModelInfo, name: str, key: str) -> FieldError:
    """A :class:`FieldError` naming the model, the choices and the closest match."""
    model = info.model.__name__
    closest = _closest(name, info.choices)
    hint = f" Did you mean {closest!r}?" if closest else ""
    where = f" (in {key!r})" if key != name else ""
    return FieldError(
        f"{model} has no field {name!r}{where}.{hint} Valid fields of {model}: "
        f"{', '.join(info.choices)}."
    )


def lookup_error(info: ModelInfo, fieldname: str, lookup: str, key: str) -> FieldError:
    """A :class:`FieldError` for an unknown lookup on a field."""
    choices = sorted(LOOKUPS)
    closest = _closest(lookup, choices)
    hint = f" Did you mean {closest!r}?" if closest else ""
    return FieldError(
        f"Unsupported lookup {lookup!r} on {info.model.__name__}.{fieldname} (in "
        f"{key!r}).{hint} Valid lookups: {', '.join(choices)}."
    )


# ---- parsing -------------------------------------------------------------------

#: transforms of date and datetime columns; a lookup may follow them.
TRANSFORMS = ("year", "month", "day", "date")


@dataclass(frozen=True, slots=True)
class ParsedKey:
    """A filter keyword split into relationship hops, a terminal field and lookup.

    ``column`` is the terminal column attribute key on the model reached after
    ``hops``; ``relation`` is set instead when the key ends on a relationship
    (compare by primary key). ``transform`` is a date part (``year``, ...) taken
    of the column before the lookup applies.
    """

    key: str
    hops: tuple[RelInfo, ...]
    model: type
    column: str | None
    relation: RelInfo | None
    lookup: str
    transform: str | None = None


_PATHS: dict[tuple[type, str], ParsedKey] = {}


def parse_key(model: type, key: str) -> ParsedKey:
    """Parse ``a__b__lookup`` against ``model`` (cached per model and key).

    Raises:
        FieldError: a name is neither a column nor a relationship, or a lookup is
            unknown.
    """
    cache_key = (model, key)
    parsed = _PATHS.get(cache_key)
    if parsed is None:
        try:
            parsed = _parse(model, key)
        except FieldError:
            # A module may have added properties since the metadata was cached.
            if not _refresh_if_changed(model, key):
                raise
            parsed = _parse(model, key)
        _PATHS[cache_key] = parsed
    return parsed


def _refresh_if_changed(model: type, key: str) -> bool:
    changed = False
    current: type | None = model
    for name in key.split(SEP):
        if current is None:
            break
        info = model_info(current)
        if len(info.mapper.attrs) != info.n_props:
            model_info(current, refresh=True)
            changed = True
        rel = info.relationships.get(name)
        current = rel.target if rel is not None else None
    return changed


def _column_suffix(
    info: ModelInfo, name: str, rest: list[str], key: str
) -> tuple[str | None, str]:
    """``(transform, lookup)`` of the names after a column."""
    transform = None
    if rest and rest[0] in TRANSFORMS and rest[0] not in LOOKUPS:
        if name not in info.datetime_keys:
            raise FieldError(
                f"__{rest[0]} needs a date or datetime column; "
                f"{info.model.__name__}.{name} is not one (in {key!r})."
            )
        transform, rest = rest[0], rest[1:]
    if not rest:
        return transform, "exact"
    if len(rest) == 1 and rest[0] in LOOKUPS:
        return transform, rest[0]
    if len(rest) == 1:
        raise lookup_error(info, name, rest[0], key)
    raise FieldError(
        f"{info.model.__name__}.{name} is a column, not a relationship: "
        f"cannot follow it with {SEP.join(rest)!r} (in {key!r})."
    )


def _parse(model: type, key: str) -> ParsedKey:
    parts = key.split(SEP)
    hops: list[RelInfo] = []
    current = model
    i = 0
    n = len(parts)
    while i < n:
        name = parts[i]
        info = model_info(current)
        if name == "pk" and name not in info.columns:
            name = info.pk_key  # Django's alias of the primary key
        rest = n - i - 1
        if name in info.columns:
            transform, lookup = _column_suffix(info, name, parts[i + 1 :], key)
            return _finish(key, hops, current, name, None, lookup, transform)
        rel = info.relationships.get(name)
        if rel is None:
            raise field_error(info, name, key)
        if rest == 0:
            return _finish(key, hops, current, None, rel, "exact")
        nxt = parts[i + 1]
        if rest == 1 and nxt in LOOKUPS:
            target_info = model_info(rel.target)
            if nxt not in target_info.columns and nxt not in target_info.relationships:
                return _finish(key, hops, current, None, rel, nxt)
        hops.append(rel)
        current = rel.target
        i += 1
    raise FieldError(f"Empty filter keyword {key!r}.")  # pragma: no cover


def _finish(
    key: str,
    hops: list[RelInfo],
    model: type,
    column: str | None,
    relation: RelInfo | None,
    lookup: str,
    transform: str | None = None,
) -> ParsedKey:
    # ``transform__id=5`` compares the local foreign key, without a subquery.
    if column is not None and hops and transform is None:
        last = hops[-1]
        if last.fk is not None and column == last.remote_key:
            return ParsedKey(key, tuple(hops[:-1]), last.parent, None, last, lookup)
    return ParsedKey(key, tuple(hops), model, column, relation, lookup, transform)


# ---- values --------------------------------------------------------------------

#: lookups that compare with one value of the column's type.
_SCALAR = frozenset({"exact", "gt", "gte", "lt", "lte"})
#: lookups that take text (the value is matched as a string).
_TEXT = frozenset(
    {"iexact", "contains", "icontains", "startswith", "istartswith", "endswith"}
    | {"iendswith", "regex", "iregex"}
)
_MANY = (list, tuple, set, frozenset, dict)
_INT = re.compile(r"\s*[+-]?\d+\s*")
_TYPE_NAMES = {
    int: "integers",
    float: "numbers",
    str: "text",
    bool: "True/False",
    datetime: "datetimes",
    date: "dates",
}


def _wrong_type(where: str, py_type: type, value: Any, key: str) -> ValidationError:
    return ValidationError(
        f"{where} holds {_TYPE_NAMES[py_type]}; got {value!r} "
        f"({type(value).__name__}) in {key!r}: pass a value of that type."
    )


def _coerce(value: Any, py_type: type | None, where: str, key: str) -> Any:
    """Check (and, like Django, convert) one value for a column of ``py_type``.

    Raises:
        ValidationError: the value cannot be a value of the column.
    """
    if py_type is None or value is None or type(value) is py_type:
        return value
    if isinstance(value, ClauseElement):
        return value
    if py_type is str:
        if isinstance(value, str):
            return value
    elif py_type is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
    elif py_type is int:
        if isinstance(value, numbers.Integral):
            return int(value)
        if isinstance(value, str) and _INT.fullmatch(value):
            return int(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
    elif py_type is float:
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
    elif py_type is datetime:
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value)
            except ValueError as e:
                raise ValidationError(
                    f"Not an ISO date or datetime: {value!r} (in {key!r})."
                ) from e
    elif py_type is date:
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError as e:
                raise ValidationError(
                    f"Not an ISO date: {value!r} (in {key!r})."
                ) from e
    raise _wrong_type(where, py_type, value, key)


def _check_value(
    py_type: type | None, where: str, lookup: str, value: Any, key: str
) -> Any:
    """Validate ``value`` for ``lookup`` on a column holding ``py_type`` values."""
    if lookup in ("in", "range"):
        if lookup == "in":
            values = as_in_values(value)
            if not isinstance(values, list):
                return values
        else:
            values = value
            if isinstance(value, str | bytes) or not isinstance(value, Iterable):
                raise ValidationError(
                    f"__range needs a (low, high) pair, got {value!r}."
                )
            values = list(value)
        return [_coerce(v, py_type, where, key) for v in values]
    if lookup == "isnull":
        if not isinstance(value, bool):
            raise ValidationError(
                f"__isnull takes True or False, got {value!r} (in {key!r})."
            )
        return value
    if py_type is not None and isinstance(value, _MANY):
        raise ValidationError(
            f"{key!r} compares one value, got a {type(value).__name__}: use "
            f"__in for several values."
        )
    if lookup in _SCALAR:
        if value is None and lookup != "exact":
            raise ValidationError(f"{key!r} cannot compare with None.")
        return _coerce(value, py_type, where, key)
    if lookup in _TEXT and value is None and lookup != "iexact":
        raise ValidationError(f"__{lookup} needs a string, got None (in {key!r}).")
    return value


def _key_of(rel: RelInfo, value: Any) -> Any:
    """The key a related value compares by: an instance's key, else the value."""
    if isinstance(value, rel.target):
        key = getattr(value, rel.remote_key)
        if key is None:
            raise NotSavedError(
                f"{rel.target.__name__} record {value!r} is not saved: save it "
                f"before filtering by it."
            )
        return key
    if getattr(type(value), "__mapper__", None) is not None:
        raise ValidationError(
            f"{rel.parent.__name__}.{rel.key} holds {rel.target.__name__} records, "
            f"got a {type(value).__name__} record."
        )
    return value


def _name_field(model: type) -> str:
    name = getattr(model, "_name_field", None)
    columns = model_info(model).columns
    if isinstance(name, str) and name in columns:
        return name
    return "name" if "name" in columns else "uid"


def _relation_error(rel: RelInfo, key: str, lookup: str, value: Any) -> FieldError:
    path = key[: -len(SEP + lookup)] if key.endswith(SEP + lookup) else key
    suffix = "" if lookup == "exact" else SEP + lookup
    return FieldError(
        f"{path!r} is a relationship to {rel.target.__name__}, not a text field: "
        f"got {value!r}. Filter by a field of it, e.g. "
        f"{path}{SEP}{_name_field(rel.target)}{suffix}={value!r}, or pass a "
        f"{rel.target.__name__} record or id."
    )


def _relation_value(rel: RelInfo, key: str, lookup: str, value: Any) -> Any:
    other = getattr(value, "_as_id_select", None) and getattr(value, "model", None)
    if other is not None and not issubclass(other, rel.target):
        raise ValidationError(
            f"{rel.parent.__name__}.{rel.key} holds {rel.target.__name__} records, "
            f"got a QuerySet of {other.__name__}."
        )
    py_type = model_info(rel.target).py_types.get(rel.remote_key)
    where = f"{rel.parent.__name__}.{rel.key}"

    def one(v: Any) -> Any:
        v = _key_of(rel, v)
        if isinstance(v, str) and py_type is not str:
            if py_type is not int or not _INT.fullmatch(v):
                raise _relation_error(rel, key, lookup, value)
        return _coerce(v, py_type, where, key)

    if lookup == "in":
        values = as_in_values(value)
        if isinstance(values, list):
            return [one(v) for v in values]
        return values
    if lookup == "range" and isinstance(value, list | tuple):
        return [one(v) for v in value]
    if isinstance(value, _MANY):
        raise ValidationError(
            f"{key!r} compares one record, got a {type(value).__name__}: use "
            f"{key}{SEP}in for several."
        )
    return one(value)


def _is_queryset(value: Any) -> bool:
    return getattr(value, "_as_id_select", None) is not None


# ---- one filter() call: a formula over relationship paths -----------------------
#
# Everything given to one filter() call becomes one boolean formula whose leaves sit
# on nodes of a tree of relationship paths (the root is the queried model). Django
# reads such a call as ONE join per path: the row is kept if some combination of
# related rows (LEFT JOIN: a missing row counts as NULLs) makes the formula true.
# Here each path is an EXISTS over the related rows, quantified as late as possible:
# ∃ distributes over OR, unrelated conjuncts get their own EXISTS, and conjuncts
# sharing a path share its EXISTS (the same-row rule). A missing related row is the
# extra alternative "NOT EXISTS and the formula with that path's leaves at their
# NULL value" - only emitted when that can be true (isnull=True, =None).
# Negated parts (~Q, exclude) follow Django's other rule: every leaf is its own
# subquery, so the conditions need not refer to the same related row.


class _Node:
    """A relationship path of one compiled call, with the entity it reaches."""

    __slots__ = ("rel", "parent", "entity", "children", "order")

    def __init__(
        self, rel: RelInfo | None, parent: _Node | None, entity: Any, order: int
    ):
        self.rel = rel
        self.parent = parent
        self.entity = entity
        self.children: dict[str, _Node] = {}
        self.order = order

    def exists(self, criterion: Any) -> ColumnElement[bool]:
        rel = self.rel
        assert rel is not None and self.parent is not None
        if rel.semi is not None:
            return _semi_exists(rel.semi, self.parent.entity, self.entity, criterion)
        attr = getattr(self.parent.entity, rel.key)
        if self.entity is not rel.target:
            attr = attr.of_type(self.entity)
        crit = None if criterion is True else criterion
        return attr.any(crit) if rel.to_many else attr.has(crit)  # type: ignore[no-any-return]

    def can_be_missing(self) -> bool:
        rel = self.rel
        assert rel is not None
        return rel.to_many or rel.fk is None or rel.fk_nullable

    def missing(self) -> ColumnElement[bool]:
        rel = self.rel
        assert rel is not None and self.parent is not None
        if rel.fk is not None and not rel.to_many:
            return getattr(self.parent.entity, rel.fk.key).is_(None)  # type: ignore[no-any-return]
        return ~self.exists(True)

    def within(self, other: _Node) -> bool:
        node: _Node | None = self
        while node is not None:
            if node is other:
                return True
            node = node.parent
        return False


def _semi_exists(
    semi: SemiJoin, parent: Any, entity: Any, criterion: Any
) -> ColumnElement[bool]:
    """``parent.local IN (SELECT picked FROM [link JOIN] entity WHERE criterion)``.

    Two-valued like ``EXISTS``: NULLs are kept out of both sides, so that a
    ``NOT`` around it keeps the rows an ``EXISTS`` would keep.
    """
    froms: tuple[Any, ...]
    if semi.table is not None:
        # No alias (an alias costs more than the rest of the compile): every such
        # subquery keeps its own FROM (correlate_except) and its link columns are
        # referenced only inside it, so nested uses of one link table don't clash.
        link = semi.table
        picked = link.c[semi.picked]
        stmt = select(picked)
        froms = (link,)
        if criterion is not True:
            assert semi.target_key is not None and semi.link_key is not None
            link_key = link.c[semi.link_key]
            on_link = _on_link_column(criterion, entity, semi.target_key, link_key)
            if on_link is not None:
                # only the target's key is tested (``ulabels=label``): the link
                # row carries it, and the database starts from the link's index
                criterion = on_link
                if link_key.nullable:
                    stmt = stmt.where(link_key.is_not(None))
            else:
                # a link row's target exists (foreign key): join it only to test it
                target_key = getattr(entity, semi.target_key)
                stmt = stmt.where(target_key == link_key)
                froms = (link, entity)
    else:
        picked = getattr(entity, semi.picked)
        stmt = select(picked)
        froms = (entity,)
    if criterion is not True:
        stmt = stmt.where(criterion)
    if semi.picked_nullable:
        stmt = stmt.where(picked.is_not(None))
    local = _column(parent, semi.local_key)
    test = local.in_(stmt.correlate_except(*froms).scalar_subquery())
    if semi.local_nullable:
        return and_(local.is_not(None), test)
    return test  # type: ignore[no-any-return]


def _on_link_column(
    criterion: Any, entity: Any, target_key: str, link_key: Any
) -> Any | None:
    """``criterion`` on ``link_key`` if the target's key is its only target column.

    Else None: another target column is tested, or the criterion holds a
    subquery (a nested subquery may name the target's table again, unaliased).
    """
    from sqlalchemy.sql.elements import BindParameter, ColumnClause
    from sqlalchemy.sql.selectable import SelectBase
    from sqlalchemy.sql.visitors import iterate, replacement_traverse

    source = inspect(entity).selectable
    name = getattr(entity, target_key).expression.name
    if (
        isinstance(criterion, BinaryExpression)
        and criterion.operator in (operators.eq, operators.in_op)
        and isinstance(criterion.right, BindParameter)
        and isinstance(criterion.left, ColumnClause)
        and criterion.left.table is source
        and criterion.left.name == name
    ):
        # ``key == value`` or ``key IN (values)``, the usual case: the same
        # comparison on the link column, without a traversal (most of a compile)
        return criterion.operator(link_key, criterion.right)
    found = False
    for element in iterate(criterion):
        if isinstance(element, SelectBase):
            return None
        if isinstance(element, ColumnClause) and element.table is source:
            if element.name != name:
                return None
            found = True
    if not found:
        return None

    def swap(element: Any, **_: Any) -> Any:
        if isinstance(element, ColumnClause) and element.table is source:
            return link_key
        return None

    no_options: dict[str, Any] = {}
    replaced: Any = replacement_traverse(criterion, no_options, swap)
    return replaced


class _State:
    """Nodes and entities of one compiled unit."""

    __slots__ = ("root", "used", "count")

    def __init__(self, model: type) -> None:
        self.root = _Node(None, None, model, 0)
        self.used: set[type] = {model}
        self.count = 0

    def child(self, node: _Node, rel: RelInfo) -> _Node:
        found = node.children.get(rel.key)
        if found is None:
            # the first path to a model uses its table; later ones an alias, so
            # that an inner EXISTS can still refer to the outer rows
            if rel.target in self.used:
                entity: Any = aliased(rel.target)
            else:
                entity = rel.target
                self.used.add(rel.target)
            self.count += 1
            found = _Node(rel, node, entity, self.count)
            node.children[rel.key] = found
        return found


class _Leaf:
    """One condition: its SQL on ``node``'s entity, and its value on a NULL row."""

    __slots__ = ("node", "sql", "null", "nullable")

    def __init__(self, node: _Node, sql: Any, null: bool, nullable: Any = None):
        self.node = node
        self.sql = sql
        self.null = null
        #: a nullable column compared by ``sql`` (made two-valued under NOT)
        self.nullable = nullable


Formula = Any  # bool | _Leaf | tuple[str, list[Formula]]


def _and(parts: list[Any]) -> Any:
    out = []
    for p in parts:
        if p is False:
            return False
        if p is not True:
            out.append(p)
    if not out:
        return True
    return out[0] if len(out) == 1 else and_(*out)


def _or(parts: list[Any]) -> Any:
    out = []
    for p in parts:
        if p is True:
            return True
        if p is not False:
            out.append(p)
    if not out:
        return False
    return out[0] if len(out) == 1 else or_(*out)


def _frontier(node: _Node, bound: frozenset[_Node]) -> _Node | None:
    if node in bound:
        return None
    while node.parent not in bound:
        assert node.parent is not None
        node = node.parent
    return node


def _frontiers(f: Formula, bound: frozenset[_Node], out: list[_Node]) -> None:
    if isinstance(f, _Leaf):
        node = _frontier(f.node, bound)
        if node is not None and node not in out:
            out.append(node)
    elif isinstance(f, tuple):
        for item in f[1]:
            _frontiers(item, bound, out)


def _flatten_and(items: list[Formula], out: list[Formula]) -> list[Formula]:
    for item in items:
        if isinstance(item, tuple) and item[0] == "and":
            _flatten_and(item[1], out)
        else:
            out.append(item)
    return out


def _render(f: Formula, bound: frozenset[_Node]) -> Any:
    if f is True or f is False:
        return f
    if isinstance(f, _Leaf):
        node = _frontier(f.node, bound)
        return f.sql if node is None else _quantify(f, bound, node)
    op, items = f
    if op == "or":  # EXISTS distributes over OR
        return _or([_render(item, bound) for item in items])
    if tuple in map(type, items):
        return _render_and(_flatten_and(items, []), bound)
    # only leaves (the common case): group them by the path they start
    parts: list[Any] = []
    groups: dict[_Node, list[Formula]] = {}
    for item in items:
        if item is True or item is False:
            parts.append(item)
            continue
        node = _frontier(item.node, bound)
        if node is None:
            parts.append(item.sql)
        else:
            groups.setdefault(node, []).append(item)
    for node, members in groups.items():
        g = members[0] if len(members) == 1 else ("and", members)
        parts.append(_quantify(g, bound, node))
    return _and(parts)


def _render_and(items: list[Formula], bound: frozenset[_Node]) -> Any:
    """A conjunction: conjuncts sharing a path share its EXISTS."""
    direct: list[Any] = []
    groups: list[tuple[list[_Node], list[Formula]]] = []
    for item in items:
        nodes: list[_Node] = []
        _frontiers(item, bound, nodes)
        if not nodes:
            direct.append(item)
            continue
        members = [item]
        rest = []
        for group_nodes, group in groups:
            if any(n in nodes for n in group_nodes):
                nodes.extend(n for n in group_nodes if n not in nodes)
                members = group + members
            else:
                rest.append((group_nodes, group))
        groups = [*rest, (nodes, members)]
    parts = [_render(item, bound) for item in direct]
    for nodes, members in groups:
        if len(members) == 1:
            parts.append(_render(members[0], bound))
            continue
        node = min(nodes, key=lambda n: n.order)
        parts.append(_quantify(("and", members), bound, node))
    return _and(parts)


def _at_null(f: Formula, node: _Node) -> Formula:
    """``f`` with every leaf on ``node`` (or below it) at its NULL-row value."""
    if isinstance(f, _Leaf):
        return f.null if f.node.within(node) else f
    if not isinstance(f, tuple):
        return f
    op, items = f
    values = [_at_null(item, node) for item in items]
    if op == "and":
        if any(v is False for v in values):
            return False
        values = [v for v in values if v is not True]
        return ("and", values) if values else True
    if any(v is True for v in values):
        return True
    values = [v for v in values if v is not False]
    return ("or", values) if values else False


def _quantify(f: Formula, bound: frozenset[_Node], node: _Node) -> Any:
    inner = _render(f, bound | {node})
    exists = False if inner is False else node.exists(inner)
    if not node.can_be_missing() or (isinstance(f, _Leaf) and not f.null):
        return exists
    at_null = _at_null(f, node)
    if at_null is False:
        return exists
    return _or([exists, _and([node.missing(), _render(at_null, bound)])])


def _final(sql: Any) -> ColumnElement[bool]:
    if sql is True:
        return true()
    if sql is False:
        return false()
    return sql  # type: ignore[no-any-return]


# ---- leaves ----------------------------------------------------------------------


def _date_part(column: Any, transform: str, aware: bool) -> Any:
    expr = utc(column) if aware else column
    if transform == "date":
        return to_date(expr)
    return extract(transform, expr)


def _column(entity: Any, key: str) -> Any:
    """The column ``key`` of an entity: the table's own for a mapped class.

    Comparing Core columns skips the ORM attribute layer (a third of a compile);
    an ``aliased()`` entity keeps its attribute, which renders the alias.
    """
    info = _INFO.get(entity)
    if info is not None:
        column = info.table_columns.get(key)
        if column is not None:
            return column
    return getattr(entity, key)


def _leaf(state: _State, key: str, value: Any) -> _Leaf | bool:
    root = state.root
    model = root.entity
    if key == "visibility" and value is None and model_info(model).has_visibility:
        return True  # visibility=None: records of every visibility
    parsed = parse_key(model, key)
    node = root
    for hop in parsed.hops:
        node = state.child(node, hop)
    lookup = parsed.lookup
    fn = LOOKUPS[lookup]
    if parsed.column is not None:
        info = model_info(parsed.model)
        name = parsed.column
        column = _column(node.entity, name)
        py_type = info.py_types[name]
        transform = parsed.transform
        if transform is not None:
            column = _date_part(column, transform, name in info.utc_keys)
            py_type = date if transform == "date" else int
        if lookup in _TEXT and py_type is not str:
            column = cast(column, String)  # Django compares the text form
        if lookup == "exact" and _is_queryset(value):
            fn = LOOKUPS["in"]
        elif lookup in _BUILTIN:
            where = f"{info.model.__name__}.{name}"
            if transform is not None:
                where += f"{SEP}{transform}"
            value = _check_value(py_type, where, lookup, value, key)
        is_null = (lookup == "isnull" and bool(value)) or (
            value is None and lookup in ("exact", "iexact")
        )
        nullable = None
        if info.nullable[name] and lookup not in NULL_SAFE and value is not None:
            nullable = column
        return _Leaf(node, fn(column, value), is_null, nullable)
    rel = parsed.relation
    assert rel is not None
    if lookup == "isnull" or (lookup == "exact" and value is None):
        if lookup == "isnull" and not isinstance(value, bool):
            raise ValidationError(
                f"__isnull takes True or False, got {value!r} (in {key!r})."
            )
        isnull = bool(value) if lookup == "isnull" else True
        if rel.fk is not None:
            fk = _column(node.entity, rel.fk.key)
            return _Leaf(node, fk.is_(None) if isnull else fk.is_not(None), isnull)
        # "the related row is missing": false for every real row
        return _Leaf(state.child(node, rel), not isnull, isnull)
    if lookup == "exact" and _is_queryset(value):
        lookup, fn = "in", LOOKUPS["in"]
    if lookup in _BUILTIN:
        value = _relation_value(rel, key, lookup, value)
    if rel.fk is not None:
        fk = _column(node.entity, rel.fk.key)
        return _Leaf(node, fn(fk, value), False, fk if rel.fk_nullable else None)
    target = state.child(node, rel)
    return _Leaf(target, fn(_column(target.entity, rel.remote_key), value), False)


#: the lookups this module defines (registered ones get their values unchecked)
_BUILTIN = frozenset(LOOKUPS)


def _formula(state: _State, query: Any, expressions: dict[str, Any] | None) -> Formula:
    """The positive formula of a Q (or raw criterion) within one call."""
    if isinstance(query, ClauseElement):
        return _Leaf(state.root, query, False)
    if query is None:  # the keywords of the call itself
        assert expressions is not None
        return ("and", [_leaf(state, k, v) for k, v in expressions.items()])
    _check_q(query)
    if query.negated:
        sql = _negated(state.root.entity, query, 1)
        return _Leaf(state.root, _not(sql), False)
    items: list[Formula] = []
    if query.expressions:
        items.append(
            ("and", [_leaf(state, k, v) for k, v in query.expressions.items()])
        )
    items.extend(_formula(state, child, None) for child in query.children)
    return ("or" if query.connector == "OR" else "and", items)


def _check_q(query: Any) -> None:
    if not hasattr(query, "expressions") or not hasattr(query, "children"):
        raise TypeError(
            f"filter() takes Q objects, SQLAlchemy criteria and keywords, "
            f"got {query!r}."
        )


def _not(sql: Any) -> Any:
    if sql is True:
        return False
    if sql is False:
        return True
    return not_(sql)


def _unit(model: type, key: str, value: Any, parity: int) -> Any:
    """One leaf of a negated part, compiled on its own (Django's split exclude)."""
    state = _State(model)
    leaf = _leaf(state, key, value)
    if isinstance(leaf, bool):
        return leaf
    sql = _render(leaf, frozenset((state.root,)))
    if parity % 2 and leaf.node is state.root and leaf.nullable is not None:
        if sql is not True and sql is not False:
            # SQL's NOT (x = 1) is NULL for a NULL x; Django's exclude keeps
            # such rows, so make the condition two-valued first.
            sql = and_(sql, leaf.nullable.is_not(None))
    return sql


def _negated(model: type, query: Any, parity: int) -> Any:
    """The criterion a NOT will apply to: every leaf its own subquery."""
    parts: list[Any] = []
    if query.expressions:
        parts.append(
            _and([_unit(model, k, v, parity) for k, v in query.expressions.items()])
        )
    for child in query.children:
        if isinstance(child, ClauseElement):
            parts.append(child)
            continue
        _check_q(child)
        if child.negated:
            parts.append(_not(_negated(model, child, parity + 1)))
        else:
            parts.append(_negated(model, child, parity))
    return _or(parts) if query.connector == "OR" else _and(parts)


class _Group:
    """The arguments of one call, shaped like a ``Q`` (AND of them all)."""

    __slots__ = ("children", "expressions")

    connector = "AND"
    negated = False

    def __init__(self, children: tuple[Any, ...], expressions: dict[str, Any]):
        self.children = children
        self.expressions = expressions


def compile_filter(
    model: type,
    queries: tuple[Any, ...] = (),
    expressions: dict[str, Any] | None = None,
) -> ColumnElement[bool]:
    """Compile the arguments of one ``filter()`` call into one criterion.

    Keywords and ``Q`` objects (combined with ``&``, ``|`` or side by side) that
    share a to-many prefix must match the same related row; ``|`` reuses that
    row too. A missing related row counts as NULLs (``isnull=True`` matches it).

    Args:
        model: The mapped class the keywords start from.
        queries: ``Q`` objects and raw SQLAlchemy criteria.
        expressions: ``{"a__b__lookup": value, ...}``.

    Raises:
        FieldError: an unknown field or lookup, or text for a relationship.
        ValidationError: a value that does not fit the column or the lookup.
    """
    state = _State(model)
    items = [_formula(state, q, None) for q in queries]
    if expressions:
        items.extend(_leaf(state, k, v) for k, v in expressions.items())
    return _final(_render(("and", items), frozenset((state.root,))))


def compile_exclude(
    model: type,
    queries: tuple[Any, ...] = (),
    expressions: dict[str, Any] | None = None,
) -> ColumnElement[bool]:
    """The criterion of one ``exclude()`` call: ``NOT`` of its conditions.

    As in Django, the conditions need not refer to the same related row: each
    one is its own subquery, and rows where a compared column is NULL are kept.
    """
    group = _Group(tuple(queries), dict(expressions or {}))
    return _final(_not(_negated(model, group, 1)))


def compile_q(model: type, query: Any, negated: bool = False) -> ColumnElement[bool]:
    """Compile one ``Q`` as a whole ``filter()`` call.

    With ``negated`` the result is the part an enclosing ``NOT`` applies to.
    """
    if not negated:
        return compile_filter(model, (query,))
    _check_q(query)
    if query.negated:
        return _final(_not(_negated(model, query, 2)))
    return _final(_negated(model, query, 1))


def compile_lookups(
    model: type, expressions: dict[str, Any], *, negated: bool = False
) -> ColumnElement[bool]:
    """Compile one group of keyword lookups into a single boolean criterion.

    Args:
        model: The mapped class the keywords start from.
        expressions: ``{"a__b__lookup": value, ...}``.
        negated: The caller will negate the result (``exclude``, ``~Q``): each
            lookup is then its own subquery, and nullable column conditions are
            two-valued so that ``NOT`` keeps rows where the column is NULL.

    Returns:
        The criterion (``true()`` when nothing is left to compare).

    Raises:
        FieldError: an unknown field or lookup.
    """
    if negated:
        return _final(_negated(model, _Group((), expressions), 1))
    return compile_filter(model, (), expressions)


def resolve_field(model: type, key: str) -> tuple[tuple[RelInfo, ...], type, str]:
    """Resolve a field path (no lookup) for ``order_by``, ``list`` and ``df``.

    A path ending on a relationship resolves to its foreign key (to-one) or to
    the related primary key (to-many).

    Returns:
        ``(hops, model reached, column attribute key)``.

    Raises:
        FieldError: unknown names, or a lookup suffix.
    """
    parsed = parse_key(model, key)
    if parsed.transform is not None or (
        parsed.lookup != "exact" and not key.endswith(SEP + "exact")
    ):
        raise FieldError(
            f"{key!r} ends in the lookup {parsed.lookup!r}; give a field path here."
        )
    if parsed.column is not None:
        return parsed.hops, parsed.model, parsed.column
    rel = parsed.relation
    assert rel is not None
    if rel.fk is not None:
        return parsed.hops, rel.parent, rel.fk.key
    return (*parsed.hops, rel), rel.target, rel.remote_key
