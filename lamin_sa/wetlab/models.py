"""wetlab registries (tables ``wetlab_*``): samples, treatments, experiments, wells.

Built with the module-author API only; requires bionty (a Biosample has an
organism, cell types, cell lines, tissues and diseases).
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from sqlalchemy import Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lamin_sa.bionty import models as bt
from lamin_sa.models import links as L


class _WetlabRecord(L.CanValidate, L.TracksRun, L.TracksUpdates):
    _len_uid = 8
    _required: ClassVar[tuple[str, ...]] = ("name",)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(8), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    description: Mapped[str | None] = mapped_column(Text)


class ExperimentType(_WetlabRecord, L.Record):
    """A kind of experiment (e.g. ``scRNA-seq``), optionally an EFO term."""

    __tablename__ = "wetlab_experimenttype"
    name: Mapped[str] = mapped_column(String(255), unique=True, index=True)
    ontology_id: Mapped[str | None] = mapped_column(String(32), index=True)


class Experiment(_WetlabRecord, L.Record):
    """An experiment: what was done when, and of which type."""

    __tablename__ = "wetlab_experiment"
    date: Mapped[date | None] = mapped_column(index=True)
    experiment_type_id: Mapped[int | None] = L.fk("wetlab_experimenttype.id")
    experiment_type: Mapped[ExperimentType | None] = relationship(ExperimentType)


class Well(_WetlabRecord, L.Record):
    """A well of a plate, by row and column."""

    __tablename__ = "wetlab_well"
    __table_args__ = (UniqueConstraint("row", "column"),)
    _required = ("row", "column")
    name: Mapped[str | None] = mapped_column(String(32), index=True)  # type: ignore[assignment]
    row: Mapped[str] = mapped_column(String(4), index=True)
    column: Mapped[int] = mapped_column(Integer, index=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("name") is None and "row" in kwargs and "column" in kwargs:
            kwargs["name"] = f"{kwargs['row']}{kwargs['column']}"
        super().__init__(*args, **kwargs)


treatmenttarget_gene = L.link_table(
    "wetlab_treatmenttarget_gene",
    treatmenttarget_id=("wetlab_treatmenttarget.id", "CASCADE"),
    gene_id=("bionty_gene.id", "RESTRICT"),
)
treatment_target = L.link_table(
    "wetlab_treatment_treatmenttarget",
    treatment_id=("wetlab_treatment.id", "CASCADE"),
    treatmenttarget_id=("wetlab_treatmenttarget.id", "RESTRICT"),
)


class TreatmentTarget(_WetlabRecord, L.Record):
    """What a treatment targets: genes."""

    __tablename__ = "wetlab_treatmenttarget"
    genes: Mapped[list[bt.Gene]] = relationship(
        bt.Gene, secondary=treatmenttarget_gene, **L.MANY
    )


class Treatment(_WetlabRecord, L.Record):
    """A genetic or chemical perturbation."""

    __tablename__ = "wetlab_treatment"
    type: Mapped[str | None] = mapped_column(String(20), index=True)
    system: Mapped[str | None] = mapped_column(String(32), index=True)
    sequence: Mapped[str | None] = mapped_column(Text)
    on_target_score: Mapped[float | None] = mapped_column(Float)
    off_target_score: Mapped[float | None] = mapped_column(Float)
    ontology_id: Mapped[str | None] = mapped_column(String(32), index=True)
    pubchem_id: Mapped[str | None] = mapped_column(String(32), index=True)
    targets: Mapped[list[TreatmentTarget]] = relationship(
        TreatmentTarget, secondary=treatment_target, **L.MANY
    )


class Techsample(_WetlabRecord, L.Record):
    """A technical sample (a library, a sequencing run) of biosamples."""

    __tablename__ = "wetlab_techsample"
    batch: Mapped[str | None] = mapped_column(String(60), index=True)


def _bio_link(name: str, target: str, column: str) -> Any:
    return L.link_table(
        f"wetlab_biosample_{name}",
        biosample_id=("wetlab_biosample.id", "CASCADE"),
        **{column: (f"{target}.id", "RESTRICT")},
    )


biosample_celltype = _bio_link("celltype", "bionty_celltype", "celltype_id")
biosample_cellline = _bio_link("cellline", "bionty_cellline", "cellline_id")
biosample_tissue = _bio_link("tissue", "bionty_tissue", "tissue_id")
biosample_disease = _bio_link("disease", "bionty_disease", "disease_id")
biosample_techsample = _bio_link("techsample", "wetlab_techsample", "techsample_id")


class Biosample(_WetlabRecord, L.Record):
    """A biological sample: its organism, cell types, tissues and diseases."""

    __tablename__ = "wetlab_biosample"
    batch: Mapped[str | None] = mapped_column(String(60), index=True)
    organism_id: Mapped[int | None] = L.fk("bionty_organism.id")
    organism: Mapped[bt.Organism | None] = relationship(bt.Organism)
    cell_types: Mapped[list[bt.CellType]] = relationship(
        bt.CellType, secondary=biosample_celltype, **L.MANY
    )
    cell_lines: Mapped[list[bt.CellLine]] = relationship(
        bt.CellLine, secondary=biosample_cellline, **L.MANY
    )
    tissues: Mapped[list[bt.Tissue]] = relationship(
        bt.Tissue, secondary=biosample_tissue, **L.MANY
    )
    diseases: Mapped[list[bt.Disease]] = relationship(
        bt.Disease, secondary=biosample_disease, **L.MANY
    )
    techsamples: Mapped[list[Techsample]] = relationship(
        Techsample, secondary=biosample_techsample, **L.MANY
    )


#: registry → accessor name on Artifact.
ACCESSORS: dict[type, str] = {
    Biosample: "biosamples",
    Techsample: "techsamples",
    Treatment: "treatments",
    TreatmentTarget: "treatment_targets",
    Experiment: "experiments",
    ExperimentType: "experiment_types",
    Well: "wells",
}

__all__ = [
    "ACCESSORS",
    "Biosample",
    "Experiment",
    "ExperimentType",
    "Techsample",
    "Treatment",
    "TreatmentTarget",
    "Well",
]
