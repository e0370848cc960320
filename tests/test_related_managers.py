"""remove() and clear() of related managers keep their meaning once SQLAlchemy
has instrumented the collection class (it wraps list-like methods)."""

from __future__ import annotations

import inspect

from sqlalchemy.orm import configure_mappers

import lamin_sa as ln
from lamin_sa.models.record import RelatedRecords


def test_remove_several_and_clear_after_mapper_configuration(ctx) -> None:
    configure_mappers()
    assert "*records" in str(inspect.signature(RelatedRecords.remove))
    assert "Unlink" in (inspect.getdoc(RelatedRecords.clear) or "")
    a, b, c = (ln.ULabel(name=n).save() for n in ("a", "b", "c"))
    c.parents.add(a, b)
    assert sorted(c.parents.list("name")) == ["a", "b"]
    c.parents.remove(a, b)
    assert c.parents.list("name") == [] and len(c.parents) == 0
    c.parents.add(a, b)
    c.parents.clear()
    assert c.parents.count() == 0 and len(c.parents) == 0


def test_a_single_add_stores_the_links_provenance_and_fields(ctx, tmp_path) -> None:
    # one add() runs a compiled insert with the link's defaults filled in by
    # lamin-sa: user, run, timestamp and passed link fields must all be stored
    import pandas as pd
    from sqlalchemy import select

    from lamin_sa.models.core import ArtifactULabel

    ctx.storage_root = str(tmp_path / "store")
    t = ln.Transform(name="linker", type="script").save()
    run = ln.Run(t).save()
    ctx.run, ctx.run_id = run, run.id
    try:
        artifact = ln.Artifact.from_df(pd.DataFrame({"a": [1]}), description="x")
        artifact = artifact.save()
        first, second = ln.ULabel(name="first").save(), ln.ULabel(name="second").save()
        feature = ln.Feature(name="stage", dtype="cat[ULabel]").save()
        artifact.ulabels.add(first)
        artifact.ulabels.add(first)  # stored already: no second row, no error
        artifact.ulabels.add(second, feature_id=feature.id)
    finally:
        ctx.run, ctx.run_id = None, None
    rows = ctx.session.execute(
        select(
            ArtifactULabel.ulabel_id,
            ArtifactULabel.feature_id,
            ArtifactULabel.run_id,
            ArtifactULabel.created_by_id,
            ArtifactULabel.created_at,
        )
        .where(ArtifactULabel.artifact_id == artifact.id)
        .order_by(ArtifactULabel.ulabel_id)
    ).all()
    ctx.session.rollback()
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        (first.id, None, run.id, ctx.user_id),
        (second.id, feature.id, run.id, ctx.user_id),
    ]
    assert all(r[4] is not None for r in rows)
    assert artifact.ulabels.list("name") == ["first", "second"]


def test_unknown_link_fields_are_refused_and_nothing_is_linked(ctx, tmp_path) -> None:
    import pandas as pd
    import pytest

    from lamin_sa.errors import FieldError

    ctx.storage_root = str(tmp_path / "store")
    artifact = ln.Artifact.from_df(pd.DataFrame({"a": [1]}), description="x").save()
    a, b = ln.ULabel(name="a").save(), ln.ULabel(name="b").save()
    with pytest.raises(FieldError, match="no field 'fature_id'.*feature_id"):
        artifact.ulabels.add(a, fature_id=1)
    with pytest.raises(FieldError, match="no field 'fature_id'"):
        artifact.ulabels.add(a, b, fature_id=1)
    with pytest.raises(FieldError, match="'artifact_id'"):
        artifact.ulabels.add(a, artifact_id=artifact.id)  # the link's own key
    assert artifact.ulabels.count() == 0
    t = ln.Transform(name="t", type="script").save()
    run = ln.Run(t).save()
    with pytest.raises(FieldError, match="stores no link rows"):
        t.runs.add(run, feature_id=1)
    artifact.ulabels.add(a, b)
    assert sorted(artifact.ulabels.list("name")) == ["a", "b"]
