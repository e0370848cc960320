"""``Q`` objects: lookups combined with ``|`` (OR), ``&`` (AND) and ``~`` (NOT)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy.sql.elements import ColumnElement

from lamin_sa.query.compiler import compile_q


class Q:
    """A reusable condition over keyword lookups.

    Everything given to one ``filter()`` call - keywords and ``Q`` objects, nested,
    combined with ``&``/``|`` or side by side - shares one related row per to-many
    prefix (Django's rule). A negated ``~Q`` follows ``exclude()``'s rule instead:
    its conditions need not refer to the same related row. Positional ``Q``
    arguments are AND-ed with the keywords.

    Args:
        *children: Other ``Q`` objects to AND with the keywords.
        **expressions: Django-style lookups, e.g. ``name__icontains="x"``.

    Example:
        >>> ln.ULabel.filter(Q(name="a") | ~Q(parents__name="b"))
    """

    __slots__ = ("connector", "children", "expressions", "negated")

    AND = "AND"
    OR = "OR"

    def __init__(self, *children: Q, **expressions: Any) -> None:
        for child in children:
            if not isinstance(child, Q):
                raise TypeError(f"Q() takes Q objects and keywords, got {child!r}.")
        self.connector: str = Q.AND
        self.children: tuple[Q, ...] = children
        self.expressions: dict[str, Any] = expressions
        self.negated: bool = False

    @classmethod
    def _combine(cls, connector: str, children: tuple[Q, ...]) -> Q:
        q = cls(*children)
        q.connector = connector
        return q

    def __or__(self, other: Q) -> Q:
        if not isinstance(other, Q):
            return NotImplemented
        return Q._combine(Q.OR, (self, other))

    def __and__(self, other: Q) -> Q:
        if not isinstance(other, Q):
            return NotImplemented
        return Q._combine(Q.AND, (self, other))

    def __invert__(self) -> Q:
        q = Q._combine(self.connector, self.children)
        q.expressions = self.expressions
        q.negated = not self.negated
        return q

    def keys(self) -> Iterator[str]:
        """Every keyword name in this Q and its children.

        Example:
            >>> sorted((ln.Q(name="DMSO") | ln.Q(name__startswith="IF")).keys())
            ['name', 'name__startswith']
        """
        yield from self.expressions
        for child in self.children:
            yield from child.keys()

    def resolve(self, model: type, negated: bool = False) -> ColumnElement[bool]:
        """Compile into a SQLAlchemy criterion on ``model`` as one filter() call.

        See :func:`~lamin_sa.query.compiler.compile_filter`.

        Args:
            model: The mapped class the keywords start from.
            negated: Whether an enclosing NOT applies (each lookup is then its own
                subquery, as in ``exclude``).

        Example:
            >>> criterion = ln.Q(name="DMSO").resolve(ln.ULabel)
            >>> session.scalars(select(ln.ULabel).where(criterion))
        """
        return compile_q(model, self, negated)

    def __repr__(self) -> str:
        inner = [repr(c) for c in self.children]
        inner += [f"{k}={v!r}" for k, v in self.expressions.items()]
        text = f" {self.connector} ".join(inner) if inner else ""
        return f"~Q({text})" if self.negated else f"Q({text})"
