"""Public ontologies offline: parsers, sources, PublicOntology and the bulk loader.

A service layer: it imports errors/progress/config/db/curate helpers, never the
instance, API, CLI or plugin layers. Heavy modules load on first use.

Example:
    >>> from lamin_sa.ontology import PublicOntology
    >>> cl = PublicOntology("CellType")  # doctest: +SKIP
    >>> cl.search("gamma delta T cell").index[0]  # doctest: +SKIP
    'CL:0000798'
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "PublicOntology": "lamin_sa.ontology.public",
    "PublicOntologyField": "lamin_sa.ontology.public",
    "OntologyDiff": "lamin_sa.ontology.public",
    "OntologyTable": "lamin_sa.ontology.table",
    "ParseIssue": "lamin_sa.ontology.table",
    "EntitySpec": "lamin_sa.ontology.entities",
    "entity_spec": "lamin_sa.ontology.entities",
    "parse_file": "lamin_sa.ontology.parsers",
    "load_source": "lamin_sa.ontology.load",
    "resolve": "lamin_sa.ontology.sources",
    "sources_frame": "lamin_sa.ontology.sources",
    "LoadTarget": "lamin_sa.ontology.loader",
    "ImportResult": "lamin_sa.ontology.loader",
    "import_table": "lamin_sa.ontology.loader",
    "import_release": "lamin_sa.ontology.loader",
    "infer_target": "lamin_sa.ontology.targets",
    "clear_cache": "lamin_sa.ontology.cache",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'lamin_sa.ontology' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = sorted(_EXPORTS)
