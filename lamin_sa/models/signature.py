"""The constructor signature a registry shows to ``inspect``, ``help()`` and Jupyter.

Registries construct from ``**kwargs`` (``Record.__init__``), so Python alone would
show ``(*args, **kwargs)``. :class:`InitSignature` builds the real one per class:
the call pattern the constructor documents (``Artifact(data, key=None, ...)`` in
double back-quotes in its ``__init__`` docstring) followed by every other field
the constructor accepts (the mapped columns and writable to-one relationships),
keyword-only.
"""

from __future__ import annotations

import ast
import inspect
import re
from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapper, RelationshipDirection

_EMPTY = inspect.Parameter.empty


def documented_call(cls: type) -> str | None:
    """The parameters of ``Cls(...)`` documented in the class's ``__init__``.

    Example:
        >>> documented_call(ln.Run)  # doctest: +SKIP
        'transform, reference=None'
    """
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        doc = inspect.getdoc(init) or ""
        found = re.search(rf"``{re.escape(klass.__name__)}\((.*?)\)``", doc, re.S)
        if found:
            return " ".join(found.group(1).split())
    return None


def _documented_parameters(call: str) -> list[inspect.Parameter]:
    """Parameters of a documented call; ``name=...`` is a required keyword."""
    call = re.sub(r",?\s*\.\.\.\s*$", "", call.strip())  # a trailing "..." = "more"
    try:
        tree = ast.parse(f"def f({call}): pass")
    except SyntaxError:
        return []
    args = tree.body[0].args  # type: ignore[attr-defined]
    out = []
    for arg in args.args[: len(args.args) - len(args.defaults)]:
        out.append(inspect.Parameter(arg.arg, inspect.Parameter.POSITIONAL_OR_KEYWORD))
    defaults = args.args[len(args.args) - len(args.defaults) :]
    for arg, node in zip(defaults, args.defaults, strict=True):
        try:
            value = ast.literal_eval(node)
        except ValueError:  # e.g. ``field=ln.Feature.name``: shown as written
            value = _Shown(ast.unparse(node))
        default = _EMPTY if value is Ellipsis else value
        kind = inspect.Parameter.KEYWORD_ONLY
        out.append(inspect.Parameter(arg.arg, kind, default=default))
    return out


class _Shown:
    """A default shown as its source text."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _annotation(column: Any, optional: bool) -> Any:
    try:
        python_type = column.type.python_type
    except (NotImplementedError, AttributeError):
        return _EMPTY
    if python_type is object:  # a custom column type: nothing useful to show
        return _EMPTY
    return python_type | None if optional else python_type


def init_signature(cls: type) -> inspect.Signature:
    """The constructor's signature: documented parameters, then the other fields.

    Example:
        >>> str(init_signature(ln.ULabel))  # doctest: +SKIP
        '(*, name: str, description: str | None = None, ...)'
    """
    call = documented_call(cls)
    params = _documented_parameters(call) if call else []
    seen = {p.name for p in params}
    mapper: Mapper[Any] = sa_inspect(cls)
    accepted = cls._init_fields()  # type: ignore[attr-defined]
    # a documented call says what is required; else the registry's _required
    required = set() if call else set(getattr(cls, "_required", ()))
    to_one = {
        r.key: r
        for r in mapper.relationships
        if r.direction is RelationshipDirection.MANYTOONE and not r.viewonly
    }
    # a foreign key column shows as its relationship (``run``, not ``run_id``)
    fk_columns = {c.key for r in to_one.values() for c in r.local_columns}
    extra: list[inspect.Parameter] = []
    for attr in mapper.column_attrs:
        key = attr.key
        if key in seen or key not in accepted or key in fk_columns:
            continue
        column = attr.columns[0]
        default = _EMPTY if key in required else None
        extra.append(
            inspect.Parameter(
                key,
                inspect.Parameter.KEYWORD_ONLY,
                default=default,
                annotation=_annotation(column, default is None),
            )
        )
    for key, rel in to_one.items():
        if key in seen or key not in accepted:
            continue
        default = _EMPTY if key in required else None
        extra.append(
            inspect.Parameter(
                key,
                inspect.Parameter.KEYWORD_ONLY,
                default=default,
                annotation=rel.mapper.class_.__name__
                + (" | None" if default is None else ""),
            )
        )
    # required keywords first, so the signature reads as a call would
    extra.sort(key=lambda p: p.default is not _EMPTY)
    return inspect.Signature([*params, *extra])


class InitSignature:
    """``Registry.__signature__``: built on first access, once per class.

    A descriptor on the base class rather than a value set per class: the
    mapper (columns, relationships across modules) is complete only after all
    registries are defined.
    """

    def __get__(self, instance: Any, owner: type) -> inspect.Signature | None:
        cached = owner.__dict__.get("_lamin_signature")
        if cached is None:
            if owner.__dict__.get("__abstract__") or "__table__" not in dir(owner):
                return None  # an abstract base: inspect falls back to __init__
            cached = init_signature(owner)
            owner._lamin_signature = cached  # type: ignore[attr-defined]
        return cached
