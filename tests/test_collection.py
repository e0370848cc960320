"""Collections: members in order, set-hash dedup, load/cache, versions, trash."""

from __future__ import annotations

import pandas as pd
import pytest

import lamin_sa as ln
from lamin_sa.errors import NotSavedError, ValidationError
from lamin_sa.storage import hash_set
from tests import test_artifact_fixtures as fx
from tests.s3_server import s3_bucket, s3_server  # noqa: F401
from tests.test_artifact_fixtures import Inst

inst = fx.inst
inst_local = fx.inst_local


def _arts(n: int, tag: str = "") -> list:
    out = []
    for i in range(n):
        df = pd.DataFrame({"x": [i, i + 1], "tag": [tag, tag]})
        out.append(ln.Artifact.from_df(df, description=f"{tag}{i}").save())
    return out


def test_collection_members_in_order_and_load(inst: Inst) -> None:
    a = _arts(3)
    ordered = [a[2], a[0], a[1]]
    c = ln.Collection(ordered, name="my collection")
    assert c.hash == hash_set([x.hash for x in ordered]) and c.id is None
    c.save()
    fresh = ln.Collection.get(c.uid)
    assert [x.uid for x in fresh.ordered_artifacts()] == [x.uid for x in ordered]
    assert [x.uid for x in fresh.artifacts] == [x.uid for x in ordered]
    df = fresh.load()
    assert df["x"].tolist() == [2, 3, 0, 1, 1, 2]
    paths = fresh.cache()
    assert len(paths) == 3 and all(p.exists() for p in paths)
    assert ln.Collection(ordered, name="again") is c  # same set hash
    c.save()  # idempotent
    assert ln.Collection.filter().count() == 1


def test_collection_anndata_concat(inst_local: Inst) -> None:
    import anndata as ad
    import numpy as np

    arts = []
    for i in range(2):
        adata = ad.AnnData(
            X=np.full((2, 2), i, dtype="float32"),
            obs=pd.DataFrame(index=[f"c{i}a", f"c{i}b"]),
            var=pd.DataFrame(index=["g1", "g2"]),
        )
        arts.append(ln.Artifact.from_anndata(adata, description=f"ad{i}").save())
    c = ln.Collection(arts, name="ads").save()
    joined = ln.Collection.get(c.uid).load()
    assert joined.shape == (4, 2)
    assert joined.obs["artifact_uid"].tolist() == [arts[0].uid] * 2 + [arts[1].uid] * 2


def test_collection_errors(inst_local: Inst) -> None:
    (a,) = _arts(1)
    with pytest.raises(ValueError, match="Artifact or List"):
        ln.Collection("nope", name="x")
    unsaved = ln.Artifact.from_df(pd.DataFrame({"u": [1]}), description="u")
    with pytest.raises(NotSavedError, match="yet saved"):
        ln.Collection([a, unsaved], name="x")
    with pytest.raises(ValueError, match="distinct hashes"):
        ln.Collection([a, a], name="x")
    with pytest.raises(ValueError, match="Only artifacts, name"):
        ln.Collection([a], name="x", colour="red")
    with pytest.raises(ValueError, match="must be `None` or `str`"):
        ln.Collection([a], name="x", version=2)
    txt = inst_local.tmp / "t.txt"
    txt.write_text("t")
    t = ln.Artifact(txt, description="t").save()
    mixed = ln.Collection([a, t], name="mixed").save()
    with pytest.raises(ValidationError, match="same suffix"):
        mixed.load()
    single = ln.Collection(a, name="single").save()
    assert [x.uid for x in single.ordered_artifacts()] == [a.uid]


