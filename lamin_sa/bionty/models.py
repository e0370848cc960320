"""bionty registries (tables ``bionty_*``), built with the module-author API only.

Ontology-term registries share :class:`BioRecord`: a deterministic 8-character
uid from the ontology id (else the name), ``name``, ``ontology_id``, ``abbr``,
``synonyms`` (``|``-joined), ``description``, the ``source`` they came from, and
``parents``/``children``. Gene, Protein and CellMarker have 12-character uids and
an organism.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import BigInteger, Boolean, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from lamin_sa.bionty.public import PublicSourced
from lamin_sa.models import links as L

if TYPE_CHECKING:
    from lamin_sa.models.core import FeatureSet


class Source(L.CanValidate, L.TracksRun, L.TracksUpdates, L.Record):
    """A versioned public source of an entity's terms (``bionty.CellType`` ← cl)."""

    __tablename__ = "bionty_source"
    __table_args__ = (UniqueConstraint("entity", "name", "organism", "version"),)
    _len_uid = 8
    _required = ("entity", "name", "organism", "version")
    uid_from_fields: ClassVar[tuple[str, ...]] = ()
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(8), unique=True, index=True)
    entity: Mapped[str] = mapped_column(String(256), index=True)
    organism: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[str] = mapped_column(String(64), index=True)
    in_db: Mapped[bool] = mapped_column(Boolean, default=False)
    currently_used: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(255))
    md5: Mapped[str | None] = mapped_column(String(255))
    source_website: Mapped[str | None] = mapped_column(String(255))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("uid") is None and all(k in kwargs for k in self._required):
            from lamin_sa.db.uid import hash_to_uid

            key = "|".join(str(kwargs[k]) for k in self._required)
            kwargs["uid"] = hash_to_uid(key, self._len_uid)
        super().__init__(*args, **kwargs)


class _FromSource:
    """``source``: the public source a record came from; ``is_obsolete``.

    ``is_obsolete`` (not in bionty) is set by ``import_source`` for records that
    a newer release of their source marks obsolete or no longer has; None for
    records that never came from a full import.
    """

    is_obsolete: Mapped[bool | None] = mapped_column(Boolean)

    @L.mixin_attr
    def source_id(cls) -> Mapped[int | None]:
        return L.fk("bionty_source.id")

    @L.mixin_attr
    def source(cls) -> Mapped[Source | None]:
        return relationship(Source, foreign_keys=[cls.source_id])  # type: ignore[list-item]


class BioRecord(
    PublicSourced,
    _FromSource,
    L.HasParents,
    L.CanValidate,
    L.TracksRun,
    L.TracksUpdates,
):
    """Columns and behaviour of an ontology-term registry (bionty's HasOntologyId)."""

    _len_uid = 8
    _required = ("name",)
    uid_from_fields: ClassVar[tuple[str, ...]] = ("ontology_id", "name")
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(8), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(256), index=True)
    ontology_id: Mapped[str | None] = mapped_column(String(32), index=True)
    abbr: Mapped[str | None] = mapped_column(String(32), unique=True, index=True)
    synonyms: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    #: the ontology id that replaces an obsolete term (the release's replaced_by).
    replaced_by: Mapped[str | None] = mapped_column(String(32))

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        return (UniqueConstraint("name", "ontology_id"),)


class _HasOrganism:
    """``organism`` (required), defaulting to ``bt.settings.organism``."""

    @L.mixin_attr
    def organism_id(cls) -> Mapped[int]:
        return L.fk("bionty_organism.id", nullable=False)

    @L.mixin_attr
    def organism(cls) -> Mapped[Organism]:
        return relationship("Organism", foreign_keys=[cls.organism_id])  # type: ignore[list-item]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("organism") is None and kwargs.get("organism_id") is None:
            from lamin_sa.bionty.settings import settings

            organism = settings.organism
            if organism is not None:
                kwargs["organism"] = organism
        if isinstance(kwargs.get("organism"), str):
            from lamin_sa.bionty.settings import organism_record

            kwargs["organism"] = organism_record(kwargs["organism"])
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]


