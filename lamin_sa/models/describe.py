"""``record.describe()``: the record, its provenance and its labels as text.

Layout (as LaminDB 0.72 prints it)::

    Artifact(version='1', uid='…', suffix='.parquet', …)   # no FKs, no timestamps

    Provenance:
      📎 created_by: User(uid='…', handle='…')
      📎 storage: uid='…', root='…', type='local', instance_uid='…')
      📎 transform: Transform(version='1', uid='…', name='…', …)
      📎 run: Run(uid='…', started_at=… UTC, is_consecutive=True)
    Labels:
      📎 ulabels (2, ULabel): 'DMSO', 'IFNG'

The storage line reproduces LaminDB's output verbatim (it lacks ``Storage(``).
Works on unsaved records: only what is set in memory is shown.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import RelationshipDirection

from lamin_sa.models.record import format_value

logger = logging.getLogger("lamin_sa")

_PROVENANCE_ORDER = ("created_by", "storage", "transform", "run")
_HIDDEN = {"created_at", "updated_at", "is_latest"}
_LABEL_ACCESSORS = ("ulabels",)
_MAX_LABELS = 10


def _plain_fields(record: Any) -> list[tuple[str, Any]]:
    """Non-FK, non-timestamp fields; ``version`` first (LaminDB's column order)."""
    fields = [
        (k, v)
        for k, v in record._repr_fields()
        if not k.endswith("_id") and k not in _HIDDEN
    ]
    fields.sort(key=lambda kv: kv[0] != "version")
    return fields


def _short(record: Any, limit: int = 6) -> str:
    body = ", ".join(f"{k}={format_value(v)}" for k, v in _plain_fields(record)[:limit])
    return f"{type(record).__name__}({body})"


def _header(record: Any) -> str:
    body = ", ".join(f"{k}={format_value(v)}" for k, v in _plain_fields(record))
    return f"{type(record).__name__}({body})"


def _loaded_to_one(record: Any, key: str) -> Any:
    """The related record if set in memory or loadable; never raises."""
    if key in record.__dict__:
        return record.__dict__[key]
    if sa_inspect(record).transient:
        return None
    try:
        return getattr(record, key, None)
    except Exception:  # detached without session, ...
        return None


def _labels(record: Any) -> list[str]:
    lines = []
    mapper = sa_inspect(type(record))
    if sa_inspect(record).transient:
        return lines
    for key in _LABEL_ACCESSORS:
        if key not in mapper.relationships:
            continue
        try:
            values = list(getattr(record, key))
        except Exception:
            continue
        if not values:
            continue
        names = [repr(getattr(v, "name", v)) for v in values[:_MAX_LABELS]]
        cls = type(values[0]).__name__
        lines.append(f"  📎 {key} ({len(values)}, {cls}): {', '.join(names)}")
    return lines


class Description(str):
    """The text of ``describe()``; shows as plain text in a REPL or notebook."""

    def __repr__(self) -> str:
        return str(self)


def describe(record: Any) -> Description:
    """Return the description of ``record`` (``print()`` it in scripts)."""
    lines = [_header(record)]
    mapper = sa_inspect(type(record))
    to_one = [
        r.key
        for r in mapper.relationships
        if r.direction is RelationshipDirection.MANYTOONE
    ]
    to_one.sort(key=lambda k: (_PROVENANCE_ORDER + (k,)).index(k))
    provenance = []
    for key in to_one:
        value = _loaded_to_one(record, key)
        if value is None:
            continue
        text = _short(value)
        if key == "storage":
            text = text[len(type(value).__name__) + 1 :]  # LaminDB's quirk
        provenance.append(f"  📎 {key}: {text}")
    if provenance:
        lines += ["", "Provenance:", *provenance]
    labels = _labels(record)
    if labels:
        lines += ["Labels:", *labels]
    return Description("\n".join(lines))
