"""bionty's links to core: ``artifact.cell_types``, ``feature_set.genes``, ...

Every registry gets a link record to Artifact with a ``feature_id`` (so it is a
label registry: ``artifact.labels.add(cell_types, feature=...)``); Gene, Protein,
CellMarker and Pathway are also members of feature sets.
"""

from __future__ import annotations

from sqlalchemy.orm import relationship

from lamin_sa.bionty import models as M
from lamin_sa.models import links as L
from lamin_sa.models.core import Artifact, FeatureSet

ArtifactOrganism = L.link_model(
    Artifact,
    M.Organism,
    host_accessor="organisms",
    target_accessor="artifacts",
    feature=True,
)
ArtifactGene = L.link_model(
    Artifact,
    M.Gene,
    host_accessor="genes",
    target_accessor="artifacts",
    feature=True,
)
ArtifactProtein = L.link_model(
    Artifact,
    M.Protein,
    host_accessor="proteins",
    target_accessor="artifacts",
    feature=True,
)
ArtifactCellMarker = L.link_model(
    Artifact,
    M.CellMarker,
    host_accessor="cell_markers",
    target_accessor="artifacts",
    feature=True,
)
ArtifactCellType = L.link_model(
    Artifact,
    M.CellType,
    host_accessor="cell_types",
    target_accessor="artifacts",
    feature=True,
)
ArtifactCellLine = L.link_model(
    Artifact,
    M.CellLine,
    host_accessor="cell_lines",
    target_accessor="artifacts",
    feature=True,
)
ArtifactTissue = L.link_model(
    Artifact,
    M.Tissue,
    host_accessor="tissues",
    target_accessor="artifacts",
    feature=True,
)
ArtifactDisease = L.link_model(
    Artifact,
    M.Disease,
    host_accessor="diseases",
    target_accessor="artifacts",
    feature=True,
)
ArtifactPhenotype = L.link_model(
    Artifact,
    M.Phenotype,
    host_accessor="phenotypes",
    target_accessor="artifacts",
    feature=True,
)
ArtifactPathway = L.link_model(
    Artifact,
    M.Pathway,
    host_accessor="pathways",
    target_accessor="artifacts",
    feature=True,
)
ArtifactExperimentalFactor = L.link_model(
    Artifact,
    M.ExperimentalFactor,
    host_accessor="experimental_factors",
    target_accessor="artifacts",
    feature=True,
)
ArtifactDevelopmentalStage = L.link_model(
    Artifact,
    M.DevelopmentalStage,
    host_accessor="developmental_stages",
    target_accessor="artifacts",
    feature=True,
)
ArtifactEthnicity = L.link_model(
    Artifact,
    M.Ethnicity,
    host_accessor="ethnicities",
    target_accessor="artifacts",
    feature=True,
)

# feature_set.genes, .proteins, .cell_markers, .pathways (members of the set)
L.attach(
    FeatureSet,
    "genes",
    relationship(
        M.Gene, secondary=M.featureset_gene, back_populates="feature_sets", **L.MANY
    ),
)
L.attach(
    FeatureSet,
    "proteins",
    relationship(
        M.Protein,
        secondary=M.featureset_protein,
        back_populates="feature_sets",
        **L.MANY,
    ),
)
L.attach(
    FeatureSet,
    "cell_markers",
    relationship(
        M.CellMarker,
        secondary=M.featureset_cellmarker,
        back_populates="feature_sets",
        **L.MANY,
    ),
)
L.attach(
    FeatureSet,
    "pathways",
    relationship(
        M.Pathway,
        secondary=M.featureset_pathway,
        back_populates="feature_sets",
        **L.MANY,
    ),
)

__all__ = [
    "ArtifactCellLine",
    "ArtifactCellMarker",
    "ArtifactCellType",
    "ArtifactDevelopmentalStage",
    "ArtifactDisease",
    "ArtifactEthnicity",
    "ArtifactExperimentalFactor",
    "ArtifactGene",
    "ArtifactOrganism",
    "ArtifactPathway",
    "ArtifactPhenotype",
    "ArtifactProtein",
    "ArtifactTissue",
]
