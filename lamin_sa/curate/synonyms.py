"""Synonyms and abbreviations on records: add, remove, set_abbr."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, func, or_, type_coerce

from lamin_sa.curate.values import (
    SYNONYM_SEP,
    as_queryset,
    column_of,
    dialect_name,
    has_column,
    quote_list,
    split_synonyms,
)
from lamin_sa.db.sql import in_values
from lamin_sa.errors import ValidationError

if TYPE_CHECKING:
    pass


logger = logging.getLogger(__name__)


# ---- synonyms and abbreviations on records ----------------------------------------


def _require_column(record: Any, column: str, what: str) -> None:
    from lamin_sa.query.compiler import model_info

    if column not in model_info(type(record)).columns:
        raise NotImplementedError(
            f"{type(record).__name__} has no {column!r} field, so it has no {what}."
        )


def _as_synonyms(synonym: str | Iterable[str]) -> list[str]:
    items = [synonym] if isinstance(synonym, str) else list(synonym)
    out = []
    for s in items:
        if not isinstance(s, str):
            raise ValidationError(f"A synonym must be a string, got {s!r}.")
        s = s.strip()
        if not s:
            continue
        if SYNONYM_SEP in s:
            raise ValidationError(f"A synonym can't contain {SYNONYM_SEP!r}: {s!r}.")
        out.append(s)
    return list(dict.fromkeys(out))


def _should_save(record: Any, save: bool | None) -> bool:
    return record.is_saved if save is None else bool(save)


def _check_collisions(record: Any, synonyms: list[str]) -> None:
    """Refuse synonyms that are synonyms or names of another record (one query)."""
    cls = type(record)
    qs = as_queryset(cls)
    syn_col = column_of(qs, "synonyms")
    name = getattr(cls, "_name_field", None)
    name_col = column_of(qs, name) if has_column(qs, name) else None
    lowered = [s.lower() for s in synonyms]
    conditions = [func.lower(syn_col).contains(s, autoescape=True) for s in lowered]
    if name_col is not None:
        conditions.append(
            in_values(
                type_coerce(func.lower(name_col), String), lowered, dialect_name()
            )
        )
    stmt = qs.select().where(or_(*conditions))
    if record.id is not None:
        stmt = stmt.where(qs.info.pk != record.id)
    wanted = set(lowered)
    for other in qs.fetch(stmt):
        used = {s.lower() for s in split_synonyms(other.synonyms)}
        if name_col is not None and isinstance(getattr(other, name), str):
            used.add(getattr(other, name).lower())
        clash = sorted(wanted & used)
        if clash:
            raise ValidationError(
                f"Synonym(s) {quote_list(clash)} already used by {other!r}; pass "
                f"force=True to add anyway."
            )


def add_synonym(
    record: Any,
    synonym: str | Iterable[str],
    *,
    force: bool = False,
    save: bool | None = None,
) -> None:
    """Add synonyms to a record (see :meth:`CanValidate.add_synonym`)."""
    _require_column(record, "synonyms", "synonyms")
    new = _as_synonyms(synonym)
    if not new:
        return
    if not force:
        _check_collisions(record, new)
    current = split_synonyms(record.synonyms)
    merged = list(dict.fromkeys([*current, *new]))
    record.synonyms = SYNONYM_SEP.join(merged) if merged else None
    if _should_save(record, save):
        record.save()


def remove_synonym(
    record: Any, synonym: str | Iterable[str], *, save: bool | None = None
) -> None:
    """Remove synonyms from a record; absent ones are ignored."""
    _require_column(record, "synonyms", "synonyms")
    drop = set(_as_synonyms(synonym))
    if not drop:
        return
    kept = [s for s in split_synonyms(record.synonyms) if s not in drop]
    record.synonyms = SYNONYM_SEP.join(kept) if kept else None
    if _should_save(record, save):
        record.save()


def set_abbr(record: Any, value: str, *, save: bool | None = None) -> None:
    """Set ``abbr`` and add it to the synonyms unless it equals the name."""
    _require_column(record, "abbr", "abbreviation")
    record.abbr = value
    name = getattr(type(record), "_name_field", None)
    from lamin_sa.query.compiler import model_info

    has_synonyms = "synonyms" in model_info(type(record)).columns
    if has_synonyms and value and (name is None or getattr(record, name) != value):
        add_synonym(record, value, save=False)
    if _should_save(record, save):
        record.save()
