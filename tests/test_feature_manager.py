"""artifact.features: feature sets per slot, feature values (reference §5)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import lamin_sa as ln
from lamin_sa.errors import NotSavedError, ValidationError
from tests import test_artifact_fixtures as fx
from tests.test_artifact_fixtures import Inst

inst_local = fx.inst_local


def _artifact(tag: str = "a") -> ln.Artifact:
    df = pd.DataFrame({"x": [1, 2], "tag": [tag, tag]})
    return ln.Artifact.from_df(df, description=f"artifact {tag}").save()


def test_feature_sets_by_slot(inst_local: Inst) -> None:
    artifact = _artifact()
    assert repr(artifact.features) == "no linked features"
    with pytest.raises(ValueError, match="No linked feature set for slot: 'columns'"):
        artifact.features["columns"]
    x = ln.Feature(name="x", dtype="int").save()
    tag = ln.Feature(name="tag", dtype="cat").save()
    fs = ln.FeatureSet([x, tag])
    unsaved = ln.Artifact.from_df(pd.DataFrame({"u": [0]}), description="unsaved")
    with pytest.raises(NotSavedError, match="before adding a feature set"):
        unsaved.features.add_feature_set(fs, "columns")
    artifact.features.add_feature_set(fs, "columns")  # saves the set
    assert fs.id is not None
    artifact.features.add_feature_set(fs, "columns")  # idempotent
    assert artifact.features["columns"].list("name") == ["x", "tag"]
    assert list(artifact.features.feature_set_by_slot) == ["columns"]
    assert artifact.features.slots() == ["columns"]
    assert ln.Artifact.filter(feature_sets__features__name="tag").one() == artifact
    # a slot holds one set: linking another one under it replaces the link
    only_x = ln.FeatureSet([x]).save()
    artifact.features.add_feature_set(only_x, "columns")
    assert artifact.features["columns"].list("name") == ["x"]
    assert ln.FeatureSet.filter(id=fs.id).count() == 1  # unlinked, not deleted
    text = repr(artifact.features)
    assert text.startswith("Features:\n  columns: FeatureSet(uid=")
    assert "    x (int)" in text


def test_add_values_errors(inst_local: Inst) -> None:
    artifact = _artifact()
    with pytest.raises(ValidationError, match="could not be validated: 'experiment'"):
        artifact.features.add_values({"experiment": "Experiment 1"})
    ln.Feature(name="experiment", dtype="cat").save()
    with pytest.raises(
        ValidationError, match="Label 'Experiment 1' not found in ln.ULabel"
    ):
        artifact.features.add_values({"experiment": "Experiment 1"})
    with pytest.raises(
        TypeError,
        match="Value for feature 'experiment' with type 'cat' must be a string or "
        "record.",
    ):
        artifact.features.add_values({"experiment": 1})
    ln.Feature(name="temperature", dtype="number").save()
    with pytest.raises(TypeError, match="'temperature' with type 'number'"):
        artifact.features.add_values({"temperature": "hot"})
    with pytest.raises(TypeError, match="'temperature' with type 'number'"):
        artifact.features.add_values({"temperature": True})
    ln.Feature(name="n_cells", dtype="int").save()
    with pytest.raises(TypeError, match="'n_cells' with type 'int'"):
        artifact.features.add_values({"n_cells": 2.5})
    with pytest.raises(ValidationError, match="not validated"):
        artifact.features.add_values({"experiment": ln.ULabel(name="unsaved")})
    # nothing was stored by the failed calls
    assert artifact.features.get_values() == {}
    assert artifact.features.feature_set_by_slot == {}
    with pytest.raises(NotSavedError):
        ln.Artifact.from_df(
            pd.DataFrame({"u": [0]}), description="unsaved"
        ).features.add_values({"temperature": 1})


def test_add_values_and_get_values(inst_local: Inst) -> None:
    artifact = _artifact()
    ln.Feature(name="experiment", dtype="cat").save()
    ln.Feature(name="temperature", dtype="number").save()
    ln.Feature(name="n_cells", dtype="int").save()
    ln.Feature(name="donors", dtype="cat[ULabel]").save()
    ln.save([ln.ULabel(name=n) for n in ("Experiment 1", "D1", "D2")])
    artifact.features.add_values(
        {
            "experiment": "Experiment 1",
            "temperature": 27.2,
            "n_cells": np.int64(3),
            "donors": ["D1", ln.ULabel.get(name="D2")],
        }
    )
    assert artifact.features.get_values() == {
        "temperature": 27.2,
        "n_cells": 3,
        "experiment": "Experiment 1",
        "donors": ["D1", "D2"],
    }
    fv = ln.FeatureValue.filter(feature__name="temperature").one()
    assert fv.value == 27.2
    assert ln.Artifact.filter(feature_values__value__isnull=False).count() == 1
    # re-adding the same values stores nothing new; the alias add() works
    artifact.features.add({"temperature": 27.2, "experiment": "Experiment 1"})
    assert ln.FeatureValue.filter(feature__name="temperature").count() == 1
    assert ln.Feature.get(name="experiment").dtype == "cat[ULabel]"
    assert sorted(artifact.features["external"].list("name")) == [
        "donors",
        "experiment",
        "n_cells",
        "temperature",
    ]
    assert ln.FeatureSet.filter().count() == 1  # intermediate sets were deleted
    text = artifact.describe(return_str=True)
    assert "external: FeatureSet(" in text
    assert "🔗 experiment (4, cat[ULabel]): 'Experiment 1'" in text
    assert "🔗 donors (4, cat[ULabel]): 'D1', 'D2'" in text
    assert "    temperature (number)" in text


def test_collection_feature_values(inst_local: Inst) -> None:
    collection = ln.Collection([_artifact()], name="c").save()
    ln.Feature(name="experiment", dtype="cat").save()
    ln.Feature(name="temperature", dtype="number").save()
    ln.ULabel(name="Experiment 1").save()
    with pytest.raises(TypeError, match="Collections take categorical"):
        collection.features.add_values({"temperature": 3.0})
    collection.features.add_values({"experiment": "Experiment 1"})
    assert collection.features.get_values() == {"experiment": "Experiment 1"}
    assert collection.features["external"].list("name") == ["experiment"]
