"""``record.describe()``: the record and its provenance as text."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import RelationshipDirection

from lamin_sa.models.record import format_value

logger = logging.getLogger("lamin_sa")

_PROVENANCE_ORDER = ("created_by", "storage", "transform", "run")


def _short(record: Any) -> str:
    fields = [
        (k, v)
        for k, v in record._repr_fields()
        if not k.endswith("_id") and k not in ("updated_at",)
    ]
    body = ", ".join(f"{k}={format_value(v)}" for k, v in fields[:6])
    return f"{type(record).__name__}({body})"


def describe(record: Any) -> str:
    """Return (and log at info level) the description of ``record``."""
    lines = [repr(record)]
    mapper = sa_inspect(type(record))
    to_one = [
        r.key
        for r in mapper.relationships
        if r.direction is RelationshipDirection.MANYTOONE
    ]
    to_one.sort(key=lambda k: (_PROVENANCE_ORDER + (k,)).index(k))
    provenance = []
    for key in to_one:
        value = getattr(record, key, None)
        if value is not None:
            provenance.append(f"  📎 {key}: {_short(value)}")
    if provenance:
        lines += ["", "Provenance:", *provenance]
    text = "\n".join(lines)
    logger.info(text)
    return text
