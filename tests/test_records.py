"""Record construction, saving, dedup at save time, repr and describe."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import event, func, select

import lamin_sa as ln
import lamin_sa.models as m
from lamin_sa.errors import FieldError, IntegrityError


def test_constructor_errors(ctx):
    with pytest.raises(ValueError, match="keyword arguments"):
        m.ULabel("a")
    with pytest.raises(FieldError, match="valid keyword arguments are: .*name"):
        m.ULabel(x=1)
    with pytest.raises(TypeError, match=r"\['name'\] are required"):
        m.ULabel()
    with pytest.raises(TypeError, match=r"\['name'\] are required"):
        m.ULabel(description="no name")
    with pytest.raises(ValueError, match="keyword arguments"):
        m.User("arg")
    with pytest.raises(TypeError, match="Pass transform parameter"):
        m.Run()
    with pytest.raises(ValueError, match="save transform record"):
        m.Run(transform=m.Transform(name="unsaved"))


def test_constructor_does_not_query(ctx):
    statements = []
    engine = ctx.engine
    listener = lambda *a: statements.append(a[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        labels = [m.ULabel(name=f"x{i}") for i in range(50)]
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert statements == []
    assert len({lab.uid for lab in labels}) == 50
    assert all(len(lab.uid) == 8 for lab in labels)


def test_uid_lengths(ctx):
    t = m.Transform(name="t").save()
    r = m.Run(transform=t).save()
    s = m.Storage(root="/tmp/x").save()
    assert (len(t.uid), len(r.uid), len(s.uid)) == (16, 20, 12)
    assert len(m.Feature(name="f", dtype="int").uid) == 12
    assert len(m.FeatureSet(n=0, registry="Feature").uid) == 20
    assert len(m.Collection(name="c").uid) == 20


def test_save_returns_self_and_provenance(ctx):
    label = m.ULabel(name="a")
    assert label.save() is label
    assert label.id is not None
    assert label.created_by_id == ctx.user_id
    assert label.created_by.handle == "testuser1"
    assert label.created_at.tzinfo is not None
    assert label.run_id is None


def test_existing_name_resolves_at_save(ctx, caplog):
    first = m.ULabel(name="same", description="one").save()
    again = m.ULabel(name="same", description="two")
    with caplog.at_level(logging.WARNING, logger="lamin_sa"):
        again.save()
    assert again.id == first.id
    assert again.uid == first.uid
    assert again.description == "one"
    assert "existing ULabel record with same name" in caplog.text
    assert ctx.session.scalar(select(func.count()).select_from(m.ULabel)) == 1


def test_bulk_save_resolves_in_bulk(ctx, caplog):
    ln.save([m.ULabel(name=f"l{i}") for i in range(100)])
    statements: list[str] = []
    engine = ctx.engine
    listener = lambda *a: statements.append(a[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        batch = [m.ULabel(name=f"l{i}") for i in range(50, 250)]
        ln.save(batch)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) <= 3
    assert ctx.session.scalar(select(func.count()).select_from(m.ULabel)) == 250
    stored = {lab.name: lab.id for lab in m.ULabel.filter()}
    assert all(lab.id == stored[lab.name] for lab in batch)


def test_bulk_save_updates_and_is_idempotent(ctx):
    labels = [m.ULabel(name=f"u{i}") for i in range(30)]
    ln.save(labels)
    labels[3].description = "changed"
    ln.save(labels)
    ctx.session.expire_all()
    assert m.ULabel.get(name="u3").description == "changed"
    assert m.ULabel.filter().count() == 30


def test_bulk_save_over_several_statements_keeps_ids_in_order(ctx):
    # more rows than one multi-row INSERT takes; ids follow the list order
    labels = [m.ULabel(name=f"many {i}") for i in range(2_345)]
    ln.save(labels)
    stored = dict(ctx.session.execute(select(m.ULabel.name, m.ULabel.id)).all())
    assert len(stored) == 2_345
    assert [lab.id for lab in labels] == [stored[lab.name] for lab in labels]
    assert [lab.id for lab in labels] == sorted(lab.id for lab in labels)
    assert len({lab.created_at for lab in labels}) == 1  # one batch timestamp
    assert all(lab.created_by_id == ctx.user_id for lab in labels)
    # persistent in the session: loading one gives the same object back
    assert m.ULabel.get(name="many 7") is labels[7]
    parent = m.ULabel(name="parent").save()
    labels[0].parents.add(parent)
    assert parent.children.list("name") == ["many 0"]


def test_failed_bulk_save_leaves_the_new_records_unsaved(ctx):
    batch = [m.ULabel(name=f"new {i}") for i in range(30)]
    # flushed after the bulk INSERT of the labels; its user does not exist
    bad = m.Transform(name="bad", created_by_id=999_999)
    with pytest.raises(IntegrityError, match="Nothing was saved"):
        ln.save([*batch, bad])
    assert m.ULabel.filter().count() == 0
    assert not any(lab.is_saved for lab in batch)
    ln.save(batch)
    assert m.ULabel.filter().count() == 30
    assert m.ULabel.get(name="new 29").id == batch[29].id


def test_save_single_record_via_ln_save_refused(ctx):
    with pytest.raises(ValueError, match="record.save"):
        ln.save(m.ULabel(name="x"))


def test_duplicate_names_in_one_batch(ctx):
    with pytest.raises(IntegrityError, match="share name"):
        ln.save([m.ULabel(name="d"), m.ULabel(name="d")])
    assert m.ULabel.filter().count() == 0


def test_delete_protected(ctx):
    label = m.ULabel(name="keep").save()
    t = m.Transform(name="uses label").save()
    t.ulabels.add(label)
    with pytest.raises(IntegrityError, match="still referenced"):
        label.delete()
    assert m.ULabel.filter(name="keep").count() == 1
    t.delete()  # cascades its link rows
    label.delete()
    assert m.ULabel.filter(name="keep").count() == 0


def test_repr(ctx):
    label = m.ULabel(name="rep", uid="abcdefgh", description="d").save()
    text = repr(label)
    assert text.startswith("ULabel(uid='abcdefgh', name='rep', description='d'")
    assert "updated_at=" in text and " UTC" in text
    assert text.endswith(f"created_by_id={ctx.user_id})")
    assert "id=" not in text.replace("_id=", "").replace("uid=", "")


def test_describe(ctx, capsys):
    t = m.Transform(name="script", type="script").save()
    r = m.Run(transform=t).save()
    text = r.describe(return_str=True)
    assert text.startswith("Run(")
    assert "Provenance:" in text
    assert "transform: Transform(" in text and "created_by: User(" in text
    # shown, not returned: a script prints it, as pandas' info() does
    capsys.readouterr()
    assert r.describe() is None
    assert capsys.readouterr().out == text + "\n"


def test_related_managers(ctx):
    parent = m.ULabel(name="is_perturbation").save()
    kids = [m.ULabel(name="DMSO"), m.ULabel(name="IFNG")]
    ln.save(kids)
    for kid in kids:
        kid.parents.add(parent)
    assert sorted(parent.children.list("name")) == ["DMSO", "IFNG"]
    assert parent.children.count() == 2
    assert list(kids[0].parents) == [parent]
    kids[0].parents.remove(parent)
    assert parent.children.list("name") == ["IFNG"]
    assert parent.children.filter(name__startswith="I").count() == 1
    df = parent.children.df()
    assert list(df["name"]) == ["IFNG"]
    with pytest.raises(TypeError, match="holds ULabel records"):
        parent.children.add(m.Transform(name="t").save())
    with pytest.raises(ValueError, match="Save the ULabel first"):
        parent.children.add(m.ULabel(name="unsaved"))


def test_collection_artifacts_ordered(ctx):
    s = m.Storage(root="/tmp/c").save()
    arts = [m.Artifact(storage=s, description=f"a{i}", suffix="") for i in range(4)]
    ln.save(arts)
    c = m.Collection(name="c").save()
    for a in reversed(arts):
        c.artifacts.add(a)
    assert c.artifacts.list("description") == ["a3", "a2", "a1", "a0"]
    assert list(c.artifacts.df()["description"]) == ["a3", "a2", "a1", "a0"]
    assert [a.description for a in c.artifacts] == ["a3", "a2", "a1", "a0"]


def test_transform_with_stored_name_and_version_is_reused(ctx):
    first = m.Transform(name="x", version="1", key="x.py").save()
    again = m.Transform(name="x", version="1", key="x.py").save()
    other = m.Transform(name="x", version="2", key="x.py").save()
    assert again.id == first.id and other.id != first.id
    assert m.Transform.filter(name="x").count() == 2


def test_df_nullable_integers(ctx):
    # integer columns with NULLs stay integers (<NA>), as collection.artifacts.df()
    # shows n_observations: never 3.0 / NaN
    t = m.Transform(name="nullable", type="pipeline").save()
    run = m.Run(transform=t).save()
    m.ULabel(name="with run", run=run).save()
    m.ULabel(name="without run").save()
    df = m.ULabel.filter().df()
    assert str(df["run_id"].dtype) == "Int64"
    assert df.set_index("name")["run_id"].to_dict()["with run"] == run.id
    assert df.set_index("name")["run_id"].isna().to_dict()["without run"]


def test_view_shows_a_table_per_registry(ctx, capsys):
    ln.save([m.ULabel(name=f"label {i}") for i in range(9)])
    capsys.readouterr()
    assert ln.view(n=3) is None
    out = capsys.readouterr().out
    assert "ULabel (9 records, latest 3)" in out
    assert "label 8" in out and "label 5" not in out  # newest first, 3 rows
    assert "Artifact (" not in out  # empty registries are left out
    frames = ln.view(n=3, return_dict=True)
    assert len(frames["ULabel"]) == 3 and frames["Artifact"].empty


def test_a_change_that_fails_at_the_next_write_leaves_the_session_usable(ctx):
    """Pending changes flushed when a write begins: a failure rolls them back."""
    a = ln.ULabel(name="a").save()
    b = ln.ULabel(name="b").save()
    a.uid = b.uid  # violates the unique uid once flushed
    with pytest.raises(Exception, match="(?i)unique|duplicate"):
        ln.ULabel(name="c").save()
    # the session was rolled back: nothing of the failed write, and it still works
    assert ln.ULabel.filter(name="c").count() == 0
    assert sorted(ln.ULabel.filter().list("name")) == ["a", "b"]
    assert ln.ULabel(name="d").save().is_saved


def _stored_names(ctx) -> list[tuple[str, str | None]]:
    """The ULabel rows as another connection sees them (committed data only)."""
    with ctx.engine.connect() as conn:
        rows = conn.execute(
            select(m.core.ULabel.name, m.core.ULabel.description).order_by(
                m.core.ULabel.id
            )
        )
        return [tuple(r) for r in rows]


def test_reads_never_write_unsaved_changes(ctx):
    """Like Django, a changed record is stored by save() only, not by a query."""
    a = ln.ULabel(name="a").save()
    a.name, a.description = "changed", "unsaved"
    assert ln.ULabel.filter(name="zzz").count() == 0
    assert ln.ULabel.filter().one().name == "changed"  # the same object
    assert ln.ULabel.filter(name__startswith="a").list("name") == ["a"]
    assert _stored_names(ctx) == [("a", None)]
    a.save()
    assert _stored_names(ctx) == [("changed", "unsaved")]
