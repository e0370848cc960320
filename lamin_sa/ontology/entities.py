"""What each public entity's canonical table looks like.

An entity (``CellType``, ``Gene``, ...) fixes the id prefixes kept from a source,
whether ``part_of`` edges count as parents, and the names of the table's columns:
ontologies use ``ontology_id, name, definition, synonyms, parents``; gene, protein
and organism tables use bionty's column names (``ensembl_gene_id, symbol,
description, ...``) so that ``public.symbol`` works as a field.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lamin_sa.errors import ValidationError


@dataclass(frozen=True)
class EntitySpec:
    """The shape of one entity's canonical table.

    Attributes:
        name: The registry name, e.g. ``"CellType"``.
        prefixes: Kept id prefixes per source name (``"*"``: any source). An empty
            tuple keeps every id.
        part_of: Whether ``part_of`` targets are parents too (anatomy, stages).
        id_field: The column holding the term id.
        name_field: The column holding the term's name.
        definition_field: The column holding the definition or description.
        extra: Further columns of the table, in order.
        hierarchical: Whether the table has a ``parents`` column.
        needs_organism: Whether a source is per organism (genes, proteins).
    """

    name: str
    prefixes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    part_of: bool = False
    id_field: str = "ontology_id"
    name_field: str = "name"
    definition_field: str = "definition"
    extra: tuple[str, ...] = ()
    hierarchical: bool = True
    needs_organism: bool = False

    def prefixes_for(self, source: str | None) -> tuple[str, ...]:
        """The id prefixes kept from ``source`` (empty: keep all)."""
        if source is not None and source.lower() in self.prefixes:
            return self.prefixes[source.lower()]
        return self.prefixes.get("*", ())

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column of the canonical table, in order."""
        cols = (self.id_field, self.name_field, self.definition_field, "synonyms")
        if self.hierarchical:
            cols += ("parents",)
        return cols + self.extra


ENTITIES: dict[str, EntitySpec] = {
    spec.name: spec
    for spec in (
        EntitySpec("CellType", {"*": ("CL:",)}),
        EntitySpec("Tissue", {"*": ("UBERON:",)}, part_of=True),
        EntitySpec("Disease", {"mondo": ("MONDO:",), "doid": ("DOID:",)}),
        EntitySpec(
            "Phenotype", {"hp": ("HP:",), "pato": ("PATO:",), "*": ("HP:", "PATO:")}
        ),
        EntitySpec("ExperimentalFactor", {"*": ("EFO:",)}),
        EntitySpec(
            "DevelopmentalStage",
            {"hsapdv": ("HsapDv:",), "mmusdv": ("MmusDv:",)},
            part_of=True,
        ),
        EntitySpec("Ethnicity", {"*": ("HANCESTRO:",)}),
        EntitySpec("Pathway", {"go": ("GO:",), "pw": ("PW:",)}),
        EntitySpec("CellLine", {"cellosaurus": ("CVCL_",), "clo": ("CLO:",)}),
        EntitySpec(
            "Organism",
            {"*": ("NCBITaxon:",)},
            extra=("scientific_name",),
        ),
        EntitySpec(
            "Gene",
            id_field="ensembl_gene_id",
            name_field="symbol",
            definition_field="description",
            extra=("ncbi_gene_ids", "biotype"),
            hierarchical=False,
            needs_organism=True,
        ),
        EntitySpec(
            "Protein",
            id_field="uniprotkb_id",
            name_field="name",
            definition_field="description",
            extra=("organism",),
            hierarchical=False,
            needs_organism=True,
        ),
    )
}


def entity_spec(entity: str | EntitySpec) -> EntitySpec:
    """The spec of an entity given by name (case-insensitive) or spec."""
    if isinstance(entity, EntitySpec):
        return entity
    key = entity.rsplit(".", 1)[-1]
    for name, spec in ENTITIES.items():
        if name.lower() == key.lower():
            return spec
    raise ValidationError(
        f"unknown entity {entity!r}; use one of {', '.join(ENTITIES)}."
    )
