"""OWL releases (RDF/XML and OWL/XML) through owlready2 (extra ``ontologies``).

owlready2 is imported only when an OWL file is parsed. Terms are the named
classes whose id (the IRI's last segment, ``CL_0000084`` → ``CL:0000084``)
carries one of the entity's prefixes; names from ``rdfs:label``, definitions
from IAO:0000115, EXACT synonyms from ``oboInOwl:hasExactSynonym``, parents from
named superclasses plus, for Tissue and DevelopmentalStage, ``part_of``
(BFO:0000050) existential restrictions; ``owl:deprecated`` terms go to the
obsolete table with IAO:0100001 (term replaced by).
"""

from __future__ import annotations

import io
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

OBO = "http://purl.obolibrary.org/obo/"
OBO_IN_OWL = "http://www.geneontology.org/formats/oboInOwl#"
OWL_DEPRECATED = "http://www.w3.org/2002/07/owl#deprecated"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"


def iri_to_id(iri: str) -> str:
    """``http://purl.obolibrary.org/obo/CL_0000084`` → ``CL:0000084``."""
    last = iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    if ":" not in last and "_" in last:
        prefix, _, local = last.partition("_")
        return f"{prefix}:{local}"
    return last


def _owlready2() -> Any:
    try:
        import owlready2
    except ImportError as exc:
        from lamin_sa.errors import LaminSAError

        raise LaminSAError(
            "reading OWL files needs owlready2: pip install 'lamin-sa[ontologies]'."
        ) from exc
    return owlready2


class OwlParser(Parser):
    """RDF/XML and OWL/XML ontologies."""

    format = "owl"
    requires = ("owlready2",)

    def can_parse(self, head: bytes, name: str) -> bool:
        text = head.lstrip()
        if text.startswith(b"<?xml") or text.startswith(b"<"):
            return b"rdf:RDF" in head or b"<Ontology" in head or b"owl:" in head
        return name.endswith((".owl", ".rdf"))

    def parse(
        self,
        paths: list[Path],
        spec: EntitySpec,
        *,
        source: str | None = None,
        organism: str | None = None,
    ) -> OntologyTable:
        owlready2 = _owlready2()
        world = owlready2.World()
        onto = world.get_ontology(paths[0].resolve().as_uri())
        onto.load(fileobj=io.BytesIO(read_bytes(paths[0])))
        return _table(world, owlready2, spec, source)


def _values(world: Any, subject: int, prop: int | None) -> list[Any]:
    """Literal or IRI values of ``subject prop ?o`` (strings)."""
    if prop is None:
        return []
    out = []
    for o, _datatype in world._get_data_triples_sp_od(subject, prop):
        out.append(str(o))
    for o in world._get_obj_triples_sp_o(subject, prop):
        out.append(world._unabbreviate(o))
    return out


def _table(
    world: Any, owlready2: Any, spec: EntitySpec, source: str | None
) -> OntologyTable:
    prefixes = spec.prefixes_for(source)
    abbr = world._abbreviate
    label_p = abbr(RDFS_LABEL, False)
    def_p = abbr(OBO + "IAO_0000115", False)
    syn_p = abbr(OBO_IN_OWL + "hasExactSynonym", False)
    dep_p = abbr(OWL_DEPRECATED, False)
    rep_p = abbr(OBO + "IAO_0100001", False)
    part_of_iri = OBO + "BFO_0000050"
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
    for cls in world.classes():
        tid = iri_to_id(cls.iri)
        if prefixes and not tid.startswith(prefixes):
            n_filtered += 1
            continue
        s = cls.storid
        labels = _values(world, s, label_p)
        if not labels:
            issues.append(ParseIssue(0, tid, "class without rdfs:label", "skipped"))
            continue
        deprecated = any(v.lower() == "true" for v in _values(world, s, dep_p))
        if deprecated:
            obs[spec.id_field].append(tid)
            obs[spec.name_field].append(labels[0])
            rep = _values(world, s, rep_p)
            obs["replaced_by"].append(iri_to_id(rep[0]) if rep else None)
            obs["consider"].append(None)
            continue
        found: list[str] = []
        for sup in cls.is_a:
            if isinstance(sup, owlready2.ThingClass):
                found.append(iri_to_id(sup.iri))
            elif (
                spec.part_of
                and isinstance(sup, owlready2.Restriction)
                and sup.type == owlready2.SOME
                and getattr(sup.property, "iri", None) == part_of_iri
                and isinstance(sup.value, owlready2.ThingClass)
            ):
                found.append(iri_to_id(sup.value.iri))
        if prefixes:
            found = [p for p in found if p.startswith(prefixes)]
        if tid in found:
            issues.append(
                ParseIssue(0, tid, "class is its own parent; dropped that", "kept")
            )
            found = [p for p in found if p != tid]
        definition = _values(world, s, def_p)
        synonyms = [clean_synonym(x, issues, 0, tid) for x in _values(world, s, syn_p)]
        ids.append(tid)
        names.append(labels[0])
        defs.append(definition[0] if definition else None)
        syns.append("|".join(dict.fromkeys(synonyms)) if synonyms else None)
        parents.append(list(dict.fromkeys(found)))
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
        {"format": "owl", "ontology": None, "version": None, "n_filtered": n_filtered},
    )
