"""Compile Django-style keyword lookups into SQLAlchemy criteria.

``a__b__c__lookup=value`` is read left to right over the mapper of the model:
a relationship descends, a column ends the path (optionally followed by a lookup
from :data:`~lamin_sa.query.lookups.LOOKUPS`). To-one hops become ``Rel.has()``
and to-many hops (one-to-many and many-to-many, including view-only secondary
relationships) become ``Rel.any()``, i.e. correlated ``EXISTS`` subqueries, so
results never contain duplicates and need no ``DISTINCT``.

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
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, inspect, true
from sqlalchemy.orm import Mapper, RelationshipDirection, RelationshipProperty
from sqlalchemy.sql.elements import ColumnElement

from lamin_sa.db.base import UTCDateTime
from lamin_sa.errors import FieldError, NotSavedError, ValidationError
from lamin_sa.query.lookups import LOOKUPS, NULL_SAFE, as_in_values

SEP = "__"


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
    has_visibility: bool
    choices: tuple[str, ...] = field(default=())
    n_props: int = 0

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


def _build_info(model: type) -> ModelInfo:
    mapper: Mapper[Any] = inspect(model)
    columns: dict[str, Any] = {}
    table_columns: dict[str, Any] = {}
    nullable: dict[str, bool] = {}
    datetime_keys: set[str] = set()
    utc_keys: list[str] = []
    for attr in mapper.column_attrs:
        col = attr.columns[0]
        columns[attr.key] = attr.class_attribute
        table_columns[attr.key] = col
        nullable[attr.key] = bool(getattr(col, "nullable", True))
        if _python_type(col.type) in (datetime, date):
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
        has_visibility="visibility" in columns,
        choices=tuple(sorted([*columns, *relationships])),
        n_props=len(mapper.attrs),
    )


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


@dataclass(frozen=True, slots=True)
class ParsedKey:
    """A filter keyword split into relationship hops, a terminal field and lookup.

    ``column`` is the terminal column attribute key on the model reached after
    ``hops``; ``relation`` is set instead when the key ends on a relationship
    (compare by primary key).
    """

    key: str
    hops: tuple[RelInfo, ...]
    model: type
    column: str | None
    relation: RelInfo | None
    lookup: str


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


def _parse(model: type, key: str) -> ParsedKey:
    parts = key.split(SEP)
    hops: list[RelInfo] = []
    current = model
    i = 0
    n = len(parts)
    while i < n:
        name = parts[i]
        info = model_info(current)
        rest = n - i - 1
        if name in info.columns:
            if rest == 0:
                lookup = "exact"
            elif rest == 1 and parts[i + 1] in LOOKUPS:
                lookup = parts[i + 1]
            elif rest == 1:
                raise lookup_error(info, name, parts[i + 1], key)
            else:
                raise FieldError(
                    f"{info.model.__name__}.{name} is a column, not a relationship: "
                    f"cannot follow it with {SEP.join(parts[i + 1 :])!r} (in {key!r})."
                )
            return _finish(key, hops, current, name, None, lookup)
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
) -> ParsedKey:
    # ``transform__id=5`` compares the local foreign key, without a subquery.
    if column is not None and hops:
        last = hops[-1]
        if last.fk is not None and column == last.remote_key:
            return ParsedKey(key, tuple(hops[:-1]), last.parent, None, last, lookup)
    return ParsedKey(key, tuple(hops), model, column, relation, lookup)


# ---- values --------------------------------------------------------------------


def _coerce_dt(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError as e:
            raise ValidationError(f"Not an ISO date or datetime: {value!r}.") from e
    if isinstance(value, list | tuple | set | frozenset):
        return [_coerce_dt(v) for v in value]
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


def _relation_value(rel: RelInfo, lookup: str, value: Any) -> Any:
    other = getattr(value, "_as_id_select", None) and getattr(value, "model", None)
    if other is not None and not issubclass(other, rel.target):
        raise ValidationError(
            f"{rel.parent.__name__}.{rel.key} holds {rel.target.__name__} records, "
            f"got a QuerySet of {other.__name__}."
        )
    if lookup == "in":
        values = as_in_values(value)
        if isinstance(values, list):
            return [_key_of(rel, v) for v in values]
        return values
    if lookup == "range" and isinstance(value, list | tuple):
        return [_key_of(rel, v) for v in value]
    return _key_of(rel, value)


def _is_queryset(value: Any) -> bool:
    return getattr(value, "_as_id_select", None) is not None


# ---- grouping and rendering ----------------------------------------------------


class _Node:
    """Conditions on one model reached by one relationship prefix."""

    __slots__ = ("conds", "children")

    def __init__(self) -> None:
        # (condition, nullable column or None): the column makes a negated
        # condition also match NULL rows (see render).
        self.conds: list[tuple[ColumnElement[bool], Any]] = []
        self.children: dict[str, tuple[RelInfo, _Node]] = {}

    def child(self, rel: RelInfo) -> _Node:
        entry = self.children.get(rel.key)
        if entry is None:
            node = _Node()
            self.children[rel.key] = (rel, node)
            return node
        return entry[1]


def _add(root: _Node, model: type, key: str, value: Any) -> None:
    parsed = parse_key(model, key)
    node = root
    for rel in parsed.hops:
        node = node.child(rel)
    lookup = parsed.lookup
    fn = LOOKUPS[lookup]
    if parsed.column is not None:
        info = model_info(parsed.model)
        name = parsed.column
        if name in info.datetime_keys:
            value = _coerce_dt(value)
        if lookup == "exact" and _is_queryset(value):
            fn = LOOKUPS["in"]
        cond = fn(info.columns[name], value)
        null_safe = lookup in NULL_SAFE or (
            value is None and lookup in ("exact", "iexact")
        )
        nullable_col = (
            info.columns[name] if info.nullable[name] and not null_safe else None
        )
        node.conds.append((cond, nullable_col))
        return
    rel = parsed.relation
    assert rel is not None
    if lookup == "isnull" or (lookup == "exact" and value is None):
        isnull = bool(value) if lookup == "isnull" else True
        if rel.fk is not None:
            cond = rel.fk.is_(None) if isnull else rel.fk.is_not(None)
        else:
            exists = rel.attr.any() if rel.to_many else rel.attr.has()
            cond = ~exists if isnull else exists
        node.conds.append((cond, None))
        return
    if lookup == "exact" and _is_queryset(value):
        lookup, fn = "in", LOOKUPS["in"]
    value = _relation_value(rel, lookup, value)
    if rel.fk is not None:
        cond = fn(rel.fk, value)
        nullable_col = rel.fk if rel.fk_nullable else None
        node.conds.append((cond, nullable_col))
        return
    target = model_info(rel.target)
    node.child(rel).conds.append((fn(target.columns[rel.remote_key], value), None))


def _render(node: _Node, negated: bool) -> ColumnElement[bool]:
    parts: list[ColumnElement[bool]] = []
    for cond, nullable_col in node.conds:
        if negated and nullable_col is not None:
            # SQL's NOT (x = 1) is NULL for a NULL x; Django's exclude keeps
            # such rows, so make the condition two-valued first.
            cond = and_(cond, nullable_col.is_not(None))
        parts.append(cond)
    for rel, child in node.children.values():
        inner = _render(child, False) if (child.conds or child.children) else None
        if rel.to_many:
            parts.append(rel.attr.any(inner))
        else:
            parts.append(rel.attr.has(inner))
    if not parts:
        return true()
    if len(parts) == 1:
        return parts[0]
    return and_(*parts)


def compile_lookups(
    model: type, expressions: dict[str, Any], *, negated: bool = False
) -> ColumnElement[bool]:
    """Compile one group of keyword lookups into a single boolean criterion.

    Lookups sharing a relationship prefix are grouped (same related row).

    Args:
        model: The mapped class the keywords start from.
        expressions: ``{"a__b__lookup": value, ...}``.
        negated: The caller will negate the result (``exclude``, ``~Q``); nullable
            column conditions are then made two-valued so that ``NOT`` keeps rows
            where the column is NULL, as Django does.

    Returns:
        The criterion (``true()`` when nothing is left to compare).

    Raises:
        FieldError: an unknown field or lookup.
    """
    root = _Node()
    has_visibility = model_info(model).has_visibility
    for key, value in expressions.items():
        if value is None and key == "visibility" and has_visibility:
            continue  # visibility=None: records of every visibility
        _add(root, model, key, value)
    return _render(root, negated)


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
    if parsed.lookup != "exact" and not key.endswith(SEP + "exact"):
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
