"""``Registry.lookup()``: attribute access to records by a slugged field value."""

from __future__ import annotations

import keyword
import logging
import re
from typing import TYPE_CHECKING, Any

from lamin_sa.curate.values import (
    as_queryset,
    column_of,
    execute,
    field_name,
    scoped_select,
)

if TYPE_CHECKING:
    pass


logger = logging.getLogger(__name__)


# ---- lookup ---------------------------------------------------------------------

_NON_IDENT = re.compile(r"[^0-9a-zA-Z_]+")
#: attribute names of Lookup itself; values with these slugs get the ln_ prefix.
_RESERVED = frozenset({"dict"})
#: attributes a Lookup's repr lists
_REPR_ITEMS = 10


def slug(value: Any) -> str:
    """The attribute name of a value in a lookup.

    Lower-cased; runs of characters outside ``[0-9a-zA-Z_]`` become ``_``;
    ``ln_`` is prepended when the result does not start with a letter or is a
    Python keyword (``"class"`` → ``ln_class``).
    """
    text = _NON_IDENT.sub("_", str(value).lower())
    if (
        not text
        or not text[0].isalpha()
        or not text[0].isascii()
        or keyword.iskeyword(text)
        or text in _RESERVED
    ):
        text = f"ln_{text}"
    return text


class Lookup:
    """Attribute access to records by a field's values (tab completion).

    ``lookup.cd8_positive_t_cell`` gives the record (or the ``return_field``
    value) of ``"CD8-positive T cell"``; values sharing a slug give a list.
    ``lookup.dict()`` maps raw field values to records.
    """

    def __init__(self, pairs: list[tuple[Any, Any]], registry: str) -> None:
        items: dict[str, Any] = {}
        raw: dict[Any, Any] = {}
        for value, target in pairs:
            if value is None:
                continue
            key = slug(value)
            if key in items:
                existing = items[key]
                if isinstance(existing, _Many):
                    existing.append(target)
                else:
                    items[key] = _Many([existing, target])
            else:
                items[key] = target
            raw.setdefault(value, target)
        self.__dict__["_items"] = {
            k: list(v) if isinstance(v, _Many) else v for k, v in items.items()
        }
        self.__dict__["_raw"] = raw
        self.__dict__["_registry"] = registry

    def __getattr__(self, name: str) -> Any:
        items = self.__dict__["_items"]
        if name in items:
            return items[name]
        import difflib

        close = difflib.get_close_matches(name, list(items), n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise AttributeError(
            f"{self.__dict__['_registry']} lookup has no {name!r}.{hint}"
        )

    def __getitem__(self, name: str) -> Any:
        return self._items[name]

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Lookup objects are read-only.")

    def __dir__(self) -> list[str]:
        return sorted(self.__dict__["_items"])

    def __len__(self) -> int:
        return len(self.__dict__["_items"])

    def __contains__(self, name: object) -> bool:
        return name in self.__dict__["_items"]

    def keys(self) -> list[str]:
        """The attribute names."""
        return list(self.__dict__["_items"])

    def dict(self) -> dict[Any, Any]:
        """Raw field value → record (or ``return_field`` value)."""
        return dict(self.__dict__["_raw"])

    def __repr__(self) -> str:
        raw = self.__dict__["_raw"]
        registry = self.__dict__["_registry"]
        n = len(raw)
        if not n:
            return f"Lookup[{registry}]: no values"
        values = f"{n} value{'' if n == 1 else 's'}"
        lines = [f"Lookup[{registry}] ({values}): attribute → value"]
        for value in list(raw)[:_REPR_ITEMS]:
            lines.append(f"  .{slug(value)} → {value!r}")
        if n > _REPR_ITEMS:
            lines.append(f"  … {n - _REPR_ITEMS} more (tab-complete or .dict())")
        return "\n".join(lines)


class _Many(list):  # type: ignore[type-arg]
    """Marks a slug shared by several values while building a lookup."""


def lookup(scope: Any, field: Any = None, return_field: Any = None) -> Lookup:
    """A :class:`Lookup` over the records of ``scope`` (one query).

    Args:
        scope: A registry class or a QuerySet.
        field: The field whose values become attributes (default: name field).
        return_field: Give this field's value instead of the record.
    """
    qs = as_queryset(scope)
    name = field_name(qs.model, field)
    pk = qs.info.pk
    if return_field is None:
        records = qs.fetch(qs.select().order_by(pk))
        pairs = [(getattr(r, name), r) for r in records]
    else:
        ret = field_name(qs.model, return_field)
        rows = execute(
            scoped_select(qs, column_of(qs, name), column_of(qs, ret)).order_by(pk)
        )
        pairs = [(row[0], row[1]) for row in rows]
    return Lookup(pairs, qs.model.__name__)
