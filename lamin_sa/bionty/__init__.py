"""bionty: biological registries (cell types, genes, tissues, ...) for lamin-sa.

``from lamin_sa import bionty as bt``. The module is mounted on an instance at
``ln.init(..., modules=["bionty"])`` or later with
``lamin-sa migrate upgrade --module bionty``; its tables are ``bionty_*`` on their
own migration branch. Importing this package maps the registries and attaches
their accessors to core classes (``artifact.cell_types``, ``feature_set.genes``).

Example:
    >>> import lamin_sa as ln
    >>> from lamin_sa import bionty as bt
    >>> t_cell = bt.CellType(name="T cell", ontology_id="CL:0000084").save()
    >>> t_cell.uid
    '22LvKd01'
    >>> ln.Artifact.filter(cell_types=t_cell).df()
"""

from __future__ import annotations

from lamin_sa.bionty import links
from lamin_sa.bionty.models import (
    BioRecord,
    CellLine,
    CellMarker,
    CellType,
    DevelopmentalStage,
    Disease,
    Ethnicity,
    ExperimentalFactor,
    Gene,
    Organism,
    Pathway,
    Phenotype,
    Protein,
    Source,
    Tissue,
)
from lamin_sa.bionty.settings import settings

__all__ = [
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
    "links",
    "settings",
]