def test_collection_versions(inst_local: Inst) -> None:
    a = _arts(3, "v")
    c1 = ln.Collection(a[:2], name="fam").save()
    with pytest.raises(ValueError, match="Please increment the previous version: '1'"):
        ln.Collection(a, is_new_version_of=c1, version="1")
    c2 = ln.Collection(a, revises=c1).save()
    assert (c1.version, c2.version) == ("1", "2") and c2.name == "fam"
    assert c2.uid[:16] == c1.uid[:16]
    assert ln.Collection.get(name="fam").uid == c2.uid
    assert ln.Collection.filter(name="fam", is_latest=True).list("uid") == [c2.uid]
    assert len(c2.ordered_artifacts()) == 3
    assert ln.Collection.get(c1.uid).version == "1"


def test_collection_trash(inst_local: Inst) -> None:
    a = _arts(2, "t")
    c = ln.Collection(a, name="trash me").save()
    c.delete()
    assert ln.Collection.filter().count() == 0 and c.visibility == -1
    c.restore()
    assert ln.Collection.filter().count() == 1
    c.delete(permanent=True)
    assert ln.Collection.filter(visibility=None).count() == 0
    assert ln.Artifact.filter().count() == 2  # artifacts stay
    a[0].delete(permanent=True)  # no longer protected by the link


def _annotated(df: pd.DataFrame, description: str, features: list) -> ln.Artifact:
    artifact = ln.Artifact.from_df(df, description=description).save()
    artifact.features.add_feature_set(ln.FeatureSet(features), slot="columns")
    return artifact


def test_collection_feature_sets_union_per_slot(inst_local: Inst) -> None:
    x, y, z = (ln.Feature(name=n, dtype="int").save() for n in ("x", "y", "z"))
    a1 = _annotated(pd.DataFrame({"x": [1], "y": [2]}), "fs1", [x, y])
    a2 = _annotated(pd.DataFrame({"y": [3], "z": [4]}), "fs2", [y, z])
    c1 = ln.Collection([a1, a2], name="annotated").save()
    assert c1.features.slots() == ["columns"]
    assert sorted(c1.features["columns"].list("name")) == ["x", "y", "z"]
    union = c1.features.feature_set_by_slot["columns"]
    assert union.registry == "Feature" and union.n == 3
    a3 = ln.Artifact.from_df(pd.DataFrame({"w": [5]}), description="fs3").save()
    c2 = ln.Collection([a1, a2, a3], revises=c1).save()  # same union of features
    assert c2.id != c1.id
    assert c2.features.feature_set_by_slot["columns"].id == union.id
    assert ln.FeatureSet.filter(registry="Feature").count() == 3  # 2 + the union
    fresh = ln.Collection.get(c2.uid)
    assert sorted(fresh.features["columns"].list("name")) == ["x", "y", "z"]


def test_collection_feature_sets_single_and_meta(inst_local: Inst) -> None:
    x = ln.Feature(name="x", dtype="int").save()
    a1 = _annotated(pd.DataFrame({"x": [1]}), "one", [x])
    (plain,) = _arts(1, "plain")
    c = ln.Collection([a1, plain], name="single set").save()
    assert c.features.feature_set_by_slot["columns"].id == (
        a1.features.feature_set_by_slot["columns"].id
    )
    (other,) = _arts(1, "other")
    meta = _annotated(pd.DataFrame({"x": [9]}), "meta", [x])
    with_meta = ln.Collection([other], name="with meta", meta=meta).save()
    assert with_meta.features["columns"].list("name") == ["x"]


def test_collection_no_run_warning(inst_local: Inst, caplog) -> None:
    from lamin_sa.artifact.create import NO_RUN_WARNING

    (a,) = _arts(1, "w")
    caplog.clear()
    with caplog.at_level("WARNING", logger="lamin_sa"):
        ln.Collection([a], name="no run")
    assert [r.getMessage() for r in caplog.records].count(NO_RUN_WARNING) == 1
    ln.settings.silence_file_run_transform_warning = True
    try:
        caplog.clear()
        with caplog.at_level("WARNING", logger="lamin_sa"):
            ln.Collection([a], name="silenced", description="d")
        assert NO_RUN_WARNING not in [r.getMessage() for r in caplog.records]
    finally:
        ln.settings.silence_file_run_transform_warning = False
