"""bionty registries: uids, accessors and filters, hierarchies, validation,
Annotate, bt.settings, and the error of an instance without bionty."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import lamin_sa as ln
from lamin_sa import bionty as bt
from lamin_sa.db.uid import hash_to_uid
from lamin_sa.errors import IntegrityError, ModuleNotMounted


@pytest.fixture
def bt_inst(db_url: str, tmp_path: Path) -> Iterator[None]:
    """A fresh instance with bionty mounted, on each backend."""
    db = None if db_url.startswith("sqlite") else db_url
    ln.init(storage=tmp_path / "root", db=db, modules=["bionty"])
    try:
        yield
    finally:
        bt.settings._organism = None
        ln.close()


def _artifact(tag: str) -> ln.Artifact:
    df = pd.DataFrame({"x": [1, 2]})
    return ln.Artifact.from_df(df, description=f"artifact {tag}").save()


def test_uids_are_deterministic() -> None:
    assert bt.CellType(name="T cell", ontology_id="CL:0000084").uid == "22LvKd01"
    assert bt.CellType(name="x").uid == hash_to_uid("x", 8)
    gene = bt.Gene(symbol="CD8A", ensembl_gene_id="ENSG00000153563", organism_id=1)
    assert gene.uid == hash_to_uid("ENSG00000153563", 12) and len(gene.uid) == 12
    assert bt.Gene(symbol="CD8A", organism_id=1).uid == hash_to_uid("CD8A", 12)
    assert bt.Protein(uniprotkb_id="P01732", organism_id=1).uid == hash_to_uid(
        "P01732", 12
    )
    assert len(bt.CellMarker(name="CD8", organism_id=1).uid) == 12
    source = dict(entity="bionty.CellType", name="cl", organism="all", version="1")
    assert bt.Source(**source).uid == bt.Source(**source).uid
    assert bt.CellType.registry_name() == "bionty.CellType"
    assert ln.Feature(name="ct", dtype="cat[bionty.CellType]").dtype == (
        "cat[bionty.CellType]"
    )


def test_cell_types_label_artifacts(bt_inst: None) -> None:
    t_cell = bt.CellType(name="T cell", ontology_id="CL:0000084").save()
    b_cell = bt.CellType(name="B cell", ontology_id="CL:0000236").save()
    assert bt.CellType.get("22LvKd01") == t_cell
    feature = ln.Feature(name="cell_type", dtype="cat[bionty.CellType]").save()
    artifact = _artifact("1")
    assert list(artifact.cell_types) == []
    artifact.labels.add([t_cell, b_cell], feature=feature)
    assert [c.name for c in artifact.cell_types] == ["T cell", "B cell"]
    assert [a.id for a in t_cell.artifacts] == [artifact.id]
    assert ln.Artifact.filter(cell_types__name="B cell").one().id == artifact.id
    assert ln.Artifact.filter(cell_types=t_cell).exists()
    assert not ln.Artifact.filter(tissues__name="T cell").exists()
    assert [c.name for c in artifact.labels.get(feature)] == ["T cell", "B cell"]
    text = artifact.describe(return_str=True)
    assert "📎 cell_types (2, CellType): 'T cell', 'B cell'" in text
    assert "🔗 cell_type (1, cat[bionty.CellType]): 'T cell', 'B cell'" in text
    # the same ontology id gives the stored record back (deterministic uid)
    again = bt.CellType(name="T cell", ontology_id="CL:0000084").save()
    assert again.id == t_cell.id and bt.CellType.filter().count() == 2


def test_genes_in_feature_sets(bt_inst: None) -> None:
    bt.settings.organism = "human"
    assert bt.settings.organism.name == "human"
    assert bt.Organism.filter(name="human").count() == 1
    genes = [
        bt.Gene(symbol=s, ensembl_gene_id=e).save()
        for s, e in [("CD8A", "ENSG00000153563"), ("CD4", "ENSG00000010610")]
    ]
    assert genes[0].organism.name == "human"
    feature_set = ln.FeatureSet(genes).save()
    assert feature_set.registry == "bionty.Gene"
    assert [g.symbol for g in feature_set.genes] == ["CD8A", "CD4"]
    assert [fs.id for fs in genes[1].feature_sets] == [feature_set.id]
    artifact = _artifact("2")
    artifact.features.add_feature_set(feature_set, slot="var")
    assert ln.Artifact.filter(feature_sets__genes=genes[0]).one().id == artifact.id
    assert ln.Artifact.filter(feature_sets__genes__symbol="CD4").count() == 1
    assert "'CD8A', 'CD4'" in artifact.describe(return_str=True)
    # the same members give the stored set
    assert ln.FeatureSet(genes).id == feature_set.id
    pathway = bt.Pathway(name="T cell activation", ontology_id="GO:0042110").save()
    pathway.genes.add(*genes)
    assert sorted(g.symbol for g in pathway.genes) == ["CD4", "CD8A"]


def _chain(n: int) -> list[bt.CellType]:
    """``n`` cell types, each the parent of the previous one."""
    terms = [
        bt.CellType(name=f"term {i}", ontology_id=f"CL:{i:07d}").save()
        for i in range(n)
    ]
    for child, parent in zip(terms, terms[1:], strict=False):
        child.parents.add(parent)
    return terms


def test_bulk_save_of_cell_types(bt_inst: None) -> None:
    stored = bt.CellType(name="term 3", ontology_id="CL:9000003").save()
    terms = [
        bt.CellType(name=f"term {i}", ontology_id=f"CL:9{i:06d}") for i in range(50)
    ]
    ln.save(terms)
    # the stored term comes back as the record passed in; the rest are new
    assert terms[3].id == stored.id
    assert bt.CellType.filter().count() == 50
    assert bt.CellType.get(ontology_id="CL:9000049") is terms[49]
    terms[0].parents.add(terms[1])
    assert terms[0].query_parents().list("name") == ["term 1"]
    feature = ln.Feature(name="cell_type", dtype="cat[bionty.CellType]").save()
    artifact = _artifact("bulk")
    artifact.labels.add(terms[10:12], feature=feature)
    assert [c.name for c in artifact.cell_types] == ["term 10", "term 11"]
    # saving them again inserts nothing
    ln.save(terms)
    assert bt.CellType.filter().count() == 50
    twins = [bt.CellType(name="twin", ontology_id="CL:7000000") for _ in range(25)]
    with pytest.raises(IntegrityError, match="share uid"):
        ln.save(twins)
    assert bt.CellType.filter(name="twin").count() == 0


def test_hierarchies_are_recursive_sql(bt_inst: None) -> None:
    terms = _chain(6)  # depth 5 above terms[0]
    leaf, root = terms[0], terms[-1]
    assert [p.name for p in leaf.parents] == ["term 1"]
    assert [c.name for c in terms[1].children] == ["term 0"]
    assert sorted(leaf.query_parents().list("name")) == [
        f"term {i}" for i in range(1, 6)
    ]
    assert sorted(root.query_children().list("name")) == [f"term {i}" for i in range(5)]
    assert terms[3].query_parents().count() == 2
    assert root.query_parents().count() == 0
    graph = leaf.view_parents(distance=2, return_graph=True)
    assert graph.number_of_nodes() == 3
    # a cycle in the data: the walk still ends
    root.parents.add(leaf)
    start = time.perf_counter()
    names = sorted(leaf.query_parents().list("name"))
    assert time.perf_counter() - start < 10
    assert names == [f"term {i}" for i in range(1, 6)]
    assert root.query_children().count() == 5


def test_validate_standardize_search_with_synonyms(bt_inst: None) -> None:
    bt.CellType(
        name="T cell", ontology_id="CL:0000084", synonyms="T-cell|T lymphocyte"
    ).save()
    bt.CellType(name="B cell", ontology_id="CL:0000236", synonyms="B lymphocyte").save()
    values = ["T cell", "T-cell", "B lymphocyte", "neuron"]
    assert list(bt.CellType.validate(values, mute=True)) == [True, False, False, False]
    assert bt.CellType.standardize(values) == ["T cell", "T cell", "B cell", "neuron"]
    result = bt.CellType.inspect(values, mute=True)
    assert result.synonyms_mapper == {"T-cell": "T cell", "B lymphocyte": "B cell"}
    stored = bt.CellType.from_values(values, mute=True, public=False)
    assert [r.name for r in stored] == ["T cell", "B cell"]
    # with the public fallback (the default), terms found there come unsaved
    found = bt.CellType.from_values(values, mute=True)
    assert [r.name for r in found][:2] == ["T cell", "B cell"]
    assert all(not r.is_saved for r in found[2:])
    assert bt.CellType.search("lymphocyte").first().name in ("T cell", "B cell")
    assert bt.CellType.lookup().t_cell.ontology_id == "CL:0000084"
    assert list(
        bt.CellType.filter(name__startswith="T").validate(["B cell"], mute=True)
    ) == [False]
    term = bt.CellType.get(name="B cell")
    term.add_synonym("B-cell")
    assert bt.CellType.standardize(["B-cell"]) == ["B cell"]
    term.set_abbr("BC")
    assert bt.CellType.get(abbr="BC").id == term.id


def test_annotate_with_bionty_fields(bt_inst: None) -> None:
    bt.settings.organism = "human"
    for name, oid in [("T cell", "CL:0000084"), ("B cell", "CL:0000236")]:
        bt.CellType(name=name, ontology_id=oid).save()
    ln.Feature(name="cell_type", dtype="cat[bionty.CellType]").save()
    ln.Feature(name="n", dtype="int").save()
    df = pd.DataFrame({"cell_type": ["T cell", "B cell", "T cell"], "n": [1, 2, 3]})
    annotate = ln.Annotate.from_df(
        df, categoricals={"cell_type": bt.CellType.name}, organism="human"
    )
    assert annotate.validate()
    artifact = annotate.save_artifact(description="annotated cells")
    assert sorted(c.name for c in artifact.cell_types) == ["B cell", "T cell"]
    # a term of no source (validate() adds terms a public source knows)
    bad = pd.DataFrame({"cell_type": ["T cell", "no such cell"], "n": [1, 2]})
    annotate = ln.Annotate.from_df(bad, categoricals={"cell_type": bt.CellType.name})
    assert not annotate.validate()


def test_annotate_anndata_var_index_genes(bt_inst: None) -> None:
    ad = pytest.importorskip("anndata")
    import numpy as np

    bt.settings.organism = "human"
    for symbol, ensembl in [("CD8A", "ENSG00000153563"), ("CD4", "ENSG00000010610")]:
        bt.Gene(symbol=symbol, ensembl_gene_id=ensembl).save()
    bt.CellType(name="T cell", ontology_id="CL:0000084").save()
    adata = ad.AnnData(
        X=np.ones((2, 2), dtype="float32"),
        obs=pd.DataFrame({"cell_type": ["T cell", "T cell"]}, index=["c1", "c2"]),
        var=pd.DataFrame(index=["CD8A", "CD4"]),
    )
    annotate = ln.Annotate.from_anndata(
        adata,
        var_index=bt.Gene.symbol,
        categoricals={"cell_type": bt.CellType.name},
        organism="human",
    )
    assert annotate.validate()
    artifact = annotate.save_artifact(description="cells x genes")
    var = artifact.features["var"]
    assert sorted(var.list("symbol")) == ["CD4", "CD8A"]
    assert [c.name for c in artifact.cell_types] == ["T cell"]


def test_an_instance_without_bionty_says_how_to_mount_it(
    db_url: str, tmp_path: Path
) -> None:
    db = None if db_url.startswith("sqlite") else db_url
    ln.init(storage=tmp_path / "root", db=db)
    try:
        with pytest.raises(ModuleNotMounted, match="migrate upgrade --module bionty"):
            bt.CellType.filter(name="T cell").count()
        with pytest.raises(ModuleNotMounted, match="bionty"):
            bt.CellType(name="T cell").save()
        artifact = _artifact("3")  # core keeps working beside the loaded models
        artifact.labels.add(ln.ULabel(name="x").save())
        assert "cell_types" not in artifact.describe(return_str=True)
    finally:
        ln.close()
