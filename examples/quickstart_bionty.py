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

    # a term with its ontology parents, and a new cell state under it
    neuron = bt.CellType.from_public(name="neuron").save()
    print("neuron's parents:", sorted(p.name for p in neuron.parents))
    state = bt.CellType.filter(name="my neuron cell state").one_or_none()
    if state is None:
        state = bt.CellType(name="my neuron cell state").save()
        state.parents.add(neuron)
    print("parents picture:", state.view_parents(distance=2, filename="neuron.svg"))
