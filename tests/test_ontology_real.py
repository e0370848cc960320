"""Real ontology files from $LAMIN_SA_ONTOLOGY_DIR (skipped when it is unset).

Counts are checked against an independent reading of each file written here
with regular expressions and ``json`` (not the parsers' code), and against the
numbers in the folder's SOURCES.md.
"""

from __future__ import annotations

import gzip
import json
import os
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lamin_sa.ontology import PublicOntology, sources
from lamin_sa.ontology.entities import entity_spec
from lamin_sa.ontology.load import load_source

ONTOLOGY_DIR = os.environ.get("LAMIN_SA_ONTOLOGY_DIR")
pytestmark = pytest.mark.skipif(
    not ONTOLOGY_DIR, reason="LAMIN_SA_ONTOLOGY_DIR is not set"
)

# active terms per file, from SOURCES.md (after the entity's prefix filter)
SOURCES_MD_ACTIVE = {
    ("CellType", "cl", "2026-03-26"): 3324,
    ("CellType", "cl", "2025-02-13"): 2874,
    ("Tissue", "uberon", "2026-04-01"): 14971,
    ("Disease", "mondo", "2026-05-05"): 27990,
    ("Disease", "mondo", "2025-02-04"): 26144,
    ("Disease", "doid", "2016-09-01"): 6971,
    ("Phenotype", "pato", "2025-05-14"): 1887,
    ("Phenotype", "hp", "2025-01-16"): 19034,
    ("ExperimentalFactor", "efo", "3.90.0"): 13452,
    ("DevelopmentalStage", "hsapdv", "2025-01-23"): 239,
    ("DevelopmentalStage", "mmusdv", "2025-01-23"): 134,
    ("Pathway", "go", "2022-07-01"): 43558,
    ("Pathway", "pw", "2013-10-14"): 1443,
    ("CellLine", "cellosaurus", "55.0"): 167186,
    ("Organism", "ncbitaxon", "2026-05-13"): 36601,
}


def _text(path: Path) -> str:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.decode("utf-8", errors="replace")


def independent_counts(spec_entry: sources.SourceSpec) -> dict[str, object]:
    """Terms, EXACT synonyms and parents of a file, read without the parsers."""
    entity = entity_spec(spec_entry.entity)
    prefixes = entity.prefixes_for(spec_entry.name)
    path = Path(ONTOLOGY_DIR) / spec_entry.files[0]  # type: ignore[arg-type]
    terms: dict[str, tuple[int, set[str]]] = {}
    if spec_entry.format == "obo":
        text = _text(path).replace("\r\n", "\n")
        for block in re.split(r"\n(?=\[)", text):
            if not block.startswith("[Term]"):
                continue
            m = re.search(r"^id: *(\S+)", block, re.M)
            if not m or not m.group(1).startswith(prefixes):
                continue
            if re.search(r"^is_obsolete: *true", block, re.M):
                continue
            if not re.search(r"^name: *\S", block, re.M):
                continue
            syns = set(
                re.findall(r'^synonym: *"((?:[^"\\]|\\.)*)" +EXACT', block, re.M)
            )
            syns |= set(
                re.findall(r'^exact_synonym: *"((?:[^"\\]|\\.)*)"', block, re.M)
            )
            parents = set(re.findall(r"^is_a: *([^\s!{]+)", block, re.M))
            if entity.part_of:
                parents |= set(
                    re.findall(r"^relationship: *part_of +([^\s!{]+)", block, re.M)
                )
            terms[m.group(1)] = (
                len(syns),
                {p for p in parents if p.startswith(prefixes)},
            )
    elif spec_entry.format == "cxg-json":
        data = json.loads(_text(path))
        for tid, term in data.items():
            if not tid.startswith(prefixes) or term.get("deprecated"):
                continue
            if not term.get("label"):
                continue
            anc = {
                a: d
                for a, d in term.get("ancestors", {}).items()
                if a.startswith(prefixes)
            }
            low = min(anc.values()) if anc else None
            terms[tid] = (
                len(set(term.get("synonyms") or [])),
                {a for a, d in anc.items() if d == low},
            )
    elif spec_entry.format == "ncbitaxon-tsv":
        rows = []
        for line in _text(path).splitlines()[1:]:
            f = line.split("\t")
            if f[4] == "true":
                continue
            common = [s for s in f[2].split("|") if s]
            rows.append((int(f[0].split(":")[1]), f[0], common, f[3]))
        taken: set[str] = set()
        for _, tid, common, parents in sorted(rows):
            # the shortest common name is the name unless a lower id has it
            name = min(common, key=len) if common else None
            keeps = name is not None and name not in taken
            if keeps:
                taken.add(name)
            n_syn = len(common) - 1 if keeps else len(common)
            terms[tid] = (n_syn, {p for p in parents.split("|") if p})
    else:
        raise AssertionError(spec_entry.format)
    # a term is never its own parent (CL 2025-02-13 lists CL:4047034 as its own
    # ancestor; the parsers drop that and report it)
    terms = {k: (n, p - {k}) for k, (n, p) in terms.items()}
    active = set(terms)
    return {
        "terms": len(terms),
        "synonyms": sum(n for n, _ in terms.values()),
        "parents": sum(len(p) for _, p in terms.values()),
        "links": sum(len(p & active) for _, p in terms.values()),
    }


