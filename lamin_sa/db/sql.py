"""Small SQL building blocks that depend on the backend."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, select, type_coerce
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import String

# Above this many values an IN list becomes one bound array/JSON parameter.
LARGE_IN = 200


def in_values(
    column: Any, values: Collection[Any], dialect: str
) -> ColumnElement[bool]:
    """``column IN values`` that stays one bound parameter for long lists.

    SQLite expands the values from a JSON array with ``json_each``; Postgres
    compares with ``= ANY(array)``. Short lists use a plain expanding IN.
    """
    values = list(values)
    if len(values) <= LARGE_IN:
        return column.in_(values)
    if dialect == "postgresql":
        item_type = column.type
        return column == func.any(
            bindparam(None, values, type_=postgresql.ARRAY(item_type))
        )
    each = func.json_each(type_coerce(json.dumps(values), String)).table_valued("value")
    return column.in_(select(each.c.value))