class Organism(BioRecord, L.Record):
    """An organism (NCBITaxon), e.g. ``human`` / ``Homo sapiens``."""

    __tablename__ = "bionty_organism"
    name: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    scientific_name: Mapped[str | None] = mapped_column(
        String(64), unique=True, index=True
    )


class CellType(BioRecord, L.Record):
    """A cell type (Cell Ontology, ``CL:``)."""

    __tablename__ = "bionty_celltype"


class CellLine(BioRecord, L.Record):
    """A cell line (Cellosaurus, ``CVCL_``)."""

    __tablename__ = "bionty_cellline"


class Tissue(BioRecord, L.Record):
    """A tissue (Uberon, ``UBERON:``)."""

    __tablename__ = "bionty_tissue"


class Disease(BioRecord, L.Record):
    """A disease (Mondo, ``MONDO:``; or DOID)."""

    __tablename__ = "bionty_disease"


class Phenotype(BioRecord, L.Record):
    """A phenotype (HPO, ``HP:``; or PATO)."""

    __tablename__ = "bionty_phenotype"


class ExperimentalFactor(BioRecord, L.Record):
    """An experimental factor (EFO, ``EFO:``)."""

    __tablename__ = "bionty_experimentalfactor"
    molecule: Mapped[str | None] = mapped_column(String(256), index=True)
    instrument: Mapped[str | None] = mapped_column(String(256), index=True)
    measurement: Mapped[str | None] = mapped_column(String(256), index=True)


class DevelopmentalStage(BioRecord, L.Record):
    """A developmental stage (HsapDv, MmusDv)."""

    __tablename__ = "bionty_developmentalstage"


class Ethnicity(BioRecord, L.Record):
    """An ethnicity (Hancestro, ``HANCESTRO:``)."""

    __tablename__ = "bionty_ethnicity"


featureset_gene = L.link_table(
    "bionty_featureset_gene",
    featureset_id=("core_featureset.id", "CASCADE"),
    gene_id=("bionty_gene.id", "RESTRICT"),
)
featureset_protein = L.link_table(
    "bionty_featureset_protein",
    featureset_id=("core_featureset.id", "CASCADE"),
    protein_id=("bionty_protein.id", "RESTRICT"),
)
featureset_cellmarker = L.link_table(
    "bionty_featureset_cellmarker",
    featureset_id=("core_featureset.id", "CASCADE"),
    cellmarker_id=("bionty_cellmarker.id", "RESTRICT"),
)
featureset_pathway = L.link_table(
    "bionty_featureset_pathway",
    featureset_id=("core_featureset.id", "CASCADE"),
    pathway_id=("bionty_pathway.id", "RESTRICT"),
)
pathway_gene = L.link_table(
    "bionty_pathway_gene",
    pathway_id=("bionty_pathway.id", "CASCADE"),
    gene_id=("bionty_gene.id", "RESTRICT"),
)


class Gene(
    PublicSourced,
    _HasOrganism,
    _FromSource,
    L.HasParents,
    L.CanValidate,
    L.TracksRun,
    L.TracksUpdates,
    L.Record,
):
    """A gene (Ensembl, NCBI), by symbol and Ensembl id, of one organism."""

    __tablename__ = "bionty_gene"
    _len_uid = 12
    _name_field = "symbol"
    uid_from_fields: ClassVar[tuple[str, ...]] = (
        "ensembl_gene_id",
        "stable_id",
        "symbol",
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(12), unique=True, index=True)
    symbol: Mapped[str | None] = mapped_column(String(64), index=True)
    stable_id: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    ensembl_gene_id: Mapped[str | None] = mapped_column(
        String(64), unique=True, index=True
    )
    ncbi_gene_ids: Mapped[str | None] = mapped_column(Text)
    biotype: Mapped[str | None] = mapped_column(String(64), index=True)
    synonyms: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    feature_sets: Mapped[list[FeatureSet]] = relationship(
        "FeatureSet",
        secondary=featureset_gene,
        back_populates="genes",
        **L.MANY,
    )
    pathways: Mapped[list[Pathway]] = relationship(
        "Pathway", secondary=pathway_gene, back_populates="genes", **L.MANY
    )


