"""Lookups: the ``__<lookup>`` suffixes of Django-style filter keywords.

A lookup is a function ``(column, value) -> boolean SQL expression``. The registry
:data:`LOOKUPS` maps names to functions; modules add their own with
:func:`register_lookup`. Every value becomes a bound parameter; the LIKE-based
lookups escape ``%`` and ``_`` so they match literally, and the case-insensitive
ones compare lower-cased text with every Unicode letter folded on both SQLite and
PostgreSQL (see :class:`~lamin_sa.db.sql.ulower`). The compiler hands text lookups
the text form of a non-text column, as Django compares it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Select, func
from sqlalchemy.sql.elements import ColumnElement

from lamin_sa.db.sql import in_list, py_lower, ulower
from lamin_sa.errors import ValidationError

LookupFn = Callable[[ColumnElement[Any], Any], ColumnElement[bool]]

#: name -> function; the compiler consults it for every ``__<name>`` suffix.
LOOKUPS: dict[str, LookupFn] = {}


def register_lookup(name: str) -> Callable[[LookupFn], LookupFn]:
    """Register a lookup under ``name`` (a decorator).

    Args:
        name: The suffix used in filter keywords, e.g. ``"regex"`` for
            ``name__regex=...``. It must not contain ``__``.

    Example:
        >>> @register_lookup("ne")
        ... def _ne(column, value):
        ...     return column != value
    """
    if "__" in name or not name:
        raise ValueError(f"Invalid lookup name {name!r}.")

    def decorator(fn: LookupFn) -> LookupFn:
        LOOKUPS[name] = fn
        return fn

    return decorator


def as_in_values(value: Any) -> list[Any] | Select[Any]:
    """Normalize the value of an ``__in`` lookup to a list or a sub-select.

    Raises:
        ValidationError: ``value`` is a plain string or not iterable.
    """
    if isinstance(value, Select):
        return value
    to_select = getattr(value, "_as_id_select", None)
    if to_select is not None:
        return to_select()  # type: ignore[no-any-return]
    if isinstance(value, str | bytes):
        raise ValidationError(
            f"__in needs a list, tuple, set or QuerySet, not a string ({value!r}); "
            f"write __in=[{value!r}] for one value."
        )
    if isinstance(value, dict):
        raise ValidationError("__in needs a list, tuple, set or QuerySet, not a dict.")
    if not isinstance(value, Iterable):
        raise ValidationError(
            f"__in needs a list, tuple, set or QuerySet, got {type(value).__name__}."
        )
    return list(value)


def _text(value: Any, lookup: str) -> str:
    if value is None:
        raise ValidationError(f"__{lookup} needs a string, got None.")
    return value if isinstance(value, str) else str(value)


#: ``(column, folded column)`` by ``(id(column), ascii)``: a column's lower()
#: is built once (building a SQL function costs as much as the rest of a lookup)
_FOLDED: dict[tuple[int, bool], tuple[ColumnElement[Any], ColumnElement[Any]]] = {}
_FOLDED_MAX = 512


def _folded(column: ColumnElement[Any], text: str) -> ColumnElement[Any]:
    # SQLite's built-in lower() is much faster than a Python function and folds
    # the same for ASCII text; only a non-ASCII value needs every letter folded
    key = (id(column), text.isascii())
    hit = _FOLDED.get(key)
    if hit is not None and hit[0] is column:
        return hit[1]
    folded = func.lower(column) if key[1] else ulower(column)
    if len(_FOLDED) >= _FOLDED_MAX:  # aliased columns come and go
        _FOLDED.clear()
    _FOLDED[key] = (column, folded)
    return folded


def _escaped(text: str) -> str:
    """``text`` for a LIKE pattern with ``ESCAPE '/'``, matched literally.

    Escaped as SQLAlchemy's ``autoescape`` does, without its per-call
    processing. The callers' ``contains``/``startswith``/``endswith`` keep the
    wildcards outside the bound parameter: SQLite re-prepares a statement whose
    whole LIKE pattern is a parameter on every run.
    """
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_")


@register_lookup("exact")
def _exact(column: ColumnElement[Any], value: Any) -> ColumnElement[bool]:
    if value is None:
        return column.is_(None)
    return column == value


@register_lookup("iexact")
def _iexact(column: ColumnElement[Any], value: Any) -> ColumnElement[bool]:
    if value is None:
        return column.is_(None)
    text = py_lower(_text(value, "iexact"))
    return _folded(column, text) == text


@register_lookup("contains")
def _contains(column: ColumnElement[Any], value: Any) -> ColumnElement[bool]:
    return column.contains(_escaped(_text(value, "contains")), escape="/")


@register_lookup("icontains")
def _icontains(column: ColumnElement[Any], value: Any) -> ColumnElement[bool]:
    text = py_lower(_text(value, "icontains"))
    return _folded(column, text).contains(_escaped(text), escape="/")


@register_lookup("startswith")
def _startswith(column: ColumnElement[Any], value: Any) -> ColumnElement[bool]:
    return column.startswith(_escaped(_text(value, "startswith")), escape="/")


@register_lookup("istartswith")
def _istartswith(column: ColumnElement[Any], value: Any) -> ColumnElement[bool]:
    text = py_lower(_text(value, "istartswith"))
    return _folded(column, text).startswith(_escaped(text), escape="/")


@register_lookup("endswith")
def _endswith(column: ColumnElement[Any], value: Any) -> ColumnElement[bool]:
    return column.endswith(_escaped(_text(value, "endswith")), escape="/")


@register_lookup("iendswith")
def _iendswith(column: ColumnElement[Any], value: Any) -> ColumnElement[bool]:
    text = py_lower(_text(value, "iendswith"))
    return _folded(column, text).endswith(_escaped(text), escape="/")


@register_lookup("regex")
def _regex(column: ColumnElement[Any], value: Any) -> ColumnElement[bool]:
    """A regular expression search (PostgreSQL ``~``; Python ``re`` on SQLite)."""
    return column.regexp_match(_text(value, "regex"))


@register_lookup("iregex")
def _iregex(column: ColumnElement[Any], value: Any) -> ColumnElement[bool]:
    # an embedded (?i) works in both PostgreSQL's and Python's regex syntax
    return column.regexp_match("(?i)" + _text(value, "iregex"))


@register_lookup("in")
def _in(column: ColumnElement[Any], value: Any) -> ColumnElement[bool]:
    values = as_in_values(value)
    if isinstance(values, Select):
        return column.in_(values.scalar_subquery())
    return in_list(column, values)


@register_lookup("gt")
def _gt(column: ColumnElement[Any], value: Any) -> ColumnElement[bool]:
    return column > value


@register_lookup("gte")
def _gte(column: ColumnElement[Any], value: Any) -> ColumnElement[bool]:
    return column >= value


@register_lookup("lt")
def _lt(column: ColumnElement[Any], value: Any) -> ColumnElement[bool]:
    return column < value


@register_lookup("lte")
def _lte(column: ColumnElement[Any], value: Any) -> ColumnElement[bool]:
    return column <= value


@register_lookup("range")
def _range(column: ColumnElement[Any], value: Any) -> ColumnElement[bool]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ValidationError(f"__range needs a (low, high) pair, got {value!r}.")
    bounds = list(value)
    if len(bounds) != 2:
        raise ValidationError(f"__range needs a (low, high) pair, got {value!r}.")
    return column.between(bounds[0], bounds[1])


@register_lookup("isnull")
def _isnull(column: ColumnElement[Any], value: Any) -> ColumnElement[bool]:
    return column.is_(None) if value else column.is_not(None)


#: lookups whose result is already two-valued (never SQL NULL) for NULL columns.
NULL_SAFE = frozenset({"isnull"})
