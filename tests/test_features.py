"""Feature dtype rules, Feature.from_df, FeatureSet identity and constructors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import lamin_sa.models as m
from lamin_sa.api import save
from lamin_sa.errors import ValidationError
from lamin_sa.storage.hashing import hash_set

# ---- Feature dtype ---------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["number", "int", "float", "bool", "str", "cat"])
def test_simple_dtypes(dtype):
    assert m.Feature(name="f", dtype=dtype).dtype == dtype


@pytest.mark.parametrize(
    ("given", "expected"),
    [(int, "int"), (float, "float"), (bool, "bool"), (str, "cat"), (object, "cat")],
)
def test_python_type_dtypes(given, expected):
    assert m.Feature(name="f", dtype=given).dtype == expected


def test_registry_dtypes():
    assert m.Feature(name="f", dtype=[m.ULabel]).dtype == "cat[ULabel]"
    assert m.Feature(name="f", dtype=m.ULabel).dtype == "cat[ULabel]"
    assert (
        m.Feature(name="f", dtype=[m.ULabel, m.Feature]).dtype == "cat[ULabel|Feature]"
    )
    dtype = "cat[ULabel|bionty.CellType]"
    assert m.Feature(name="f", dtype=dtype).dtype == dtype


@pytest.mark.parametrize(
    "bad",
    [
        "x",
        "cat[1]",
        "cat[]",
        "cat[ULabel|]",
        "cat[Nope]",
        "cat[nomodule.Thing]",
        "cat[bionty.celltype]",
        "integer",
        dict,
        [int],
        [],
        3,
    ],
)
def test_invalid_dtypes(bad):
    with pytest.raises(ValueError, match="dtype must be one of 'number'"):
        m.Feature(name="f", dtype=bad)


def test_feature_constructor_errors():
    with pytest.raises(ValueError, match="keyword arguments"):
        m.Feature("f", "int")
    with pytest.raises(ValueError, match="Please pass dtype"):
        m.Feature(name="f")
    with pytest.raises(ValueError, match="Please pass dtype"):
        m.Feature(name="f", dtype=None)
    with pytest.raises(TypeError, match="required"):
        m.Feature(dtype="int")


def test_feature_loaded_from_db_keeps_dtype(ctx):
    m.Feature(name="f", dtype="cat[ULabel]").save()
    ctx.session.expunge_all()
    assert m.Feature.get(name="f").dtype == "cat[ULabel]"


# ---- Feature.from_df -------------------------------------------------------------


def test_feature_from_df(ctx):
    df = pd.DataFrame(
        {
            "feat1": [1, 2, 3],
            "feat2": [3.1, 4.2, 5.3],
            "feat3": ["cond1", "cond2", "cond2"],
            "feat4": ["a", "b", "c"],
            "feat5": pd.Categorical(["x", "y", "z"]),
            "feat6": [True, False, True],
            "feat7": np.array([1, 2, 3], dtype="int32"),
            "feat8": np.array([1, 2, 3], dtype="float32"),
        }
    )
    existing = m.Feature(name="feat4", dtype="cat[ULabel]").save()
    features = m.Feature.from_df(df)
    dtypes = {f.name: f.dtype for f in features}
    assert dtypes == {
        "feat1": "int",
        "feat2": "float",
        "feat3": "cat",
        "feat4": "cat[ULabel]",
        "feat5": "cat",
        "feat6": "bool",
        "feat7": "int",
        "feat8": "float",
    }
    assert features[3] is existing
    assert not features[0].is_saved
    save([f for f in features if not f.is_saved])
    assert m.Feature.filter().count() == 8


# ---- FeatureSet ------------------------------------------------------------------


@pytest.fixture
def feats(ctx):
    out = [m.Feature(name=f"feat{i}", dtype="int") for i in range(3)]
    for f in out:
        f.save()
    return out


def test_feature_set_from_unsaved_features(ctx):
    with pytest.raises(ValueError, match="Can only construct feature sets from"):
        m.FeatureSet([m.Feature(name="u", dtype="int")])


def test_feature_set_errors(feats):
    label = m.ULabel(name="l").save()
    with pytest.raises(TypeError, match="feature_set can only contain a single type"):
        m.FeatureSet([feats[0], label])
    with pytest.raises(ValueError, match="Can't create feature sets from ULabel"):
        m.FeatureSet([label])
    with pytest.raises(ValueError, match="at least one"):
        m.FeatureSet([])
    with pytest.raises(ValueError, match="unexpected"):
        m.FeatureSet(feats, other=1)


def test_feature_set_create_and_dedup(feats):
    fs = m.FeatureSet(feats, name="my set")
    assert not fs.is_saved
    assert fs.registry == "Feature"
    assert fs.dtype is None
    assert fs.n == 3
    assert fs.name == "my set"
    assert fs.hash == hash_set(f.uid for f in feats)
    assert len(fs.uid) == 20 and fs.uid != fs.hash
    assert [f.name for f in fs.members] == ["feat0", "feat1", "feat2"]
    fs.save()
    assert fs.is_saved
    assert sorted(f.name for f in fs.members) == ["feat0", "feat1", "feat2"]
    assert sorted(f.name for f in fs.features.all()) == ["feat0", "feat1", "feat2"]
    assert fs.members.count() == 3
    # same members, other order, duplicates: the stored set
    again = m.FeatureSet([feats[2], feats[0], feats[1], feats[0]], dtype="float")
    assert again is fs or again.id == fs.id
    assert again.is_saved
    again.save()
    assert m.FeatureSet.filter().count() == 1
    other = m.FeatureSet(feats[:2]).save()
    assert other.id != fs.id
    assert other.members.count() == 2
    assert m.FeatureSet.filter().count() == 2
    # QuerySet input works too
    assert m.FeatureSet(m.Feature.filter(name__in=["feat0", "feat1"])).id == other.id


def test_feature_set_save_resolves_concurrent_duplicate(feats):
    first = m.FeatureSet(feats)
    second = m.FeatureSet(feats)
    assert first is not second
    first.save()
    second.save()
    assert second.id == first.id
    assert m.FeatureSet.filter().count() == 1
    assert second.members.count() == 3


def test_feature_set_bulk_save_stores_members(feats):
    first, second = m.FeatureSet(feats), m.FeatureSet(feats[1:])
    assert [f.name for f in first.features] == ["feat0", "feat1", "feat2"]
    save([first, second])
    assert sorted(f.name for f in first.members) == ["feat0", "feat1", "feat2"]
    assert sorted(f.name for f in second.members) == ["feat1", "feat2"]
    assert m.FeatureSet(feats[1:]).id == second.id
    assert sorted(fs.id for fs in feats[1].feature_sets.all()) == sorted(
        [first.id, second.id]
    )


def test_feature_set_plain_construction_still_works(ctx):
    fs = m.FeatureSet(n=0, registry="Feature", name="plain")
    assert fs.n == 0 and fs.registry == "Feature"
    fs.save()
    assert fs.members.count() == 0


def test_feature_set_from_values(feats):
    fs = m.FeatureSet.from_values(["feat0", "feat1"], name="fv")
    assert fs.n == 2 and fs.name == "fv"
    fs.save()
    assert m.FeatureSet.from_values(["feat1", "feat0"]).id == fs.id
    fs2 = m.FeatureSet.from_values(["feat0"], field=m.Feature.name)
    assert fs2.n == 1
    with pytest.raises(ValidationError, match="weird_name"):
        m.FeatureSet.from_values(["weird_name"])
    with pytest.raises(ValidationError, match="'weird_name'"):
        m.FeatureSet.from_values(["feat0", "weird_name"])
    partial = m.FeatureSet.from_values(
        ["feat0", "weird_name"], raise_validation_error=False
    )
    assert partial.n == 1
    assert (
        m.FeatureSet.from_values(["weird_name"], raise_validation_error=False) is None
    )
    none = m.FeatureSet.from_values(
        ["x"], field="name", mute=True, raise_validation_error=False
    )
    assert none is None


def test_feature_set_from_df(feats):
    df = pd.DataFrame({"feat0": [1], "feat2": [2], "unknown": ["a"]})
    fs = m.FeatureSet.from_df(df)
    assert fs.n == 2
    assert sorted(f.name for f in fs.members) == ["feat0", "feat2"]
    fs.save()
    assert m.FeatureSet.from_df(df[["feat2", "feat0"]]).id == fs.id
    assert m.FeatureSet.from_df(pd.DataFrame({"nothing": [1]})) is None


def test_feature_set_validate_and_lookup(feats):
    fs = m.FeatureSet(feats, name="named").save()
    assert m.FeatureSet.validate("named") is True
    assert m.FeatureSet.lookup().named.id == fs.id