class Protein(
    PublicSourced,
    _HasOrganism,
    _FromSource,
    L.HasParents,
    L.CanValidate,
    L.TracksRun,
    L.TracksUpdates,
    L.Record,
):
    """A protein (UniProtKB) of one organism."""

    __tablename__ = "bionty_protein"
    _len_uid = 12
    uid_from_fields: ClassVar[tuple[str, ...]] = ("uniprotkb_id", "name")
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(12), unique=True, index=True)
    name: Mapped[str | None] = mapped_column(String(256), index=True)
    uniprotkb_id: Mapped[str | None] = mapped_column(
        String(10), unique=True, index=True
    )
    synonyms: Mapped[str | None] = mapped_column(Text)
    length: Mapped[int | None] = mapped_column(BigInteger)
    gene_symbol: Mapped[str | None] = mapped_column(String(64), index=True)
    ensembl_gene_ids: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    feature_sets: Mapped[list[FeatureSet]] = relationship(
        "FeatureSet",
        secondary=featureset_protein,
        back_populates="proteins",
        **L.MANY,
    )


class CellMarker(
    _HasOrganism,
    _FromSource,
    L.HasParents,
    L.CanValidate,
    L.TracksRun,
    L.TracksUpdates,
    L.Record,
):
    """A cell marker (a gene or protein used to tell cell types apart)."""

    __tablename__ = "bionty_cellmarker"
    __table_args__ = (UniqueConstraint("name", "organism_id"),)
    _len_uid = 12
    _required = ("name",)
    uid_from_fields: ClassVar[tuple[str, ...]] = ("name",)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(12), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    synonyms: Mapped[str | None] = mapped_column(Text)
    gene_symbol: Mapped[str | None] = mapped_column(String(64), index=True)
    ncbi_gene_id: Mapped[str | None] = mapped_column(String(32), index=True)
    uniprotkb_id: Mapped[str | None] = mapped_column(String(10), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    feature_sets: Mapped[list[FeatureSet]] = relationship(
        "FeatureSet",
        secondary=featureset_cellmarker,
        back_populates="cell_markers",
        **L.MANY,
    )


class Pathway(BioRecord, L.Record):
    """A pathway (Gene Ontology, Pathway Ontology) with its genes."""

    __tablename__ = "bionty_pathway"
    genes: Mapped[list[Gene]] = relationship(
        Gene, secondary=pathway_gene, back_populates="pathways", **L.MANY
    )
    feature_sets: Mapped[list[FeatureSet]] = relationship(
        "FeatureSet",
        secondary=featureset_pathway,
        back_populates="pathways",
        **L.MANY,
    )


#: registry → accessor name on Artifact (and FeatureSet for member registries).
ACCESSORS: dict[type, str] = {
    Organism: "organisms",
    Gene: "genes",
    Protein: "proteins",
    CellMarker: "cell_markers",
    CellType: "cell_types",
    CellLine: "cell_lines",
    Tissue: "tissues",
    Disease: "diseases",
    Phenotype: "phenotypes",
    Pathway: "pathways",
    ExperimentalFactor: "experimental_factors",
    DevelopmentalStage: "developmental_stages",
    Ethnicity: "ethnicities",
}

__all__ = [
    "ACCESSORS",
    "BioRecord",
    "CellLine",
    "CellMarker",
    "CellType",
    "DevelopmentalStage",
    "Disease",
    "Ethnicity",
    "ExperimentalFactor",
    "Gene",
    "Organism",
    "Pathway",
    "Phenotype",
    "Protein",
    "Source",
    "Tissue",
]
