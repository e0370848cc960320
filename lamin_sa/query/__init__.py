"""Django-style queries on SQLAlchemy: lookups, the compiler, ``Q`` and ``QuerySet``.

Example:
    >>> from lamin_sa.query import Q, QuerySet
    >>> QuerySet(ULabel).filter(Q(name="a") | Q(parents__name="a")).df()
"""

from __future__ import annotations

from lamin_sa.query.compiler import compile_lookups, model_info, parse_key
from lamin_sa.query.lookups import LOOKUPS, register_lookup
from lamin_sa.query.q import Q
from lamin_sa.query.queryset import QuerySet

__all__ = [
    "LOOKUPS",
    "Q",
    "QuerySet",
    "compile_lookups",
    "model_info",
    "parse_key",
    "register_lookup",
]
