"""artifact.labels / collection.labels: add, get, add_from (reference §5)."""

from __future__ import annotations

import contextlib

import pandas as pd
import pytest
from sqlalchemy import event, select

import lamin_sa as ln
from lamin_sa.curate.managers import widen_dtype
from lamin_sa.errors import NotSavedError, ValidationError
from tests import test_artifact_fixtures as fx
from tests.test_artifact_fixtures import Inst

inst_local = fx.inst_local


def _artifact(tag: str = "a") -> ln.Artifact:
    df = pd.DataFrame({"x": [1, 2], "tag": [tag, tag]})
    return ln.Artifact.from_df(df, description=f"artifact {tag}").save()


def _link_rows(artifact: ln.Artifact) -> list[tuple[str, str | None]]:
    from lamin_sa.artifact._state import read

    rows = read(
        lambda s: s.execute(
            select(ln.ULabel.name, ln.Feature.name)
            .join(ln.models.core.ArtifactULabel.ulabel)
            .outerjoin(ln.models.core.ArtifactULabel.feature)
            .where(ln.models.core.ArtifactULabel.artifact_id == artifact.id)
            .order_by(ln.ULabel.name)
        ).all()
    )
    return [tuple(r) for r in rows]


@contextlib.contextmanager
def count_queries():
    from lamin_sa.db.session import current

    engine = current().session.get_bind()
    seen: list[str] = []

    def before(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


def test_add_errors(inst_local: Inst) -> None:
    label = ln.ULabel(name="Experiment 1").save()
    unsaved_artifact = ln.Artifact.from_df(
        pd.DataFrame({"a": [1]}), description="unsaved"
    )
    with pytest.raises(NotSavedError, match="Please save the artifact"):
        unsaved_artifact.labels.add(label)
    artifact = _artifact()
    with pytest.raises(ValidationError, match="not validated. If it looks correct"):
        artifact.labels.add(ln.ULabel(name="not saved"))
    with pytest.raises(TypeError, match="feature has to be of type Feature"):
        artifact.labels.add(label, feature="experiment")
    unsaved_feature = ln.Feature(name="experiment", dtype="cat")
    with pytest.raises(ValidationError, match="Feature not validated"):
        artifact.labels.add(label, feature=unsaved_feature)
    with pytest.raises(TypeError, match="are not labels of artifacts"):
        artifact.labels.add(ln.Feature(name="f", dtype="int").save())
    # strings need a feature with a cat[...] dtype
    with pytest.raises(ValueError, match="Please pass a feature"):
        artifact.labels.add("Experiment 1")
    plain_cat = ln.Feature(name="experiment", dtype="cat").save()
    with pytest.raises(ValueError, match="Please pass a record"):
        artifact.labels.add(["Experiment 1"], feature=plain_cat)
    number = ln.Feature(name="temperature", dtype="number").save()
    with pytest.raises(ValidationError, match="needs? a categorical feature"):
        artifact.labels.add(label, feature=number)
    assert _link_rows(artifact) == []


def test_add_get_and_external_feature_set(inst_local: Inst) -> None:
    artifact = _artifact()
    labels = [ln.ULabel(name=f"label{i}") for i in range(3)]
    ln.save(labels)
    feat1 = ln.Feature(name="feat1", dtype="cat").save()
    # without a feature: no feature set, no feature on the link
    artifact.labels.add(labels[0])
    artifact.labels.add(labels[0])  # twice → still one link
    assert _link_rows(artifact) == [("label0", None)]
    assert artifact.features.feature_set_by_slot == {}
    # under a feature: link gets feature_id, dtype widened, external set made
    artifact.labels.add(labels, feature=feat1)
    assert feat1.dtype == "cat[ULabel]"
    assert ln.Feature.get(name="feat1").dtype == "cat[ULabel]"
    assert _link_rows(artifact) == [
        ("label0", "feat1"),
        ("label1", "feat1"),
        ("label2", "feat1"),
    ]
    assert artifact.features["external"].list("name") == ["feat1"]
    assert artifact.labels.get(feat1).list("name") == ["label0", "label1", "label2"]
    assert artifact.labels.get(feat1, flat_names=True) == [
        "label0",
        "label1",
        "label2",
    ]
    assert ln.ULabel.filter(artifact_links__feature__name="feat1").count() == 3
    first_set = artifact.features.feature_set_by_slot["external"]
    # a label moved to another feature: the link's feature is replaced and the
    # external set grows into a new set; the orphaned old set is deleted
    feat2 = ln.Feature(name="feat2", dtype="cat[ULabel]").save()
    artifact.labels.add(labels[2], feature=feat2)
    assert _link_rows(artifact)[2] == ("label2", "feat2")
    assert artifact.labels.get(feat1).list("name") == ["label0", "label1"]
    assert artifact.labels.get(feat2).list("name") == ["label2"]
    external = artifact.features.feature_set_by_slot["external"]
    assert external.id != first_set.id
    assert sorted(artifact.features["external"].list("name")) == ["feat1", "feat2"]
    assert ln.FeatureSet.filter(id=first_set.id).count() == 0
    # get: type and dtype checks
    with pytest.raises(TypeError):
        artifact.labels.get("feat1")
    with pytest.raises(ValueError, match="links no labels"):
        artifact.labels.get(ln.Feature(name="n", dtype="int").save())
    # strings resolve through the feature's registries
    ln.ULabel(name="label3").save()
    artifact.labels.add(["label3"], feature=feat2)
    assert artifact.labels.get(feat2).list("name") == ["label2", "label3"]
    with pytest.raises(ValidationError, match="'nope'"):
        artifact.labels.add(["nope"], feature=feat2)
    text = artifact.describe(return_str=True)
    assert "📎 ulabels (4, ULabel): 'label0', 'label1', 'label2', 'label3'" in text
    assert "external: FeatureSet(" in text
    assert "🔗 feat1 (2, cat[ULabel]): 'label0', 'label1'" in text
    assert "🔗 feat2 (2, cat[ULabel]): 'label2', 'label3'" in text
    assert "Labels:" in repr(artifact.labels)


def test_feature_already_in_linked_set_keeps_sets(inst_local: Inst) -> None:
    artifact = _artifact()
    feat = ln.Feature(name="perturbation", dtype="cat").save()
    other = ln.Feature(name="x", dtype="int").save()
    fs = ln.FeatureSet([other, feat]).save()
    artifact.features.add_feature_set(fs, "columns")
    artifact.labels.add(ln.ULabel(name="DMSO").save(), feature=feat)
    assert list(artifact.features.feature_set_by_slot) == ["columns"]


def test_widen_dtype() -> None:
    assert widen_dtype("cat", ["ULabel"]) == "cat[ULabel]"
    assert widen_dtype("cat[ULabel]", ["ULabel"]) == "cat[ULabel]"
    assert (
        widen_dtype("cat[ULabel]", ["bionty.CellType"]) == "cat[ULabel|bionty.CellType]"
    )


def test_add_is_bulk(inst_local: Inst) -> None:
    artifact = _artifact()
    feat = ln.Feature(name="bulk", dtype="cat[ULabel]").save()
    few = [ln.ULabel(name=f"few{i}") for i in range(2)]
    many = [ln.ULabel(name=f"many{i}") for i in range(60)]
    ln.save(few + many)
    artifact.labels.add(ln.ULabel(name="warmup").save(), feature=feat)
    other = _artifact("b")
    other.labels.add(ln.ULabel.get(name="warmup"), feature=feat)
    with count_queries() as q_few:
        artifact.labels.add(few, feature=feat)
    with count_queries() as q_many:
        other.labels.add(many, feature=feat)
    assert len(q_many) == len(q_few)
    assert artifact.labels.get(feat).count() == 3
    assert other.labels.get(feat).count() == 61


def test_add_from_and_collection_transfer(inst_local: Inst) -> None:
    a1, a2 = _artifact("a"), _artifact("b")
    perturbation = ln.Feature(name="perturbation", dtype="cat").save()
    dmso, ifng, study = (
        ln.ULabel(name="DMSO").save(),
        ln.ULabel(name="IFNG").save(),
        ln.ULabel(name="study").save(),
    )
    a1.labels.add([dmso, ifng], feature=perturbation)
    a1.labels.add(study)
    a2.labels.add(dmso, feature=perturbation)
    # artifact → artifact
    a3 = _artifact("c")
    a3.labels.add_from(a1)
    assert _link_rows(a3) == _link_rows(a1)
    # artifact → collection
    c1 = ln.Collection([a1], name="c1").save()
    c1.labels.add_from(a1)
    assert c1.labels.get(perturbation).list("name") == ["DMSO", "IFNG"]
    assert sorted(c1.ulabels.list("name")) == ["DMSO", "IFNG", "study"]
    assert c1.features["external"].list("name") == ["perturbation"]
    # collection.save(transfer_labels=True)
    c2 = ln.Collection([a1, a2], name="c2")
    c2.save(transfer_labels=True)
    assert c2.labels.get(perturbation).list("name") == ["DMSO", "IFNG"]
    assert sorted(c2.ulabels.list("name")) == ["DMSO", "IFNG", "study"]
    text = c2.describe(return_str=True)
    assert "🔗 perturbation (1, cat[ULabel]): 'DMSO', 'IFNG'" in text
    assert "📎 ulabels (3, ULabel)" in text
    # without transfer: no labels
    c3 = ln.Collection([a2, a3], name="c3").save()
    assert c3.ulabels.count() == 0
    with pytest.raises(NotSavedError):
        ln.Collection([a3], name="unsaved").labels.add(dmso)
    assert ln.ULabel.filter(collection_links__feature=perturbation).count() == 2
