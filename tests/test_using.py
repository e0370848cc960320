"""Another instance beside the connected one: ``using()`` queries and transfers.

The other instance is written by a fresh process (as its owner would) and read
read-only from this one. Directions: SQLite → SQLite, and with PostgreSQL
available, SQLite → PostgreSQL and PostgreSQL → SQLite.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import PG_URL, reset_postgres

DIRECTIONS = ["sqlite->sqlite"] + (
    ["sqlite->postgresql", "postgresql->sqlite"] if PG_URL else []
)

SOURCE = """
import pandas as pd
import lamin_sa as ln

ln.init(storage={root!r}, db={db!r}, name="source-lab")
df = pd.DataFrame({{"perturbation": ["DMSO", "IFNG"], "value": [1, 2]}})
features = ln.Feature.from_df(df)
ln.save(features)
labels = [ln.ULabel(name="DMSO"), ln.ULabel(name="IFNG")]
ln.save(labels)
artifact = ln.Artifact.from_df(df, description="source df").save()
artifact.labels.add(labels, feature=ln.Feature.get(name="perturbation"))
artifact.features.add_feature_set(ln.FeatureSet(features).save(), slot="columns")
print("source", artifact.uid)
"""


@pytest.fixture(params=DIRECTIONS)
def two_instances(request: pytest.FixtureRequest, tmp_path: Path):
    """(where to read from, the connected target instance) per direction."""
    import lamin_sa as ln

    source_kind, target_kind = request.param.split("->")
    if "postgresql" in request.param:
        assert PG_URL is not None
        reset_postgres(PG_URL)
    source_root = tmp_path / "source"
    source_db = PG_URL if source_kind == "postgresql" else None
    env = {**os.environ, "LAMIN_SA_HOME": str(tmp_path / "owner-home")}
    code = textwrap.dedent(SOURCE.format(root=str(source_root), db=source_db))
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    where = PG_URL if source_kind == "postgresql" else str(source_root)
    target_db = PG_URL if target_kind == "postgresql" else None
    ln.init(storage=tmp_path / "target", db=target_db, name="target-lab")
    try:
        yield where, source_root
    finally:
        from lamin_sa.exchange.using import close_all

        close_all()
        ln.close()


def _counts() -> dict[str, int]:
    import lamin_sa as ln

    return {
        "artifacts": ln.Artifact.filter(visibility=None).count(),
        "labels": ln.ULabel.filter().count(),
        "features": ln.Feature.filter().count(),
        "feature_sets": ln.FeatureSet.filter().count(),
        "storages": ln.Storage.filter().count(),
        "users": ln.User.filter().count(),
        "runs": ln.Run.filter().count(),
    }


def test_using_reads_the_other_instance(two_instances):
    import lamin_sa as ln

    where, _root = two_instances
    assert ln.Artifact.filter().count() == 0
    other = ln.Artifact.using(where).filter(description="source df")
    assert other.count() == 1
    artifact = other.one()
    # related records come from the other instance too
    assert sorted(artifact.ulabels.list("name")) == ["DMSO", "IFNG"]
    assert artifact.storage.root.endswith("source")
    assert ln.ULabel.using(where).filter(name__startswith="D").list("name") == ["DMSO"]
    assert len(ln.ULabel.using(where).df()) == 2
    # and the connected instance is untouched
    assert ln.ULabel.filter().count() == 0


def test_transfer_brings_what_the_artifact_needs(two_instances):
    import pandas as pd

    import lamin_sa as ln

    where, source_root = two_instances
    ln.ULabel(name="DMSO").save()  # already here under another uid: reused
    remote = ln.Artifact.using(where).get(description="source df")
    local = remote.save()
    assert local is not remote
    assert local.uid == remote.uid and local.hash == remote.hash
    # the bytes stay where they are: same storage root, nothing copied
    assert local.storage.root == remote.storage.root
    assert Path(str(local.path)).is_relative_to(source_root)
    pd.testing.assert_frame_equal(local.load(), remote.load())
    assert sorted(local.ulabels.list("name")) == ["DMSO", "IFNG"]
    assert ln.ULabel.filter(name="DMSO").count() == 1

    def feature_sets(artifact):
        return sorted(
            (fs.hash, tuple(sorted(fs.features.list("name"))))
            for fs in artifact.feature_sets.all()
        )

    # the "columns" set and the "external" set of labelled features
    assert feature_sets(local) == feature_sets(remote)
    assert ("perturbation", "value") in [names for _, names in feature_sets(local)]
    # where it came from
    assert local.transform.name == "Transfer from source-lab"
    assert local.run is not None

    before = _counts()
    again = ln.Artifact.using(where).get(description="source df").save()
    assert again.id == local.id
    assert _counts() == before


def test_transfer_of_a_label_is_matched_by_name(two_instances):
    import lamin_sa as ln

    where, _root = two_instances
    mine = ln.ULabel(name="IFNG").save()
    theirs = ln.ULabel.using(where).get(name="IFNG")
    assert theirs.uid != mine.uid
    assert theirs.save().id == mine.id
    assert ln.ULabel.filter().count() == 1


BIONTY_SOURCE = """
import lamin_sa as ln
from lamin_sa import bionty as bt

ln.init(storage={root!r}, modules=["bionty"], name="bionty-lab")
t_cell = bt.CellType(name="T cell", ontology_id="CL:0000084").save()
feature = ln.Feature(name="cell_type", dtype="cat[bionty.CellType]").save()
artifact = ln.Artifact.from_df(__import__("pandas").DataFrame({{"a": [1]}}),
                               description="typed df").save()
artifact.labels.add([t_cell], feature=feature)
"""


@pytest.mark.parametrize("target", ["sqlite"] + (["postgresql"] if PG_URL else []))
def test_transfer_brings_bionty_terms(tmp_path: Path, target: str):
    import lamin_sa as ln
    from lamin_sa import bionty as bt
    from lamin_sa.exchange.using import close_all

    env = {**os.environ, "LAMIN_SA_HOME": str(tmp_path / "owner-home")}
    code = textwrap.dedent(BIONTY_SOURCE.format(root=str(tmp_path / "source")))
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    if target == "postgresql":
        reset_postgres(PG_URL)
    db = PG_URL if target == "postgresql" else None
    ln.init(storage=tmp_path / "target", db=db, modules=["bionty"], name="target-lab")
    try:
        remote = ln.Artifact.using(str(tmp_path / "source")).get(description="typed df")
        local = remote.save()
        assert local.cell_types.list("ontology_id") == ["CL:0000084"]
        assert bt.CellType.get(ontology_id="CL:0000084").uid == "22LvKd01"
        remote.save()
        assert bt.CellType.filter().count() == 1
    finally:
        close_all()
        ln.close()


def test_using_an_unknown_instance_says_what_to_pass(two_instances, tmp_path: Path):
    import lamin_sa as ln
    from lamin_sa.errors import InstanceNotFound

    with pytest.raises(InstanceNotFound, match="registered name"):
        ln.Artifact.using(str(tmp_path / "nowhere")).count()
