"""Importing a LaminDB 0.72 SQLite instance, on SQLite and PostgreSQL targets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import lamindb072
from tests import test_artifact_fixtures as fx
from tests.test_artifact_fixtures import Inst

inst_local = fx.inst_local


def test_import_keeps_uids_hashes_keys_and_links(inst_local: Inst, tmp_path: Path):
    import lamin_sa as ln
    from lamin_sa.exchange import import_lamindb

    old_root = tmp_path / "old_instance"
    db = lamindb072.build(old_root)
    report = import_lamindb(db)
    assert report.inserted["core_artifact"] == 3
    assert report.inserted["core_ulabel"] == 3

    art = ln.Artifact.get(lamindb072.ART2)
    assert art.hash == "md5hash2" and art.key == "data/df.csv" and art.version == "2"
    assert art.storage.root == old_root.as_posix()
    # the bytes were not copied: the artifact opens where LaminDB stored them
    assert Path(art.path) == old_root / ".lamindb" / f"{lamindb072.ART2}.csv"
    df = art.load()
    assert list(df["perturbation"]) == ["DMSO", "IFNG", "TNF"]
    # a real (non-virtual) key points at the file under its key
    counts = ln.Artifact.get(lamindb072.ART3)
    assert Path(counts.path) == old_root / "raw" / "counts.txt"
    assert counts.created_by.handle == "sunnyosun"

    # versions: the newer one is the family's latest
    assert art.is_latest and not ln.Artifact.get(lamindb072.ART1).is_latest
    assert ln.Artifact.filter(key="data/df.csv").count() == 2

    # labels with their feature, parents, feature sets, lineage, collections
    assert sorted(art.ulabels.list("name")) == ["DMSO", "IFNG"]
    from lamin_sa.models.core import ArtifactULabel

    links = ArtifactULabel.filter(artifact_id=art.id).all()
    assert {link.feature.name for link in links} == {"perturbation"}
    parent = ln.ULabel.get(name="is_perturbation")
    assert sorted(parent.children.list("name")) == ["DMSO", "IFNG"]
    (fs,) = art.feature_sets.all()
    assert sorted(fs.features.list("name")) == ["perturbation", "value"]
    assert art.run.uid == "kwkMGVHtKhxAxEnfAy5D"
    assert art.transform.uid == "NJvdsWWbJlZS6K79"
    train = ln.Run.get("kCWQ3vIRSBC9kpGwvTYE")
    assert [a.uid for a in train.input_artifacts.all()] == [lamindb072.ART2]
    assert ln.Transform.get("Pbm9nMlF2vXz0000").parents.list("name") == ["Intro"]
    coll = ln.Collection.get(name="my coll")
    assert [a.uid for a in coll.artifacts.all()] == [lamindb072.ART2, lamindb072.ART3]
    assert coll.created_by.handle == "sunnyosun"
    # Django's naive datetimes are read as UTC
    assert art.created_at.isoformat().startswith("2024-05-02T11:30:00.25")


def test_second_import_is_a_no_op(inst_local: Inst, tmp_path: Path):
    import lamin_sa as ln
    from lamin_sa.exchange import import_lamindb

    db = lamindb072.build(tmp_path / "old_instance")
    import_lamindb(db)
    counts = {
        m.__name__: m.filter(visibility=None).count()
        if m in (ln.Artifact, ln.Collection)
        else m.filter().count()
        for m in (ln.Artifact, ln.Collection, ln.ULabel, ln.Feature, ln.Run, ln.User)
    }
    again = import_lamindb(db)
    assert again.total_inserted == 0
    assert again.matched["core_artifact"] == 3
    assert counts == {
        m.__name__: m.filter(visibility=None).count()
        if m in (ln.Artifact, ln.Collection)
        else m.filter().count()
        for m in (ln.Artifact, ln.Collection, ln.ULabel, ln.Feature, ln.Run, ln.User)
    }


def test_import_refuses_what_is_not_lamindb(inst_local: Inst, tmp_path: Path):
    from lamin_sa.errors import LaminDBImportError
    from lamin_sa.exchange import import_lamindb

    with pytest.raises(LaminDBImportError, match="not a file"):
        import_lamindb(tmp_path / "missing.db")
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(LaminDBImportError, match="not a LaminDB SQLite instance"):
        import_lamindb(garbage)


def test_import_is_all_or_nothing(inst_local: Inst, tmp_path: Path):
    import sqlite3

    import lamin_sa as ln
    from lamin_sa.exchange import import_lamindb

    db = lamindb072.build(tmp_path / "old_instance")
    con = sqlite3.connect(db)
    # the last table imported holds a row lamin-sa must refuse (no name)
    con.executescript(
        """
        ALTER TABLE lnschema_core_collection RENAME TO old_collection;
        CREATE TABLE lnschema_core_collection AS SELECT * FROM old_collection;
        DROP TABLE old_collection;
        UPDATE lnschema_core_collection SET name = NULL;
        """
    )
    con.close()
    before = ln.Artifact.filter(visibility=None).count()
    with pytest.raises(Exception):  # noqa: B017 - the database's own error
        import_lamindb(db)
    assert ln.Artifact.filter(visibility=None).count() == before


def test_labels_and_users_match_by_unique_name(inst_local: Inst, tmp_path: Path):
    import lamin_sa as ln
    from lamin_sa.exchange import import_lamindb

    mine = ln.ULabel(name="DMSO").save()
    import_lamindb(lamindb072.build(tmp_path / "old_instance"))
    # the existing label is reused (names are unique), and linked
    assert ln.ULabel.filter(name="DMSO").one().uid == mine.uid
    assert "DMSO" in ln.Artifact.get(lamindb072.ART2).ulabels.list("name")


def test_cli_import_lamindb(tmp_path: Path):
    """The installed script in a fresh process: init, import, ls."""
    home = tmp_path / "home"
    env = {**os.environ, "LAMIN_SA_HOME": str(home)}
    script = Path(sys.executable).with_name("lamin-sa")
    db = lamindb072.build(tmp_path / "old_instance")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(script), *args], env=env, capture_output=True, text=True, timeout=120
        )

    assert run("init", "--storage", str(tmp_path / "new")).returncode == 0
    out = run("import-lamindb", str(db))
    assert out.returncode == 0, out.stderr
    assert "imported 3 artifacts" in out.stdout
    again = run("import-lamindb", str(db))
    assert "imported 0 artifacts" in again.stdout
    bad = run("import-lamindb", str(tmp_path / "nope.db"))
    assert bad.returncode != 0
    assert len(bad.stderr.strip().splitlines()) == 1


def test_import_bionty_terms(db_url: str, tmp_path: Path):
    import lamin_sa as ln
    from lamin_sa import bionty as bt
    from lamin_sa.exchange import import_lamindb

    db = None if db_url.startswith("sqlite") else db_url
    ln.init(storage=tmp_path / "new", db=db, modules=["bionty"])
    try:
        old = lamindb072.build(tmp_path / "old_instance")
        lamindb072.add_bionty(old)
        report = import_lamindb(old)
        assert report.inserted["bionty_celltype"] == 2
        t_cell = bt.CellType.get(ontology_id="CL:0000084")
        assert t_cell.uid == "22LvKd01" and t_cell.synonyms == "T-cell|T lymphocyte"
        assert t_cell.parents.list("name") == ["lymphocyte"]
        assert t_cell.source.name == "cl" and t_cell.source.version == "2023-08-24"
        artifact = ln.Artifact.get(lamindb072.ART2)
        assert artifact.cell_types.list("name") == ["T cell"]
        assert import_lamindb(old).total_inserted == 0
    finally:
        ln.close()


def test_bionty_loads_after_core_mappers_are_configured(tmp_path: Path):
    """A process that queried core first can still mount bionty (fresh process)."""
    code = (
        "from sqlalchemy.orm import configure_mappers\n"
        "import lamin_sa as ln\n"
        "from lamin_sa.models.core import Artifact, FeatureSet\n"
        "configure_mappers()\n"
        "from lamin_sa import bionty as bt\n"
        "print(FeatureSet.genes.property.mapper.class_.__name__,\n"
        "      Artifact.cell_types.property.mapper.class_.__name__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["Gene", "CellType"]


def test_bionty_terms_are_reported_when_bionty_is_not_mounted(
    inst_local: Inst, tmp_path: Path
):
    from lamin_sa import bionty  # noqa: F401  (its tables are in the metadata)
    from lamin_sa.exchange import import_lamindb

    old = lamindb072.build(tmp_path / "old_instance")
    lamindb072.add_bionty(old)
    report = import_lamindb(old)
    assert report.inserted["core_artifact"] == 3
    assert "lnschema_bionty_celltype" in report.skipped_tables
