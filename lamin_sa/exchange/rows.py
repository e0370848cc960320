"""Recognise a row that is already stored: by uid, unique columns or content."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import JSON, Table, UniqueConstraint, select
from sqlalchemy.orm import Session

# Rows without a uid or unique constraint, known by what they hold.
_NATURAL_KEYS: dict[str, tuple[tuple[str, ...], ...]] = {
    "core_param": (("name", "dtype"),),
    "core_featurevalue": (("feature_id", "value"),),
    "core_paramvalue": (("param_id", "value"),),
}
# Content keys: the same data under another uid (transfers match these too).
_CONTENT_KEYS: dict[str, tuple[tuple[str, ...], ...]] = {
    "core_artifact": (("hash",),),
    "core_collection": (("hash",),),
    "core_featureset": (("hash",),),
    "core_feature": (("name", "dtype"),),
}


def identity_keys(table: Table, *, content: bool = True) -> list[tuple[str, ...]]:
    """The column sets that identify a row of ``table``, strongest first.

    uid, then the table's unique constraints and indexes, then ``ontology_id``
    for ontology terms and the natural keys of uid-less rows, then (with
    ``content``) content keys: an artifact's hash, a feature's name and dtype.
    """
    keys: list[tuple[str, ...]] = []
    if "uid" in table.c:
        keys.append(("uid",))
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint):
            keys.append(tuple(c.name for c in constraint.columns))
    keys += [(c.name,) for c in table.columns if c.unique]
    keys += [tuple(c.name for c in i.columns) for i in table.indexes if i.unique]
    if "ontology_id" in table.c:
        keys.append(
            ("ontology_id", "organism_id")
            if "organism_id" in table.c
            else ("ontology_id",)
        )
    keys += list(_NATURAL_KEYS.get(table.name, ()))
    if content:
        keys += list(_CONTENT_KEYS.get(table.name, ()))
    return [k for k in dict.fromkeys(keys) if k != ("id",)]


def canonical(value: Any) -> Any:
    """A hashable stand-in for a value (JSON lists and dicts become their text)."""
    return (
        json.dumps(value, sort_keys=True) if isinstance(value, list | dict) else value
    )


class RowMatcher:
    """Finds the stored id of a row given its values, one query per key set."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._seen: dict[tuple[Any, ...], int] = {}

    def match(self, table: Table, values: dict[str, Any]) -> int | None:
        for columns in identity_keys(table):
            key = tuple(values.get(c) for c in columns)
            if any(v is None for v in key):
                continue
            memo = (table.name, columns, *map(canonical, key))
            if memo in self._seen:
                return self._seen[memo]
            plain = [c for c in columns if not isinstance(table.c[c].type, JSON)]
            stmt = select(table.c.id, *[table.c[c] for c in columns]).where(
                *[table.c[c] == values[c] for c in plain]
            )
            if "visibility" in table.c and columns == ("hash",):
                stmt = stmt.where(table.c.visibility != -1)
            for row in self.session.execute(stmt.order_by(table.c.id)):
                if tuple(map(canonical, row[1:])) == tuple(map(canonical, key)):
                    self._seen[memo] = int(row[0])
                    return int(row[0])
        return None

    def remember(self, table: Table, values: dict[str, Any], row_id: int) -> None:
        for columns in identity_keys(table):
            key = tuple(values.get(c) for c in columns)
            if all(v is not None for v in key):
                self._seen[(table.name, columns, *map(canonical, key))] = row_id
