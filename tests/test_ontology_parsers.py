"""Parsers on small hand-written fixtures (every format, every malformed kind)."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from lamin_sa.errors import ValidationError
from lamin_sa.ontology.entities import EntitySpec, entity_spec
from lamin_sa.ontology.parsers import parse_file, parser_for
from lamin_sa.ontology.parsers.obo import parse_obo_text, quoted, unescape

DATA = Path(__file__).parent / "data" / "ontology"
TST = EntitySpec("CellType", {"*": ("TST:",)})
TST_PART_OF = EntitySpec("Tissue", {"*": ("TST:",)}, part_of=True)


def _issues(table):
    return {(i.line, i.term, i.action): i.reason for i in table.issues}


def test_obo_terms_synonyms_parents():
    t = parse_file(DATA / "mini.obo", TST)
    terms = t.terms.set_index("ontology_id")
    assert list(terms.index) == [
        "TST:0000001",
        "TST:0000002",
        "TST:0000003",
        "TST:0000006",
        "TST:0000010",
    ]
    # EXACT only (RELATED/NARROW dropped), duplicates once, second stanza merged
    assert terms.loc["TST:0000002", "synonyms"] == (
        "T lymphocyte|T-cell|T cell (second stanza)"
    )
    assert terms.loc["TST:0000001", "synonyms"] == "cellula"
    # escaped quotes in a def; the xref list (with \:) is not part of it
    assert terms.loc["TST:0000002", "definition"] == (
        'A lymphocyte with a "T cell receptor".'
    )
    # is_a only for CellType, filtered to the prefix; trailing modifiers dropped
    assert terms.loc["TST:0000002", "parents"] == ["TST:0000001"]
    assert terms.loc["TST:0000006", "parents"] == ["TST:0000002"]
    assert t.meta["version"] == "2024-01-01"
    assert t.meta["ontology"] == "tst"
    assert t.meta["n_filtered"] == 1  # OTHER:0000009


def test_obo_part_of_for_tissue():
    t = parse_file(DATA / "mini.obo", TST_PART_OF)
    parents = dict(zip(t.terms.ontology_id, t.terms.parents, strict=True))
    assert parents["TST:0000002"] == ["TST:0000001", "TST:0000010"]


def test_obo_malformed_stanzas_are_kept_or_reported():
    t = parse_file(DATA / "mini.obo", TST)
    names = dict(zip(t.terms.ontology_id, t.terms.name, strict=True))
    # `name: !Kung` is read as the name (a strict parser sees a comment)
    assert names["TST:0000003"] == "!Kung"
    # a stanza with an unquoted xref description and a tagless line keeps its
    # parents and its (old-style) synonym
    kung = t.terms.set_index("ontology_id").loc["TST:0000003"]
    assert kung.parents == ["TST:0000001"]
    assert kung.synonyms == "old style synonym"
    # an unterminated def is read up to its xref list
    assert names["TST:0000006"] == "broken def"
    assert (
        t.terms.set_index("ontology_id").loc["TST:0000006", "definition"]
        == "an unterminated definition"
    )
    issues = _issues(t)
    assert issues[(4, None, "skipped")] == "header line without a tag"
    assert "!Kung" in issues[(30, "TST:0000003", "kept")]
    assert issues[(33, "TST:0000003", "skipped")] == "synonym without a quoted text"
    assert issues[(34, "TST:0000003", "skipped")] == "line without a tag"
    assert issues[(37, None, "skipped")] == "[Term] stanza without an id"
    assert issues[(40, "TST:0000004", "skipped")] == "[Term] stanza without a name"
    assert "closing quote" in issues[(54, "TST:0000006", "kept")]
    assert "merged" in issues[(57, "TST:0000002", "kept")]
    assert "second def" in issues[(69, "TST:0000010", "kept")]
    assert issues[(71, None, "skipped")] == "unknown stanza '[Weird]'"
    assert len(t.issues) == 10
    assert {i.action for i in t.skipped} == {"skipped"}
    assert str(t.issues[0]) == "line 4: header line without a tag [skipped]"


def test_obo_obsolete_terms_kept_apart():
    t = parse_file(DATA / "mini.obo", TST)
    assert "TST:0000005" not in set(t.terms.ontology_id)
    row = t.obsolete.set_index("ontology_id").loc["TST:0000005"]
    assert row["name"] == "obsolete thing"
    assert row.replaced_by == "TST:0000002"
    assert row.consider == "TST:0000001"


def test_obo_helpers():
    assert quoted('"a \\"b\\" c" EXACT []') == ('a "b" c', " EXACT []")
    assert quoted('"ends with backslash \\\\" EXACT') == (
        "ends with backslash \\",
        " EXACT",
    )
    assert quoted("no quotes") is None
    assert quoted('"never closed') is None
    assert unescape("a\\:b\\nc\\Wd") == "a:b\nc d"
    crlf = "[Term]\r\nid: CL:1\r\nname: cell\r\n"
    assert parse_obo_text(crlf, entity_spec("CellType")).terms.name.tolist() == ["cell"]


def test_obo_gzip_and_sniffing(tmp_path):
    gz = tmp_path / "mini.obo.gz"
    with open(DATA / "mini.obo", "rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    assert parser_for(gz).format == "obo"
    assert len(parse_file(gz, TST).terms) == 5
    odd_name = tmp_path / "ontology.txt"
    shutil.copy(DATA / "mini.obo", odd_name)
    assert parser_for(odd_name).format == "obo"  # by content, not by name


def test_sniffing_every_fixture(tmp_path):
    expected = {
        "mini.obo": "obo",
        "mini.cxg.json": "cxg-json",
        "mini.owl": "owl",
        "mini.owx": "owl",
        "genes.csv": "gencode-csv",
        "uniprot.tsv": "uniprot-tsv",
        "ncbitaxon.tsv": "ncbitaxon-tsv",
    }
    for name, fmt in expected.items():
        assert parser_for(DATA / name).format == fmt, name
    unknown = tmp_path / "x.bin"
    unknown.write_bytes(b"\x00\x01binary")
    with pytest.raises(ValidationError, match="cannot tell the format"):
        parser_for(unknown)
    with pytest.raises(ValidationError, match="unknown ontology format"):
        parser_for(unknown, "nope")


def test_cxg_json():
    t = parse_file(DATA / "mini.cxg.json", TST)
    terms = t.terms.set_index("ontology_id")
    assert list(terms.index) == [
        "TST:0000001",
        "TST:0000002",
        "TST:0000003",
        "TST:0000010",
    ]
    # parents: ancestors at the smallest distance (2 when no direct one is kept)
    assert terms.loc["TST:0000002", "parents"] == ["TST:0000001", "TST:0000010"]
    assert terms.loc["TST:0000003", "parents"] == ["TST:0000002"]
    assert terms.loc["TST:0000002", "synonyms"] == "T lymphocyte|T-cell"
    assert terms.loc["TST:0000001", "definition"] == "A basic unit of life."
    obs = t.obsolete.set_index("ontology_id")
    assert obs.loc["TST:0000005", "replaced_by"] == "TST:0000002"
    assert obs.loc["TST:0000005", "consider"] == "TST:0000001"
    assert obs.loc["TST:0000007", "name"] == ""  # deprecated with an empty label
    assert [(i.term, i.reason) for i in t.issues] == [
        ("TST:0000008", "term without a label")
    ]
    assert t.meta["n_filtered"] == 1


def test_cxg_json_zstd(tmp_path):
    zstandard = pytest.importorskip("zstandard")
    path = tmp_path / "TST-ontology-v1.json.zst"
    path.write_bytes(
        zstandard.ZstdCompressor().compress((DATA / "mini.cxg.json").read_bytes())
    )
    assert parser_for(path).format == "cxg-json"
    assert len(parse_file(path, TST).terms) == 4


@pytest.mark.parametrize("name", ["mini.owl", "mini.owx"])
def test_owl(name):
    pytest.importorskip("owlready2")
    t = parse_file(DATA / name, TST)
    terms = t.terms.set_index("ontology_id")
    assert terms.loc["TST:0000001", "name"] == "cell"
    assert terms.loc["TST:0000002", "parents"] == ["TST:0000001"]
    assert terms.loc["TST:0000002", "synonyms"].split("|")[0] == "T lymphocyte"
    if name == "mini.owl":
        assert terms.loc["TST:0000001", "synonyms"] == "cellula"  # not RELATED
        assert terms.loc["TST:0000001", "definition"] == "A basic unit of life."
        assert set(terms.loc["TST:0000002", "synonyms"].split("|")) == {
            "T lymphocyte",
            "T-cell",
        }
        obs = t.obsolete.set_index("ontology_id")
        assert obs.loc["TST:0000005", "replaced_by"] == "TST:0000002"
        assert [(i.term, i.reason) for i in t.issues] == [
            ("TST:0000011", "class without rdfs:label")
        ]
        assert "OTHER:0000009" not in terms.index
        part_of = parse_file(DATA / name, TST_PART_OF).terms.set_index("ontology_id")
        assert part_of.loc["TST:0000002", "parents"] == ["TST:0000001", "TST:0000010"]


def test_genes_joined_with_ncbi():
    t = parse_file([DATA / "genes.csv", DATA / "ncbi.tsv"], "Gene")
    g = t.terms.set_index("ensembl_gene_id")
    assert list(t.terms.columns) == [
        "ensembl_gene_id",
        "symbol",
        "description",
        "synonyms",
        "ncbi_gene_ids",
        "biotype",
    ]
    assert g.loc["ENSG00000000001"].tolist() == [
        "TCF7",
        "transcription factor 7",
        "TCF-1|TCF1",
        "6932",
        "protein_coding",
    ]
    # a symbol equal to the Ensembl id means "no name": NCBI's symbol fills in
    assert g.loc["ENSG00000000003", "symbol"] == "LINC9"
    # duplicated symbols stay (PAR loci), duplicated Ensembl ids do not
    assert (t.terms.symbol == "PAR1").sum() == 2
    assert len(t.terms) == 5
    reasons = sorted(i.reason for i in t.issues)
    assert reasons == [
        "GENCODE row without 5 fields",
        "duplicate Ensembl id",
        "ncbi.tsv: row with < 6 fields",
    ]
    alone = parse_file(DATA / "genes.csv", "Gene").terms.set_index("ensembl_gene_id")
    assert alone.loc["ENSG00000000003", "symbol"] is None
    assert alone.loc["ENSG00000000001", "synonyms"] is None


def test_uniprot_and_ncbitaxon():
    human = parse_file(DATA / "uniprot.tsv", "Protein", organism="human")
    assert human.terms.uniprotkb_id.tolist() == ["P01234"]
    both = parse_file(DATA / "uniprot.tsv", "Protein")
    assert both.terms.name.tolist() == ["TNR4_HUMAN", "TNR4_MOUSE"]
    assert [i.reason for i in both.issues] == ["row with < 3 fields"]
    taxa = parse_file(DATA / "ncbitaxon.tsv", "Organism")
    rows = taxa.terms.set_index("ontology_id")
    assert rows.loc["NCBITaxon:10090", "name"] == "mouse"
    assert rows.loc["NCBITaxon:10090", "synonyms"] == "house mouse"
    assert rows.loc["NCBITaxon:9606", "scientific_name"] == "Homo sapiens"
    assert rows.loc["NCBITaxon:9606", "parents"] == ["NCBITaxon:9605"]
    assert taxa.obsolete.ontology_id.tolist() == ["NCBITaxon:1"]
    # a shared common name stays with the lower taxon id
    assert rows.loc["NCBITaxon:10091", "name"] == "Mus musculus castaneus"
    assert rows.loc["NCBITaxon:10091", "synonyms"] == (
        "mouse|southwestern Asian house mouse"
    )
    assert [i.term for i in taxa.issues] == ["NCBITaxon:10091"]


def test_entity_specs():
    assert entity_spec("bionty.CellType").prefixes_for("cl") == ("CL:",)
    assert entity_spec("phenotype").prefixes_for("hp") == ("HP:",)
    assert entity_spec("Gene").columns[:2] == ("ensembl_gene_id", "symbol")
    with pytest.raises(ValidationError, match="unknown entity"):
        entity_spec("Nope")


def test_synonym_with_the_separator_is_kept_and_reported():
    text = '[Term]\nid: CL:1\nname: San\nsynonym: "Ju|\'hoan North" EXACT []\n'
    t = parse_obo_text(text, entity_spec("CellType"))
    assert t.terms.synonyms.tolist() == ["Ju\u00a6'hoan North"]
    assert t.issues[0].line == 4 and t.issues[0].action == "kept"
    assert "separator" in t.issues[0].reason


def test_self_parent_is_dropped_and_reported():
    text = (
        "[Term]\nid: CL:1\nname: a\nis_a: CL:1\nis_a: CL:2\n[Term]\nid: CL:2\nname: b\n"
    )
    t = parse_obo_text(text, entity_spec("CellType"))
    assert t.terms.parents.tolist() == [["CL:2"], []]
    assert [i.reason for i in t.issues] == ["term is its own parent; dropped that"]
    from lamin_sa.ontology.parsers.cxg_json import parse_cxg

    data = {"CL:1": {"label": "a", "ancestors": {"CL:1": 1, "CL:2": 1}}}
    j = parse_cxg(data, entity_spec("CellType"))
    assert j.terms.parents.tolist() == [["CL:2"]]
    assert j.issues[0].term == "CL:1"
