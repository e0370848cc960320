"""PublicOntology on hand-written fixtures (no database, no ontology dir)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lamin_sa.errors import FieldError, ValidationError
from lamin_sa.ontology import PublicOntology
from lamin_sa.ontology.entities import EntitySpec
from lamin_sa.ontology.parsers.obo import parse_obo_text

DATA = Path(__file__).parent / "data" / "ontology"
TST = EntitySpec("CellType", {"*": ("TST:",)})


@pytest.fixture
def cells():
    return PublicOntology(TST, file=DATA / "mini.cxg.json", source="tst", version="1")


@pytest.fixture
def genes():
    return PublicOntology(
        "Gene", file=[DATA / "genes.csv", DATA / "ncbi.tsv"], organism="human"
    )


def test_df_fields_repr(cells):
    df = cells.df()
    assert df.index.name == "ontology_id"
    assert df.loc["TST:0000002", "name"] == "T cell"
    assert str(cells.name) == "name"
    assert "#terms: 4" in repr(cells)
    assert cells.obsolete.ontology_id.tolist() == ["TST:0000005", "TST:0000007"]
    with pytest.raises(AttributeError, match="no field"):
        cells.nonsense  # noqa: B018


def test_search_ranks_and_tolerates_typos(cells):
    hits = cells.search("T cell")
    assert hits.index[0] == "TST:0000002"
    assert hits["__ratio__"].iloc[0] == 100.0
    # punctuation is a word break: "gamma delta" matches "gamma-delta" exactly
    assert cells.search("gamma delta T cell").index[0] == "TST:0000003"
    # a synonym
    syn = cells.search("t lymphocyte")
    assert syn.index[0] == "TST:0000002" and syn["__ratio__"].iloc[0] == 95.0
    # a typo: fuzzy, below the ranked tiers
    typo = cells.search("imune sytem")
    assert typo.index[0] == "TST:0000010"
    assert 0 < typo["__ratio__"].iloc[0] < 70
    assert list(cells.search("cell", limit=2).index) == ["TST:0000001", "TST:0000002"]
    assert cells.search("zzzzzz").empty


def test_validate_inspect_standardize(cells):
    flags = cells.validate(["T cell", "t cell", "T-cell", "cell"], mute=True)
    assert flags.tolist() == [True, False, False, True]
    result = cells.inspect(["T cell", "T-cell", "IMMUNE SYSTEM", "nope", ""], mute=True)
    assert result.validated == ["T cell"]
    assert result.non_validated == ["T-cell", "IMMUNE SYSTEM", "nope"]
    assert result.synonyms_mapper == {
        "T-cell": "T cell",
        "IMMUNE SYSTEM": "immune system",
    }
    assert result.n_empty == 1
    assert cells.standardize(["T-cell", "nope", "cellula"], mute=True) == [
        "T cell",
        "nope",
        "cell",
    ]
    assert cells.standardize("T lymphocyte", mute=True) == "T cell"
    assert cells.standardize(["T-cell"], return_field=cells.ontology_id, mute=True) == [
        "TST:0000002"
    ]
    assert cells.standardize(["t-cell"], case_sensitive=True, mute=True) == ["t-cell"]
    with pytest.raises(FieldError):
        cells.validate(["x"], field="parents")
    with pytest.raises(ValidationError):
        cells.standardize(["x"], keep="middle")


def test_genes_map_aliases(genes):
    assert genes.standardize(["TCF-1", "CD8", "CD8A", "unknown"], mute=True) == [
        "TCF7",
        "CD8A",
        "CD8A",
        "unknown",
    ]
    assert genes.standardize(["TCF1"], return_field="ensembl_gene_id", mute=True) == [
        "ENSG00000000001"
    ]
    assert genes.validate(["TCF7", "TCF-1"], genes.symbol, mute=True).tolist() == [
        True,
        False,
    ]
    assert genes.search("TCF7").index[0] == "ENSG00000000001"


def test_lookup(cells):
    lookup = cells.lookup()
    assert lookup.t_cell.ontology_id == "TST:0000002"
    assert lookup.gamma_delta_t_cell.name == "gamma-delta T cell"
    by_id = cells.lookup(cells.ontology_id)
    assert by_id.dict()["TST:0000001"].name == "cell"


def test_diff_and_graph():
    spec = EntitySpec("Tissue", {"*": ("TST:",)}, part_of=True)
    text = (DATA / "mini.obo").read_text()
    v1 = PublicOntology(spec, table=parse_obo_text(text, spec))
    text2 = (
        text.replace("name: T cell\n", "name: T lymphocyte cell\n")
        .replace("id: TST:0000006\nname: broken def", "id: TST:0000020\nname: new")
        .replace("is_a: TST:0000002 {source", "is_a: TST:0000001 {source")
    )
    v2 = PublicOntology(spec, table=parse_obo_text(text2, spec))
    v1.version, v2.version = "2024-01-01", "2024-06-01"
    d = v2.diff(v1)
    assert d.added.ontology_id.tolist() == ["TST:0000020"]
    assert d.removed.ontology_id.tolist() == ["TST:0000006"]
    assert d.renamed.values.tolist() == [["TST:0000002", "T cell", "T lymphocyte cell"]]
    assert d.reparented.empty  # TST:0000006 is gone, nothing else moved
    assert v1.diff(v2).added.ontology_id.tolist() == ["TST:0000020"]  # same reading
    with pytest.raises(ValidationError, match="both are version"):
        v1.diff(v1)
    graph = v1.to_networkx()
    assert graph.nodes["TST:0000002"]["name"] == "T cell"
    assert set(graph.successors("TST:0000002")) == {"TST:0000001", "TST:0000010"}
    assert graph.number_of_edges() == 4
