"""bionty registries and public sources: public(), from_public(), import_source()."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import lamin_sa as ln

pytest.importorskip("lamin_sa.bionty.models")
from lamin_sa import bionty as bt  # noqa: E402

ONTOLOGY_DIR = os.environ.get("LAMIN_SA_ONTOLOGY_DIR")
needs_dir = pytest.mark.skipif(not ONTOLOGY_DIR, reason="LAMIN_SA_ONTOLOGY_DIR unset")

V1 = """format-version: 1.2
data-version: releases/2024-01-01

[Term]
id: CL:0000000
name: cell

[Term]
id: CL:0000001
name: blood cell
synonym: "haemocyte" EXACT []
is_a: CL:0000000

[Term]
id: CL:0000002
name: T cell
synonym: "T lymphocyte" EXACT []
is_a: CL:0000001

[Term]
id: CL:0000003
name: gone soon
is_a: CL:0000000
"""


@pytest.fixture
def bt_inst(db_url: str, tmp_path: Path) -> Iterator[None]:
    db = None if db_url.startswith("sqlite") else db_url
    ln.init(storage=tmp_path / "root", db=db, modules=["bionty"])
    try:
        yield
    finally:
        bt.settings._organism = None
        ln.close()


@pytest.fixture
def releases(tmp_path: Path) -> tuple[Path, Path]:
    v1 = tmp_path / "cl-v1.obo"
    v1.write_text(V1)
    v2 = tmp_path / "cl-v2.obo"
    v2.write_text(
        V1.replace("2024-01-01", "2024-06-01")
        .replace("name: T cell", "name: T-cell")
        .replace("name: gone soon\n", "name: gone soon\nis_obsolete: true\n")
        .replace("is_a: CL:0000001\n", "is_a: CL:0000000\n")
        + "\n[Term]\nid: CL:0000004\nname: new cell\nis_a: CL:0000002\n"
    )
    return v1, v2


def test_public_needs_no_database(releases):
    v1, _ = releases
    pub = bt.CellType.public(file=v1, version="2024-01-01")
    assert pub.search("t lymphocyte").iloc[0]["name"] == "T cell"
    assert pub.standardize(["haemocyte"], mute=True) == ["blood cell"]


def test_import_source_in_place_updates(bt_inst, releases):
    v1, v2 = releases
    first = bt.CellType.import_source(file=v1, version="2024-01-01")
    assert (first.inserted, first.links_added) == (4, 3)
    t_cell = bt.CellType.get(ontology_id="CL:0000002")
    assert [p.name for p in t_cell.parents] == ["blood cell"]
    assert t_cell.synonyms == "T lymphocyte"
    assert t_cell.source.version == "2024-01-01" and t_cell.source.in_db
    assert t_cell.source.entity == "bionty.CellType"
    assert bt.CellType.import_source(file=v1, version="2024-01-01").skipped
    assert bt.CellType.filter().count() == 4
    second = bt.CellType.import_source(file=v2, version="2024-06-01")
    assert second.inserted == 1
    renamed = bt.CellType.get(ontology_id="CL:0000002")
    assert renamed.id == t_cell.id and renamed.name == "T-cell"
    assert [p.name for p in renamed.parents] == ["cell"]
    assert renamed.source.version == "2024-06-01"
    # the obsolete term stays, on the older source
    gone = bt.CellType.get(ontology_id="CL:0000003")
    assert gone.source.version == "2024-01-01"
    assert gone.is_obsolete and second.obsoleted == 1
    current = {s.version: s.currently_used for s in bt.Source.filter()}
    assert current == {"2024-01-01": False, "2024-06-01": True}


def test_newer_release_flags_obsolete_and_dropped_terms(bt_inst, tmp_path):
    v1 = tmp_path / "cl-v1.obo"
    v1.write_text(V1)
    # gone soon: obsolete with a replacement; T cell: dropped from the release
    t_cell_stanza = V1[
        V1.index("[Term]\nid: CL:0000002") : V1.index("[Term]\nid: CL:0000003")
    ]
    v2 = tmp_path / "cl-v2.obo"
    v2.write_text(
        V1.replace("2024-01-01", "2024-06-01")
        .replace(t_cell_stanza, "")
        .replace(
            "name: gone soon\n",
            "name: gone soon\nis_obsolete: true\nreplaced_by: CL:0000001\n",
        )
    )
    v3 = tmp_path / "cl-v3.obo"
    v3.write_text(V1.replace("2024-01-01", "2024-09-01"))
    bt.CellType.import_source(file=v1, version="2024-01-01")
    before = {r.ontology_id: r for r in bt.CellType.filter()}
    assert {r.is_obsolete for r in before.values()} == {False}
    manual = bt.CellType(name="my cell").save()
    assert manual.is_obsolete is None

    second = bt.CellType.import_source(file=v2, version="2024-06-01")
    assert (second.inserted, second.obsoleted) == (0, 2)
    after = {r.ontology_id: r for r in bt.CellType.filter(ontology_id__isnull=False)}
    assert {k: v.id for k, v in after.items()} == {k: v.id for k, v in before.items()}
    gone, t_cell = after["CL:0000003"], after["CL:0000002"]
    assert (gone.is_obsolete, gone.replaced_by) == (True, "CL:0000001")
    assert (t_cell.is_obsolete, t_cell.replaced_by) == (True, None)
    assert not after["CL:0000001"].is_obsolete and not after["CL:0000000"].is_obsolete
    # records keep their links and stay on the release that had them
    assert [p.name for p in t_cell.parents] == ["blood cell"]
    assert gone.source.version == "2024-01-01"
    assert bt.CellType.get(name="my cell").is_obsolete is None
    assert bt.CellType.filter(is_obsolete=True).count() == 2

    # a later release that has them again brings them back
    third = bt.CellType.import_source(file=v3, version="2024-09-01")
    assert third.obsoleted == 0 and third.updated == 4
    back = {r.ontology_id: r for r in bt.CellType.filter(ontology_id__isnull=False)}
    assert {(r.is_obsolete, r.replaced_by) for r in back.values()} == {(False, None)}
    assert back["CL:0000003"].source.version == "2024-09-01"


def test_from_public_saves_the_ancestor_chain(bt_inst, releases):
    v1, _ = releases
    given = {"file": v1, "version": "2024-01-01"}
    record = bt.CellType.from_public(ontology_id="CL:0000002", **given)
    assert not record.is_saved
    assert record.name == "T cell" and record.source.name == "cl"
    record.save()
    assert [p.name for p in record.parents] == ["blood cell"]
    assert [p.name for p in record.parents[0].parents] == ["cell"]
    assert bt.CellType.filter().count() == 3
    # a stored record comes back as is
    assert bt.CellType.from_public(name="T cell", **given).id == record.id
    with pytest.raises(ln.errors.NoResultFound, match="search"):
        bt.CellType.from_public(name="no such cell", **given)
    with pytest.raises(ValueError, match="exactly one field"):
        bt.CellType.from_public(name="T cell", ontology_id="CL:0000002")


def _chain_obo(path: Path, n: int) -> Path:
    """CL:0000000 ← CL:0000001 ← ... ← CL:<n-1>: every term one level deeper."""
    stanzas = ["format-version: 1.2\ndata-version: releases/2024-01-01\n"]
    for i in range(n):
        parent = f"is_a: CL:{i - 1:07d}\n" if i else ""
        stanzas.append(f"[Term]\nid: CL:{i:07d}\nname: cell {i}\n{parent}")
    path.write_text("\n".join(stanzas))
    return path


def test_ln_save_of_public_records_saves_their_ancestors(bt_inst, tmp_path):
    from sqlalchemy import event

    from lamin_sa.db.session import current

    chain = _chain_obo(tmp_path / "chain.obo", 60)
    given = {"file": chain, "version": "2024-01-01"}
    # 25 records (the bulk-insert path) deep in the chain, and one other registry
    names = [f"cell {i}" for i in range(35, 60)]
    records = bt.CellType.from_values(names, **given)
    assert len(records) == 25 and not any(r.is_saved for r in records)
    plain = ln.ULabel(name="not from a source")
    engine = current().engine
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        ln.save([*records, plain])
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # all 60 terms and 59 links, in a fixed number of statements (not per parent)
    assert bt.CellType.filter().count() == 60
    assert len(statements) < 25
    leaf = bt.CellType.get(name="cell 59")
    assert leaf.id == records[-1].id
    assert [p.name for p in leaf.parents] == ["cell 58"]
    assert len(leaf.query_parents()) == 59
    assert [p.name for p in records[0].parents] == ["cell 34"]
    assert {r.source.version for r in bt.CellType.filter()} == {"2024-01-01"}
    # ancestors saved by the hook are stored records now
    assert bt.CellType.from_public(name="cell 0", **given).is_saved


def test_ln_save_of_few_public_records(bt_inst, releases):
    v1, _ = releases
    given = {"file": v1, "version": "2024-01-01"}
    records = [
        bt.CellType.from_public(ontology_id="CL:0000002", **given),
        bt.CellType.from_public(name="gone soon", **given),
    ]
    ln.save(records)
    assert bt.CellType.filter().count() == 4
    t_cell = bt.CellType.get(ontology_id="CL:0000002")
    assert [p.name for p in t_cell.parents] == ["blood cell"]
    assert [p.name for p in t_cell.parents[0].parents] == ["cell"]
    assert [p.name for p in records[1].parents] == ["cell"]
    # saving again adds nothing
    ln.save([bt.CellType.from_public(name="T cell", **given)])
    assert bt.CellType.filter().count() == 4


def test_auto_save_parents_off(bt_inst, releases):
    v1, _ = releases
    bt.settings.auto_save_parents = False
    try:
        ln.save(
            [
                bt.CellType.from_public(
                    ontology_id="CL:0000002", file=v1, version="2024-01-01"
                )
            ]
        )
    finally:
        bt.settings.auto_save_parents = True
    assert bt.CellType.filter().list("name") == ["T cell"]


@needs_dir
def test_real_cell_ontology_and_genes(bt_inst):
    neuron = bt.CellType.from_public(name="neuron").save()
    parents = {p.name for p in neuron.parents}
    assert {"neural cell", "electrically responsive cell"} <= parents
    ancestors = set(neuron.query_parents().list("name"))
    assert "cell" in ancestors
    result = bt.CellType.import_source()
    assert result.inserted == 3324 - len(ancestors) - 1
    assert bt.CellType.filter().count() == 3324
    t_cell = bt.CellType.get(ontology_id="CL:0000084")
    assert t_cell.synonyms == "T lymphocyte|T-cell|T-lymphocyte"
    assert [p.ontology_id for p in t_cell.parents] == ["CL:0000542"]
    genes = bt.Gene.import_source(organism="human")
    assert genes.inserted == 78894
    assert bt.Gene.validate(["CD8A", "CD4", "CD14", "CD38"]).all()
    assert bt.Gene.standardize(["TCF-1"]) == ["TCF7"]
    ethnicity = bt.Ethnicity.import_source(version="2025-04-01")
    assert ethnicity.inserted == 562
    european = bt.Ethnicity.get(ontology_id="HANCESTRO:0005")
    assert [p.ontology_id for p in european.parents] == ["HANCESTRO:0004"]


def test_cli_import(tmp_path, releases):
    import subprocess
    import sys

    v1, _ = releases
    env = dict(os.environ)
    env["LAMIN_SA_HOME"] = str(tmp_path / "home")
    env["LAMIN_SA_CACHE_DIR"] = str(tmp_path / "cache")
    script = str(Path(sys.executable).with_name("lamin-sa"))

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [script, *args], capture_output=True, text=True, env=env, timeout=300
        )

    r = cli("init", "--storage", str(tmp_path / "inst"), "--modules", "bionty")
    assert r.returncode == 0, r.stderr
    r = cli("ontology", "import", "celltype", "--file", str(v1), "--version", "2024")
    assert r.returncode == 0, r.stderr
    assert "celltype: 4 new, 0 updated, 0 obsolete, 3 parent links added" in r.stdout
    r = cli("ontology", "import", "celltype", "--file", str(v1), "--version", "2024")
    assert "imported already" in r.stdout
    r = cli("ontology", "import", "nonsense")
    assert r.returncode != 0 and "unknown entity" in r.stderr


def test_from_values_falls_back_to_the_public_source(bt_inst, releases):
    v1, _ = releases
    stored = bt.CellType(name="T cell", ontology_id="CL:0000002").save()
    records = bt.CellType.from_values(
        ["T cell", "haemocyte", "nope", "T cell"], file=v1, version="2024-01-01"
    )
    assert records[0].id == stored.id
    assert [r.name for r in records[1:]] == ["blood cell"]  # by synonym
    assert not records[1].is_saved
    records[1].save()
    assert [p.name for p in records[1].parents] == ["cell"]
    only_stored = bt.CellType.from_values(["T cell", "gone soon"], public=False)
    assert [r.name for r in only_stored] == ["T cell"]


@needs_dir
def test_annotate_adds_validated_terms_from_the_public_source(bt_inst):
    import anndata as ad
    import pandas as pd

    df = pd.DataFrame(
        {"cell_type": ["T cell", "neuron", "not a cell type"]},
        index=["a", "b", "c"],
    )
    annotate = ln.Annotate.from_df(df, categoricals={"cell_type": bt.CellType.name})
    assert not annotate.validate()
    annotate.add_validated_from("cell_type")
    assert {r.name for r in bt.CellType.filter()} >= {"T cell", "neuron"}
    adata = ad.AnnData(
        pd.DataFrame({"CD8A": [1.0], "TCF7": [2.0], "NOTAGENE": [3.0]}, index=["x"])
    )
    genes = ln.Annotate.from_anndata(
        adata, var_index=bt.Gene.symbol, categoricals={}, organism="human"
    )
    assert not genes.validate()
    genes.add_validated_from("var_index")
    assert sorted(bt.Gene.filter().list("symbol")) == ["CD8A", "TCF7"]


@needs_dir
def test_annotate_validate_saves_public_genes_as_the_seed_shows(bt_inst):
    """The seed: validate() adds the genes the public source knows, then passes."""
    import anndata as ad
    import pandas as pd

    df = pd.DataFrame(
        {"CD8A": [1, 2], "CD4": [3, 4], "CD14": [5, 6], "p": ["DMSO", "IFNG"]},
        index=["o1", "o2"],
    )
    ln.save([ln.ULabel(name="DMSO"), ln.ULabel(name="IFNG")])
    adata = ad.AnnData(df[["CD8A", "CD4", "CD14"]], obs=df[["p"]])
    annotate = ln.Annotate.from_anndata(
        adata,
        var_index=bt.Gene.symbol,
        categoricals={"p": ln.ULabel.name},
        organism="human",
    )
    assert annotate.validate()
    genes = bt.Gene.filter(organism__name="human")
    assert sorted(genes.list("symbol")) == ["CD14", "CD4", "CD8A"]
    assert all(g.ensembl_gene_id for g in genes)  # public records, not bare names
    artifact = annotate.save_artifact(description="my RNA-seq")
    var = artifact.feature_sets.filter(registry="bionty.Gene").one()
    assert sorted(var.genes.list("symbol")) == ["CD14", "CD4", "CD8A"]


def test_new_genes_of_an_annotator_get_its_organism(bt_inst):
    """add_new_from_var_index on a per-organism registry passes the organism."""
    import anndata as ad
    import pandas as pd

    adata = ad.AnnData(pd.DataFrame({"MYGENE1": [1.0], "MYGENE2": [2.0]}, index=["x"]))
    annotate = ln.Annotate.from_anndata(
        adata, var_index=bt.Gene.symbol, categoricals={}, organism="mouse"
    )
    assert not annotate.validate()
    annotate.add_new_from_var_index()
    assert annotate.validate()
    genes = bt.Gene.filter(symbol__in=["MYGENE1", "MYGENE2"])
    assert {g.organism.name for g in genes} == {"mouse"}
