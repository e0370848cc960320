"""The seed's "Biological registries" section: public ontologies, offline.

Needs bionty mounted and the public sources on this machine
(``$LAMIN_SA_ONTOLOGY_DIR`` or ``pip install 'lamin-sa[ontologies]'``); without
them it says so and moves on.
"""

from __future__ import annotations


def run() -> None:
    from lamin_sa import bionty as bt
    from lamin_sa.ontology.sources import availability, find_specs

    if availability(find_specs("CellType")[0]) == "-":
        print(
            "public ontologies are not on this machine: set LAMIN_SA_ONTOLOGY_DIR "
            "or pip install 'lamin-sa[ontologies]'"
        )
        return
    # every bionty registry is based on a public ontology, searchable offline
    cell_types = bt.CellType.public()
    print(cell_types)
    print(cell_types.search("gamma delta T cell").head(2)[["name", "__ratio__"]])

    # validate gene symbols against the public source, then save them
    markers = ["CD8A", "CD4", "CD14", "CD38"]
    if availability(find_specs("Gene", organism="human")[0]) != "-":
        genes = bt.Gene.public(organism="human")
        print("validated in public source:", genes.validate(markers, mute=True))
        for symbol in markers:
            bt.Gene.from_public(symbol=symbol, organism="human").save()
        print("validated in registry:", bt.Gene.validate(markers, mute=True))
        annotate_with_genes()

    # a term with its ontology parents, and a new cell state under it
    neuron = bt.CellType.from_public(name="neuron").save()
    print("neuron's parents:", sorted(p.name for p in neuron.parents))
    state = bt.CellType.filter(name="my neuron cell state").one_or_none()
    if state is None:
        state = bt.CellType(name="my neuron cell state").save()
        state.parents.add(neuron)
    print("parents picture:", state.view_parents(distance=2, filename="neuron.svg"))


def annotate_with_genes() -> None:
    """The seed's "Validate & annotate with typed features": genes as features."""
    import anndata as ad
    import pandas as pd

    import lamin_sa as ln
    from lamin_sa import bionty as bt

    df = pd.DataFrame(
        {
            "CD8A": [1, 2, 3],
            "CD4": [3, 4, 5],
            "CD14": [5, 6, 7],
            "perturbation": ["DMSO", "IFNG", "DMSO"],
        },
        index=["observation1", "observation2", "observation3"],
    )
    # store the dataset as an AnnData object to distinguish data from metadata
    adata = ad.AnnData(df[["CD8A", "CD4", "CD14"]], obs=df[["perturbation"]])
    # genes a public source knows are added on validate (as in the seed)
    annotate = ln.Annotate.from_anndata(
        adata,
        var_index=bt.Gene.symbol,  # map .var.index onto the Gene registry
        categoricals={adata.obs.perturbation.name: ln.ULabel.name},
        organism="human",  # the organism for the Gene registry
    )
    annotate.validate()
    artifact = annotate.save_artifact(description="my RNA-seq", version="1")
    artifact.describe()

    # query for typed features: feature sets that contain CD8A
    genes = bt.Gene.filter(organism__name="human").lookup()
    feature_sets = ln.FeatureSet.filter(genes=genes.cd8a).all()
    print(ln.Artifact.filter(feature_sets__in=feature_sets).list("description"))
