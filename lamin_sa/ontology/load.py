"""Resolve a source, parse it once, and keep the parsed table in the cache."""

from __future__ import annotations

import logging
from typing import Any

from lamin_sa.ontology.cache import cache_key, read_cached, write_cached
from lamin_sa.ontology.entities import EntitySpec, entity_spec
from lamin_sa.ontology.parsers import parse_file
from lamin_sa.ontology.sources import ResolvedSource, resolve
from lamin_sa.ontology.table import OntologyTable

logger = logging.getLogger(__name__)

#: parsed tables of this process, by cache key (a few releases; newest last).
_MEMO: dict[str, OntologyTable] = {}
_MEMO_SIZE = 8


def load_source(
    entity: str | EntitySpec,
    *,
    source: str | None = None,
    version: str | None = None,
    organism: str | None = None,
    format: str | None = None,
    file: Any = None,
    use_cache: bool = True,
) -> tuple[OntologyTable, ResolvedSource]:
    """The canonical table of an entity's source and where it came from.

    Example:
        >>> table, found = load_source("CellType")  # doctest: +SKIP
        >>> len(table.terms), found.version  # doctest: +SKIP
        (3324, '2026-03-26')
    """
    spec = entity_spec(entity)
    found = resolve(
        spec.name,
        source=source,
        version=version,
        organism=organism,
        format=format,
        file=file,
    )
    fmt = format or found.format or None
    org = organism or found.organism
    shape = f"{spec.prefixes_for(found.name)}{spec.part_of}"
    key = cache_key(
        spec.name, found.name, org, found.version, found.checksum, fmt or "", shape
    )
    table = _MEMO.get(key) if use_cache else None
    if table is None and use_cache:
        table = read_cached(key, spec)
    if table is None:
        table = parse_file(
            list(found.paths), spec, source=found.name, organism=org, format=fmt
        )
        if not table.meta.get("version"):
            table.meta["version"] = found.version
        if use_cache:
            write_cached(key, table)
    if use_cache:
        _MEMO.pop(key, None)
        _MEMO[key] = table
        while len(_MEMO) > _MEMO_SIZE:
            _MEMO.pop(next(iter(_MEMO)))
    return table, found
