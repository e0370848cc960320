"""The JSON export of CZI's cellxgene-ontology-guide (``*.cxg.json[.gz|.zst]``).

One object ``{term_id: {label, description, synonyms, deprecated, replaced_by,
consider, ancestors: {id: distance}}}``; synonyms are EXACT only. ``ancestors``
is the closure over is_a *and* part_of, so the two cannot be told apart: parents
are the ancestors at the smallest distance (1 unless the direct parent lies
outside the file's own prefix). For entities that count only is_a (all but
Tissue and DevelopmentalStage) this keeps part_of parents too — a difference
from an OBO or OWL release of the same ontology, and stated here on purpose.
Checked on every export we ship (CL, UBERON, MONDO, EFO, PATO, HANCESTRO, HsapDv,
MmusDv, Cellosaurus): no field tells the relation apart; terms carry only
``label, description, synonyms, deprecated, replaced_by, consider, comments,
term_tracker`` and ``ancestors`` with integer distances.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from lamin_sa.ontology.entities import EntitySpec
from lamin_sa.ontology.parsers.base import Parser, read_bytes
from lamin_sa.ontology.table import (
    OntologyTable,
    ParseIssue,
    clean_synonym,
    make_table,
)

logger = logging.getLogger(__name__)

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def _load(path: Path) -> Any:
    data = read_bytes(path)
    if data[:4] == ZSTD_MAGIC:
        try:
            import zstandard
        except ImportError as exc:  # pragma: no cover - depends on the extra
            from lamin_sa.errors import LaminSAError

            raise LaminSAError(
                f"{path.name} is zstd-compressed; pip install 'lamin-sa[ontologies]'."
            ) from exc
        data = zstandard.ZstdDecompressor().decompressobj().decompress(data)
    return json.loads(data)


class CxgJsonParser(Parser):
    """cellxgene-ontology-guide term dictionaries."""

    format = "cxg-json"

    def can_parse(self, head: bytes, name: str) -> bool:
        if head[:4] == ZSTD_MAGIC:
            return name.endswith(".json.zst")
        text = head.lstrip()
        return text.startswith(b"{") and (b'"label"' in head or b'"ancestors"' in head)

    def parse(
        self,
        paths: list[Path],
        spec: EntitySpec,
        *,
        source: str | None = None,
        organism: str | None = None,
    ) -> OntologyTable:
        return parse_cxg(_load(paths[0]), spec, source=source)


def parse_cxg(
    data: dict[str, Any], spec: EntitySpec, *, source: str | None = None
) -> OntologyTable:
    """The canonical table of a loaded cellxgene-ontology-guide dictionary.

    Example:
        >>> from lamin_sa.ontology.entities import entity_spec
        >>> data = {"CL:1": {"label": "cell", "ancestors": {}}}
        >>> parse_cxg(data, entity_spec("CellType")).terms.name.tolist()
        ['cell']
    """
    prefixes = spec.prefixes_for(source)
    ids: list[str] = []
    names: list[str] = []
    defs: list[str | None] = []
    syns: list[str | None] = []
    parents: list[list[str]] = []
    obs: dict[str, list[Any]] = {
        spec.id_field: [],
        spec.name_field: [],
        "replaced_by": [],
        "consider": [],
    }
    issues: list[ParseIssue] = []
    n_filtered = 0
    for tid, term in data.items():
        if prefixes and not tid.startswith(prefixes):
            n_filtered += 1
            continue
        if not isinstance(term, dict):
            issues.append(ParseIssue(0, tid, "entry is not an object", "skipped"))
            continue
        label = term.get("label")
        if term.get("deprecated"):
            obs[spec.id_field].append(tid)
            obs[spec.name_field].append(label or "")
            obs["replaced_by"].append(term.get("replaced_by"))
            consider = term.get("consider")
            obs["consider"].append("|".join(consider) if consider else None)
            continue
        if not label:
            issues.append(ParseIssue(0, tid, "term without a label", "skipped"))
            continue
        ids.append(tid)
        names.append(label)
        defs.append(term.get("description"))
        synonyms = term.get("synonyms")
        if synonyms:
            joined = "|".join(dict.fromkeys(synonyms))
            if joined.count("|") != len(set(synonyms)) - 1:
                joined = "|".join(
                    dict.fromkeys(clean_synonym(x, issues, 0, tid) for x in synonyms)
                )
            syns.append(joined)
        else:
            syns.append(None)
        ancestors = term.get("ancestors")
        if ancestors:
            if prefixes:
                ancestors = {
                    a: d for a, d in ancestors.items() if a.startswith(prefixes)
                }
            if tid in ancestors:
                issues.append(
                    ParseIssue(0, tid, "term is its own ancestor; dropped that", "kept")
                )
                ancestors = {a: d for a, d in ancestors.items() if a != tid}
            if ancestors:
                nearest = min(ancestors.values())
                parents.append([a for a, d in ancestors.items() if d == nearest])
                continue
        parents.append([])
    return make_table(
        spec,
        {
            spec.id_field: ids,
            spec.name_field: names,
            spec.definition_field: defs,
            "synonyms": syns,
            "parents": parents,
        },
        obs,
        issues,
        {
            "format": "cxg-json",
            "ontology": None,
            "version": None,
            "n_filtered": n_filtered,
        },
    )