ONTOLOGY_SPECS = [
    s for s in sources.manifest() if s.format in ("obo", "cxg-json", "ncbitaxon-tsv")
]


def _id(spec: sources.SourceSpec) -> str:
    return f"{spec.entity}-{spec.name}-{spec.version}-{spec.format}"


def _load(spec: sources.SourceSpec):
    organism = None if spec.organism == "all" else spec.organism
    return load_source(
        spec.entity,
        source=spec.name,
        version=spec.version,
        organism=organism,
        format=spec.format,
    )


@pytest.mark.parametrize("spec", ONTOLOGY_SPECS, ids=_id)
def test_parse_counts_match_the_file(spec):
    table, found = _load(spec)
    assert found.origin == "dir"
    assert found.checksum == "+".join(spec.sha256)
    expected = independent_counts(spec)
    terms = table.terms
    synonyms = sum(len(s.split("|")) for s in terms.synonyms.dropna())
    parents = sum(len(p) for p in terms.parents) if "parents" in terms else 0
    assert len(terms) == expected["terms"]
    assert synonyms == expected["synonyms"]
    assert parents == expected["parents"]
    assert not table.terms[entity_spec(spec.entity).id_field].duplicated().any()
    key = (spec.entity, spec.name, spec.version)
    if key in SOURCES_MD_ACTIVE:
        assert len(terms) == SOURCES_MD_ACTIVE[key]
    # nothing dropped silently: the parse report names each skipped stanza
    for issue in table.skipped:
        assert issue.reason


def test_malformed_real_stanzas_are_kept():
    hancestro = PublicOntology("Ethnicity", version="2025-04-01").table
    kung = [i for i in hancestro.issues if i.term == "AfPO:0000263"]
    assert kung and "!Kung" in kung[0].reason and kung[0].action == "kept"
    stages, _ = load_source(
        "Tissue",
        file=Path(ONTOLOGY_DIR) / "life-stages-2025-01-23.obo",
        source="uberon",
    )
    # UBERON:0007221 has an xref URL with `\:`; strict parsers drop the stanza
    assert "UBERON:0007221" in set(stages.terms.ontology_id)
    doid = PublicOntology("Disease", source="doid").df()
    for tid in ("DOID:0001816", "DOID:0002116", "DOID:5547", "DOID:5551"):
        assert tid in doid.index
    pw = PublicOntology("Pathway", source="pw")
    assert len(pw) == 1443  # 214 stanzas with unquoted xref descriptions kept


