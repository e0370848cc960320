"""A :class:`~lamin_sa.ontology.loader.LoadTarget` inferred from a registry's tables.

Registries written with the module-author API follow conventions: the parents
link table is ``<table>_parent`` with ``from_<x>_id`` (child) and ``to_<x>_id``
(parent); the Source table has ``entity, name, organism, version, url, md5
(or checksum), description, in_db, currently_used``; deterministic uids come
from the term id. :func:`infer_target` reads these off the tables, so a plugin
needs one call per registry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import String, Table

from lamin_sa.errors import ValidationError
from lamin_sa.ontology.entities import EntitySpec, entity_spec
from lamin_sa.ontology.loader import LoadTarget

#: canonical column → registry column candidates, first present wins.
_RENAMES = {"definition": ("description", "definition")}
_OBSOLETE = ("is_obsolete", "obsolete")
_SOURCE_FIELDS = {
    "entity": ("entity",),
    "name": ("name",),
    "organism": ("organism",),
    "version": ("version",),
    "url": ("url",),
    "checksum": ("md5", "checksum", "sha256"),
    "description": ("description",),
    "in_db": ("in_db",),
    "currently_used": ("currently_used",),
}


def _uid_maker(table: Table) -> tuple[str | None, Any]:
    if "uid" not in table.c:
        return None, None
    from lamin_sa.db.uid import hash_to_uid

    col_type = table.c["uid"].type
    length = col_type.length if isinstance(col_type, String) and col_type.length else 8
    return "uid", lambda tid, n=length: hash_to_uid(tid, n)


def parent_link_table(table: Table) -> tuple[Table, str, str] | None:
    """The ``<table>_parent`` link table and its (child, parent) columns."""
    link = table.metadata.tables.get(f"{table.name}_parent")
    if link is None:
        return None
    child = [c.name for c in link.c if c.name.startswith("from_")]
    parent = [c.name for c in link.c if c.name.startswith("to_")]
    if len(child) != 1 or len(parent) != 1:
        raise ValidationError(
            f"{link.name} needs one from_*_id and one to_*_id column."
        )
    return link, child[0], parent[0]


def infer_target(
    table: Table,
    source_table: Table,
    entity: str | EntitySpec,
    *,
    id_column: str | None = None,
    defaults: Mapping[str, Any] | None = None,
    source_defaults: Mapping[str, Any] | None = None,
) -> LoadTarget:
    """The load target of a registry table, by the conventions above.

    Args:
        table: The registry table (e.g. ``bionty_celltype``).
        source_table: The Source table.
        entity: The entity whose canonical table is loaded.
        id_column: The registry column of the term id (default: the entity's id
            field, e.g. ``ontology_id`` or ``ensembl_gene_id``).
        defaults: Values for new rows (``created_by_id``, ``organism_id``).
        source_defaults: Values for a new Source row; ``uid`` defaults to a hash
            of entity, name, organism and version.

    Example:
        >>> target = infer_target(  # doctest: +SKIP
        ...     bt.CellType.__table__, bt.Source.__table__, "CellType",
        ...     defaults={"created_by_id": user_id})
    """
    spec = entity_spec(entity)
    key = id_column or spec.id_field
    if key not in table.c:
        raise ValidationError(f"{table.name} has no {key!r} column for term ids.")
    columns: dict[str, str] = {}
    for canon in spec.columns:
        if canon in (spec.id_field, "parents"):
            continue
        for candidate in _RENAMES.get(canon, (canon,)):
            if candidate in table.c:
                columns[canon] = candidate
                break
    link = parent_link_table(table) if spec.hierarchical else None
    source_columns = {}
    for logical, candidates in _SOURCE_FIELDS.items():
        for candidate in candidates:
            if candidate in source_table.c:
                source_columns[logical] = candidate
                break
    src_defaults = dict(source_defaults or {})
    if "uid" in source_table.c and "uid" not in src_defaults:
        from lamin_sa.db.uid import hash_to_uid

        col_type = source_table.c["uid"].type
        n = col_type.length if isinstance(col_type, String) and col_type.length else 8
        src_defaults["uid"] = lambda s, n=n: hash_to_uid(
            "|".join(str(s.get(k)) for k in ("entity", "name", "organism", "version")),
            n,
        )
    uid_column, make_uid = _uid_maker(table)
    fk = [c.name for c in table.c if c.name == "source_id"]
    if not fk:
        raise ValidationError(f"{table.name} has no source_id column.")
    return LoadTarget(
        table=table,
        columns=columns,
        source_table=source_table,
        id_column=key,
        source_fk="source_id",
        link_table=link[0] if link else None,
        link_child=link[1] if link else "child_id",
        link_parent=link[2] if link else "parent_id",
        obsolete_column=next((c for c in _OBSOLETE if c in table.c), None),
        replaced_by_column="replaced_by" if "replaced_by" in table.c else None,
        uid_column=uid_column,
        make_uid=make_uid,
        defaults=dict(defaults or {}),
        source_columns=source_columns,
        source_defaults=src_defaults,
    )
