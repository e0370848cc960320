"""The bulk loader on SQLite and PostgreSQL, against a test-only registry."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from lamin_sa.db.session import make_engine
from lamin_sa.ontology.entities import EntitySpec
from lamin_sa.ontology.loader import count_rows, import_table
from lamin_sa.ontology.parsers import parse_file
from lamin_sa.ontology.parsers.obo import parse_obo_text
from lamin_sa.ontology.table import make_table
from tests.ontology_support.tables import gene_target, make_tables

DATA = Path(__file__).parent / "data" / "ontology"
TST = EntitySpec("Tissue", {"*": ("TST:",)}, part_of=True)

V2_EDITS = [
    # renamed, re-parented (is_a TST:0000001 → TST:0000010), TST:0000006 dropped,
    # TST:0000003 obsoleted, TST:0000020 added
    ("name: T cell\n", "name: T lymphocyte cell\n"),
    ("id: TST:0000006\nname: broken def", "id: TST:0000020\nname: new term"),
    ("name: !Kung\nis_a: TST:0000001", "name: !Kung\nis_obsolete: true"),
]


def _release(version: str) -> object:
    text = (DATA / "mini.obo").read_text()
    if version == "v2":
        for old, new in V2_EDITS:
            assert old in text
            text = text.replace(old, new)
        text = text.replace(
            "is_a: TST:0000001 ! cell\nis_a: OTHER", "is_a: TST:0000010\nis_a: OTHER"
        )
    return parse_obo_text(text, TST)


def _source(version: str) -> dict[str, str]:
    return {
        "entity": "Tissue",
        "name": "tst",
        "organism": "all",
        "version": version,
        "checksum": f"sum-{version}",
        "url": None,
        "description": "test ontology",
    }


@pytest.fixture
def db(db_url):
    engine = make_engine(db_url)
    md, target = make_tables()
    md.create_all(engine)
    try:
        yield engine, md, target
    finally:
        md.drop_all(engine)
        engine.dispose()


def _terms(conn, target):
    t = target.table
    rows = conn.execute(
        select(t.c.id, t.c.ontology_id, t.c.name, t.c.synonyms, t.c.obsolete)
    ).all()
    return {r.ontology_id: r for r in rows}


def _edges(conn, target):
    t, lt = target.table, target.link_table
    ids = {r.id: r.ontology_id for r in conn.execute(select(t.c.id, t.c.ontology_id))}
    return {
        (ids[c], ids[p])
        for c, p in conn.execute(select(lt.c.from_id, lt.c.to_id)).all()
    }


def test_import_is_one_idempotent_transaction(db):
    engine, _, target = db
    v1 = _release("v1")
    with engine.connect() as conn:
        result = import_table(conn, target, v1, _source("v1"))
    assert (result.inserted, result.updated, result.links_added) == (5, 0, 4)
    with engine.connect() as conn:
        terms = _terms(conn, target)
        assert set(terms) == {
            "TST:0000001",
            "TST:0000002",
            "TST:0000003",
            "TST:0000006",
            "TST:0000010",
        }
        assert terms["TST:0000002"].synonyms == (
            "T lymphocyte|T-cell|T cell (second stanza)"
        )
        assert _edges(conn, target) == {
            ("TST:0000002", "TST:0000001"),
            ("TST:0000002", "TST:0000010"),
            ("TST:0000003", "TST:0000001"),
            ("TST:0000006", "TST:0000002"),
        }
        src = conn.execute(select(target.source_table)).one()
        assert (src.version, src.md5, src.in_db, src.currently_used) == (
            "v1",
            "sum-v1",
            True,
            True,
        )
        assert len(src.uid) == 8
        uid = conn.execute(
            select(target.table.c.uid).where(
                target.table.c.ontology_id == "TST:0000001"
            )
        ).scalar_one()
        from lamin_sa.db.uid import hash_to_uid

        assert uid == hash_to_uid("TST:0000001", 8)
    # the same release again changes nothing
    with engine.connect() as conn:
        before = _terms(conn, target)
        again = import_table(conn, target, v1, _source("v1"))
        assert again.skipped
        assert _terms(conn, target) == before
        assert count_rows(conn, target.source_table) == 1
        assert count_rows(conn, target.link_table) == 4


def test_newer_version_updates_in_place(db):
    engine, _, target = db
    t, lt = target.table, target.link_table
    with engine.connect() as conn:
        import_table(conn, target, _release("v1"), _source("v1"))
        ids_v1 = {k: r.id for k, r in _terms(conn, target).items()}
    # a user's own record under a public term: never touched by imports
    with engine.begin() as conn:
        mine = conn.execute(
            t.insert()
            .values(uid="mine0001", name="my cell state", created_by="me")
            .returning(t.c.id)
        ).scalar_one()
        conn.execute(lt.insert().values(from_id=mine, to_id=ids_v1["TST:0000002"]))
    with engine.connect() as conn:
        result = import_table(conn, target, _release("v2"), _source("v2"))
    assert result.inserted == 1  # TST:0000020
    assert result.obsoleted == 2  # TST:0000003 (flagged), TST:0000006 (dropped)
    with engine.connect() as conn:
        terms = _terms(conn, target)
        # ids kept, renamed in place
        for key, pk in ids_v1.items():
            assert terms[key].id == pk
        assert terms["TST:0000002"].name == "T lymphocyte cell"
        assert terms["TST:0000003"].obsolete and terms["TST:0000006"].obsolete
        assert not terms["TST:0000002"].obsolete
        edges = _edges(conn, target)
        # re-parented: the old is_a link between two active terms is gone
        assert ("TST:0000002", "TST:0000001") not in edges
        assert ("TST:0000002", "TST:0000010") in edges
        # links of obsolete terms are kept
        assert ("TST:0000003", "TST:0000001") in edges
        assert ("TST:0000006", "TST:0000002") in edges
        assert (
            conn.execute(select(lt.c.to_id).where(lt.c.from_id == mine)).scalar_one()
            == ids_v1["TST:0000002"]
        )
        sources = {
            r.version: r for r in conn.execute(select(target.source_table)).all()
        }
        assert sources["v2"].currently_used and not sources["v1"].currently_used
        new_src = sources["v2"].id
        src_of = dict(conn.execute(select(t.c.ontology_id, t.c.source_id)).all())
        assert src_of["TST:0000002"] == new_src == src_of["TST:0000020"]
    # back to v1 (e.g. a pinned project): terms come back from obsolete
    with engine.connect() as conn:
        import_table(
            conn, target, _release("v1"), {**_source("v1"), "checksum": "sum-v1b"}
        )
        terms = _terms(conn, target)
        assert not terms["TST:0000006"].obsolete
        assert terms["TST:0000002"].name == "T cell"


def test_failed_import_leaves_nothing(db):
    engine, _, target = db
    broken = make_table(
        TST,
        {
            "ontology_id": ["TST:1", "TST:2"],
            "name": ["fine", None],  # NOT NULL violation on the second row
            "definition": [None, None],
            "synonyms": [None, None],
            "parents": [[], ["TST:1"]],
        },
    )
    with engine.connect() as conn:
        with pytest.raises(Exception):  # noqa: B017 - the driver's IntegrityError
            import_table(conn, target, broken, _source("bad"))
    with engine.connect() as conn:
        assert count_rows(conn, target.table) == 0
        assert count_rows(conn, target.source_table) == 0


def test_flat_gene_table(db):
    engine, md, target = db
    genes = gene_target(md, target.source_table)
    genes.table.create(engine)
    table = parse_file([DATA / "genes.csv", DATA / "ncbi.tsv"], "Gene")
    src = {"entity": "Gene", "name": "ensembl", "organism": "human", "version": "1"}
    with engine.connect() as conn:
        result = import_table(conn, genes, table, {**src, "checksum": "x"})
        assert result.inserted == 5
        row = conn.execute(
            select(genes.table).where(genes.table.c.symbol == "TCF7")
        ).one()
        assert (row.ensembl_gene_id, row.synonyms, row.ncbi_gene_ids) == (
            "ENSG00000000001",
            "TCF-1|TCF1",
            "6932",
        )
        assert import_table(conn, genes, table, {**src, "checksum": "x"}).skipped


def test_infer_target_from_conventional_tables(db_url):
    from lamin_sa.db.uid import hash_to_uid
    from lamin_sa.ontology.targets import infer_target
    from tests.ontology_support.tables import conventional_tables

    md = conventional_tables()
    engine = make_engine(db_url)
    md.create_all(engine)
    try:
        cells, source = md.tables["t2_celltype"], md.tables["t2_source"]
        target = infer_target(cells, source, "CellType", defaults={"created_by_id": 1})
        assert target.columns == {
            "name": "name",
            "definition": "description",
            "synonyms": "synonyms",
        }
        assert (target.link_child, target.link_parent) == (
            "from_celltype_id",
            "to_celltype_id",
        )
        assert target.source_columns["checksum"] == "md5"
        assert target.obsolete_column is None
        table = parse_file(
            DATA / "mini.cxg.json", EntitySpec("CellType", {"*": ("TST:",)})
        )
        src = {
            "entity": "bionty.CellType",
            "name": "tst",
            "organism": "all",
            "version": "1",
            "checksum": "abc",
        }
        with engine.connect() as conn:
            result = import_table(conn, target, table, src)
            assert (result.inserted, result.links_added) == (4, 3)
            uid = conn.execute(
                select(cells.c.uid).where(cells.c.ontology_id == "TST:0000002")
            ).scalar_one()
            assert uid == hash_to_uid("TST:0000002", 8)
            src_uid = conn.execute(select(source.c.uid)).scalar_one()
            assert src_uid == hash_to_uid("bionty.CellType|tst|all|1", 8)
    finally:
        md.drop_all(engine)
        engine.dispose()


def test_subset_import_brings_the_ancestor_chain(db):
    engine, _, target = db
    v1 = _release("v1")
    with engine.connect() as conn:
        result = import_table(conn, target, v1, _source("v1"), subset=["TST:0000006"])
        assert result.inserted == 4  # the term, its parent and their ancestors
        assert set(_terms(conn, target)) == {
            "TST:0000006",
            "TST:0000002",
            "TST:0000001",
            "TST:0000010",
        }
        assert _edges(conn, target) == {
            ("TST:0000006", "TST:0000002"),
            ("TST:0000002", "TST:0000001"),
            ("TST:0000002", "TST:0000010"),
        }
        src = conn.execute(select(target.source_table)).one()
        assert not src.in_db
        # again: nothing to do
        again = import_table(conn, target, v1, _source("v1"), subset=["TST:0000006"])
        assert (again.inserted, again.links_added) == (0, 0)
        # the full import completes the source and keeps the saved ids
        before = {k: r.id for k, r in _terms(conn, target).items()}
        full = import_table(conn, target, v1, _source("v1"))
        assert full.inserted == 1 and full.links_added == 1
        after = _terms(conn, target)
        assert all(after[k].id == pk for k, pk in before.items())
        assert conn.execute(select(target.source_table.c.in_db)).scalar_one()


def test_import_release_skips_without_parsing(db, tmp_path):
    from lamin_sa.ontology import cache
    from lamin_sa.ontology.loader import import_release

    engine, _, target = db
    path = tmp_path / "cl-mini.obo"
    path.write_text(
        "data-version: releases/2024-01-01\n\n[Term]\nid: CL:1\nname: cell\n\n"
        "[Term]\nid: CL:2\nname: T cell\nis_a: CL:1\n"
    )
    with engine.connect() as conn:
        first = import_release(conn, target, "CellType", file=path, version="2024")
        assert (first.inserted, first.links_added) == (2, 1)
        cache.clear_cache()
        again = import_release(conn, target, "CellType", file=path, version="2024")
        assert again.skipped
        assert not list(cache.parsed_cache_dir().iterdir())  # nothing was parsed
        path.write_text(path.read_text().replace("name: T cell", "name: T-cell"))
        changed = import_release(conn, target, "CellType", file=path, version="2024")
        assert (changed.inserted, changed.updated) == (0, 1)
        src = conn.execute(select(target.source_table)).one()
        assert src.entity == "CellType" and src.name == "cl" and src.in_db


def test_values_too_long_are_rejected_by_name(db):
    engine, _, target = db
    table = make_table(
        TST,
        {
            "ontology_id": ["TST:1", "TST:2", "TST:3"],
            "name": ["root", "x" * 600, "child"],  # the name column holds 512
            "definition": [None, None, None],
            "synonyms": [None, None, None],
            "parents": [[], ["TST:1"], ["TST:2", "TST:1"]],
        },
    )
    with engine.connect() as conn:
        result = import_table(conn, target, table, _source("v1"))
        assert result.rejected == [("TST:2", "name longer than 512 characters")]
        assert set(_terms(conn, target)) == {"TST:1", "TST:3"}
        assert _edges(conn, target) == {("TST:3", "TST:1")}


def _schema(engine, target) -> dict[str, object]:
    from sqlalchemy import inspect as sa_inspect

    insp = sa_inspect(engine)
    out: dict[str, object] = {}
    for table in (target.table, target.link_table):
        fks = insp.get_foreign_keys(table.name)
        out[table.name] = (
            sorted((f["name"] or "", tuple(f["constrained_columns"])) for f in fks),
            sorted(tuple(sorted(f["options"].items())) for f in fks),
            sorted(
                (i["name"], tuple(i["column_names"]))
                for i in insp.get_indexes(table.name)
            ),
        )
    return out


def test_a_large_import_keeps_indexes_and_foreign_keys(db):
    """Past the bulk threshold indexes (and PostgreSQL's foreign keys) are rebuilt.

    They come back as they were, still enforced.
    """
    engine, _, target = db
    n = 6_000  # above the loader's threshold for rebuilding instead of updating
    stanzas = ["format-version: 1.2\nontology: tst\n"]
    stanzas.append("[Term]\nid: TST:0000000\nname: root\n")
    stanzas += [
        f"[Term]\nid: TST:{i:07d}\nname: term {i}\nis_a: TST:{i - 1:07d}\n"
        for i in range(1, n)
    ]
    release = parse_obo_text("\n".join(stanzas), TST)
    before = _schema(engine, target)
    with engine.connect() as conn:
        result = import_table(conn, target, release, _source("big"))
    assert (result.inserted, result.links_added) == (n, n - 1)
    assert _schema(engine, target) == before
    lt = target.link_table
    with engine.connect() as conn:
        assert count_rows(conn, lt) == n - 1
        if engine.dialect.name == "postgresql":  # a dangling parent is refused
            from sqlalchemy.exc import IntegrityError

            with pytest.raises(IntegrityError, match="foreign key"):
                conn.execute(lt.insert().values(from_id=1, to_id=10**9))
            conn.rollback()