def test_cell_ontology_t_cell():
    cl = PublicOntology("CellType")
    t_cell = cl.df().loc["CL:0000084"]
    assert t_cell["name"] == "T cell"
    assert t_cell.synonyms.split("|") == ["T lymphocyte", "T-cell", "T-lymphocyte"]
    assert t_cell.parents == ["CL:0000542"]  # lymphocyte
    assert cl.df().loc["CL:0000542", "name"] == "lymphocyte"
    hits = cl.search("gamma delta T cell")
    assert hits.iloc[0]["name"] == "gamma-delta T cell"
    assert hits["__ratio__"].iloc[0] == 100.0
    for name in ("Boettcher cell", "bone marrow cell", "pancreatic ductal cell"):
        assert cl.validate([name], mute=True).all()
    # the OBO release agrees on T cell
    obo = PublicOntology("CellType", version="2022-11-25").df().loc["CL:0000084"]
    assert obo.parents == ["CL:0000542"]
    assert set(obo.synonyms.split("|")) == {"T lymphocyte", "T-cell", "T-lymphocyte"}


def test_hancestro_european_ancestry_parent():
    for version in ("2025-04-01", "2025-10-14"):
        df = PublicOntology("Ethnicity", version=version).df()
        assert df.loc["HANCESTRO:0005", "name"] == "European ancestry"
        assert df.loc["HANCESTRO:0005", "parents"] == ["HANCESTRO:0004"]


def test_pato_obo_and_json_agree():
    obo = PublicOntology("Phenotype", source="pato", format="obo").df()
    js = PublicOntology("Phenotype", source="pato", format="cxg-json").df()
    assert set(obo.index) == set(js.index)
    assert (obo.name == js.name.reindex(obo.index)).all()
    differ = [i for i in obo.index if sorted(obo.parents[i]) != sorted(js.parents[i])]
    assert differ == []


def _active(path: str, prefix: str) -> dict[str, dict]:
    data = json.loads(_text(Path(ONTOLOGY_DIR) / path))
    return {
        k: v
        for k, v in data.items()
        if k.startswith(prefix) and not v.get("deprecated") and v.get("label")
    }


@pytest.mark.parametrize(
    ("entity", "new", "old", "files", "prefix"),
    [
        (
            "CellType",
            "2026-03-26",
            "2025-02-13",
            ("cl-2026-03-26.cxg.json.gz", "cl-2025-02-13.cxg.json.gz"),
            "CL:",
        ),
        (
            "Disease",
            "2026-05-05",
            "2025-02-04",
            ("mondo-2026-05-05.cxg.json.gz", "mondo-2025-02-04.cxg.json.gz"),
            "MONDO:",
        ),
    ],
)
def test_diff_between_versions(entity, new, old, files, prefix):
    a = PublicOntology(entity, version=new)
    b = PublicOntology(entity, version=old)
    d = a.diff(b)
    new_terms, old_terms = _active(files[0], prefix), _active(files[1], prefix)
    assert set(d.added[d.added.columns[0]]) == set(new_terms) - set(old_terms)
    assert set(d.removed.iloc[:, 0]) == set(old_terms) - set(new_terms)
    renamed = {
        k
        for k in set(new_terms) & set(old_terms)
        if new_terms[k]["label"] != old_terms[k]["label"]
    }
    assert set(d.renamed.iloc[:, 0]) == renamed
    assert len(d.added) > 0 and len(d.reparented) > 0
    assert b.diff(a).added.equals(d.added)


def test_genes_human_joined_and_aliases():
    genes = PublicOntology("Gene", organism="human")
    df = genes.df()
    assert len(df) == 78894
    assert df.loc["ENSG00000081059", "symbol"] == "TCF7"
    assert df.loc["ENSG00000139618", "symbol"] == "BRCA2"
    assert "6932" in df.loc["ENSG00000081059", "ncbi_gene_ids"].split("|")
    assert "TCF-1" in df.loc["ENSG00000081059", "synonyms"].split("|")
    # independent join count: GENCODE ids that appear in the NCBI table
    ncbi_ens = set()
    for line in _text(
        Path(ONTOLOGY_DIR) / "ncbi-genes-human-2022-09-12.tsv.gz"
    ).splitlines()[1:]:
        f = line.split("\t")
        ncbi_ens.update(e for e in f[2].split("|") if e)
    assert df.ncbi_gene_ids.notna().sum() == len(ncbi_ens & set(df.index))
    mapped = genes.standardize(["TCF-1", "CD8A", "CD4", "CD14", "CD38"], mute=True)
    assert mapped == ["TCF7", "CD8A", "CD4", "CD14", "CD38"]
    assert genes.validate(["CD8A", "CD4", "CD14", "CD38"], mute=True).all()
    assert genes.standardize(["TCF-1"], return_field="ensembl_gene_id", mute=True) == [
        "ENSG00000081059"
    ]
    mouse = PublicOntology("Gene", organism="mouse")
    assert len(mouse) == 78317 and mouse.df().synonyms.isna().all()


def test_every_default_resolves_offline():
    frame = sources.sources_frame()
    assert (frame.available == "dir").all(), frame[frame.available != "dir"]
    for entity in frame.entity.unique():
        organism = "human" if entity_spec(entity).needs_organism else None
        found = sources.resolve(entity, organism=organism)
        assert found.origin == "dir"


@pytest.fixture
def db(db_url):
    from lamin_sa.db.session import make_engine
    from tests.ontology_support.tables import make_tables

    engine = make_engine(db_url)
    md, target = make_tables()
    md.create_all(engine)
    try:
        yield engine, target
    finally:
        md.drop_all(engine)
        engine.dispose()


IMPORT_SPECS = [s for s in ONTOLOGY_SPECS if not (s.name == "cellosaurus")]


@pytest.mark.parametrize("spec", IMPORT_SPECS, ids=_id)
def test_import_counts_match_the_file(db, spec):
    from lamin_sa.ontology.loader import import_table

    engine, target = db
    table, found = _load(spec)
    expected = independent_counts(spec)
    src = {
        "entity": spec.entity,
        "name": found.name,
        "organism": found.organism,
        "version": found.version,
        "checksum": found.checksum,
    }
    with engine.connect() as conn:
        result = import_table(conn, target, table, src)
        assert result.inserted == expected["terms"]
        t, lt = target.table, target.link_table
        n_terms = conn.execute(select(func.count()).select_from(t)).scalar_one()
        syn_text = conn.execute(select(t.c.synonyms).where(t.c.synonyms.isnot(None)))
        n_syn = sum(len(s.split("|")) for (s,) in syn_text)
        n_links = conn.execute(select(func.count()).select_from(lt)).scalar_one()
        assert (n_terms, n_syn, n_links) == (
            expected["terms"],
            expected["synonyms"],
            expected["links"],
        )
        assert import_table(conn, target, table, src).skipped


def test_import_cellosaurus(db):
    from lamin_sa.ontology.loader import import_table

    engine, target = db
    table, found = load_source("CellLine")
    with engine.connect() as conn:
        result = import_table(
            conn,
            target,
            table,
            {
                "entity": "CellLine",
                "name": "cellosaurus",
                "organism": "all",
                "version": found.version,
                "checksum": found.checksum,
            },
        )
        assert result.inserted == 167186
        assert result.links_added == 0


def test_package_releases_match_the_dir(monkeypatch):
    pytest.importorskip("cellxgene_ontology_guide")
    pytest.importorskip("zstandard")
    from_dir, _ = load_source("CellType")
    monkeypatch.delenv("LAMIN_SA_ONTOLOGY_DIR")
    from_pkg, found = load_source("CellType")
    assert found.origin == "package" and found.format == "cxg-json"
    assert from_pkg.terms.drop(columns="parents").equals(
        from_dir.terms.drop(columns="parents")
    )
    assert from_pkg.terms.parents.tolist() == from_dir.terms.parents.tolist()
    # every entry with a package file resolves without the ontology dir
    for spec in sources.manifest():
        if spec.package:
            assert sources.availability(spec) in ("package", "cache"), spec
