"""QuerySet behaviour: ordering, slicing, fetching, DataFrames, versions, get,
delete, rendering, and the related managers built on QuerySet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Select, func, select

import lamin_sa.models as m
from lamin_sa.errors import (
    FieldError,
    MultipleResultsFound,
    NoResultFound,
    ValidationError,
)
from lamin_sa.query import Q, QuerySet
from tests.test_query import VISIBLE, build_graph

A, UL, T, R = m.Artifact, m.ULabel, m.Transform, m.Run


@pytest.fixture
def g(ctx: Any) -> SimpleNamespace:
    return build_graph(ctx)


def keys(qs: Any) -> list[str]:
    return [a.key for a in qs]


# ---- ordering and slicing --------------------------------------------------------


def test_order_by(g: SimpleNamespace) -> None:
    sized = A.filter(size__isnull=False)
    assert keys(sized.order_by("size")) == ["a1", "a2", "a3"]
    assert keys(sized.order_by("-size")) == ["a3", "a2", "a1"]
    with_transform = A.filter(transform__isnull=False)
    assert keys(with_transform.order_by("transform__type", "-key")) == [
        "a13",
        "a1",
        "a3",
        "a2",
        "a4",
    ]
    # two to-one hops; order_by replaces the previous ordering
    qs = A.filter(run__isnull=False).order_by("key").order_by("-run__reference", "key")
    assert keys(qs) == ["a4", "a2", "a3", "a1"]
    assert "LEFT OUTER JOIN" in str(qs.statement)
    assert keys(sized.order_by(m.Artifact.size.desc())) == ["a3", "a2", "a1"]


def test_order_by_errors(g: SimpleNamespace) -> None:
    with pytest.raises(FieldError, match="to-many"):
        A.filter().order_by("ulabels__name")
    with pytest.raises(FieldError, match="to-many"):
        UL.filter().order_by("parents__name")
    with pytest.raises(FieldError, match="Did you mean 'size'"):
        A.filter().order_by("-sise")


def test_slicing(g: SimpleNamespace) -> None:
    qs = A.filter(size__isnull=False).order_by("size")
    assert qs[0].key == "a1"
    assert qs[2].key == "a3"
    window = qs[1:3]
    assert isinstance(window, QuerySet)
    assert keys(window) == ["a2", "a3"]
    assert keys(qs[1:][1:]) == ["a3"]
    assert keys(qs[:2][1:5]) == ["a2"]
    assert "LIMIT" in str(window.statement)
    assert window.count() == 2 and qs[3:].count() == 0
    assert qs[3:].exists() is False and qs[2:].exists() is True
    assert qs[1:].first().key == "a2"
    with pytest.raises(IndexError):
        qs[3]
    with pytest.raises(ValidationError):
        qs[-1]
    with pytest.raises(TypeError):
        qs[1:].filter(key="a1")
    with pytest.raises(TypeError):
        qs["a"]  # type: ignore[index]


def test_one_first_count_exists(g: SimpleNamespace) -> None:
    assert A.filter(key="a1").one().key == "a1"
    with pytest.raises(NoResultFound, match="Artifact"):
        A.filter(key="zz").one()
    with pytest.raises(LookupError):
        A.filter(key="zz").one()
    with pytest.raises(MultipleResultsFound):
        A.filter(size__gt=1).one()
    assert A.filter(key="zz").one_or_none() is None
    with pytest.raises(MultipleResultsFound):
        A.filter(size__gt=1).one_or_none()
    # by id without an ordering
    assert A.filter().first().id == min(a.id for a in A.filter())
    assert A.filter(size__isnull=False).order_by("-size").first().key == "a3"
    assert A.filter(key="zz").first() is None
    assert A.filter().count() == len(VISIBLE)
    assert A.filter(visibility=None).count() == 13
    assert A.filter(key="a1").exists() and not A.filter(key="zz").exists()
    assert UL.filter(parents__name="is_tissue").count() == 3


def test_iteration_len_bool_and_cache(g: SimpleNamespace) -> None:
    qs = UL.filter(parents__name="is_species")
    assert len(qs) == 3
    assert sorted(label.name for label in qs) == ["human", "mixed", "mouse"]
    assert bool(qs) and not bool(UL.filter(name="zz"))
    assert qs[0] in list(qs)


def test_list(g: SimpleNamespace) -> None:
    qs = A.filter(key__in=["a2", "a1"]).order_by("key")
    assert qs.list("key") == ["a1", "a2"]
    assert qs.list("transform__name") == ["intro notebook", "My Pipeline"]
    assert qs.list("transform") == [g.t_nb.id, g.t_pipe.id]
    assert [a.key for a in qs.list()] == ["a1", "a2"]
    assert sorted(g.t_child.parents.list("name")) == ["My Pipeline", "intro notebook"]
    with pytest.raises(FieldError, match="to-many"):
        qs.list("ulabels__name")


def test_immutability(g: SimpleNamespace) -> None:
    base = A.filter(size__isnull=False)
    narrowed = base.filter(size__gt=150)
    ordered = base.order_by("-size")
    excluded = base.exclude(key="a1")
    assert base.count() == 3 and narrowed.count() == 2 and excluded.count() == 2
    assert keys(ordered) == ["a3", "a2", "a1"]
    assert "ORDER BY" not in str(base.statement)
    assert base.statement is base.statement  # built once
    assert base.all() is not base and base.all().count() == 3


def test_statement_composes(ctx: Any, g: SimpleNamespace) -> None:
    qs = A.filter(ulabels__name="human").order_by("key")
    assert isinstance(qs.statement, Select)
    count = select(func.count()).select_from(qs.statement.subquery())
    assert ctx.session.execute(count).scalar_one() == 2
    ids = ctx.session.scalars(qs.statement.with_only_columns(m.Artifact.id)).all()
    assert ids == [g.a1.id, g.a3.id]


# ---- DataFrames ------------------------------------------------------------------


def test_df_columns_and_index(g: SimpleNamespace) -> None:
    df = A.filter().df()
    assert isinstance(df, pd.DataFrame)
    assert df.index.name == "id"
    assert len(df) == len(VISIBLE)
    for col in ("uid", "storage_id", "transform_id", "run_id", "created_by_id"):
        assert col in df.columns
    assert "id" not in df.columns and "storage" not in df.columns
    assert df.loc[g.a1.id, "transform_id"] == g.t_nb.id
    assert df.loc[g.a1.id, "description"] == "human liver data"
    assert str(df["created_at"].dtype) in ("datetime64[ns, UTC]", "datetime64[us, UTC]")
    assert df.loc[g.a1.id, "created_at"] == pd.Timestamp(g.a1.created_at)
    assert df["is_latest"].dtype == bool
    # Registry.df(): newest first
    runs = R.df()
    assert list(runs.index) == sorted(runs.index, reverse=True)
    labels = UL.df()
    assert set(labels["name"]) == {label.name for label in g.labels.values()}


def test_df_include(g: SimpleNamespace) -> None:
    df = UL.filter().df(include=["parents__name", "created_by__handle"])
    assert list(df.columns[:2]) == ["parents__name", "created_by__handle"]
    assert len(df) == 13  # rows without parents are kept
    by_name = df.set_index("name")
    assert by_name.loc["hepatocyte", "parents__name"] == ["liver"]
    assert sorted(by_name.loc["mixed", "parents__name"]) == ["is_species", "is_tissue"]
    assert by_name.loc["orphan", "parents__name"] == []
    assert set(df["created_by__handle"]) == {"testuser1"}
    art = A.filter(key__in=["a1", "a5", "a3"]).order_by("key")
    df = art.df(include=["ulabels__name", "transform__name", "ulabel_links__feature"])
    assert list(df.index) == [g.a1.id, g.a3.id, g.a5.id]  # the QuerySet's ordering
    assert [sorted(v) for v in df["ulabels__name"]] == [
        ["human", "liver"],
        ["brain", "human"],
        [],
    ]
    assert df["transform__name"].tolist() == ["intro notebook", "My Pipeline", None]
    assert sorted(df.loc[g.a3.id, "ulabel_links__feature"]) == sorted(
        [g.feat1.id, g.feat3.id]
    )
    # two to-many hops, a single include string, a sliced QuerySet
    two = UL.filter(name="hepatocyte").df(include="parents__parents__name")
    assert two["parents__parents__name"].tolist() == [["is_tissue"]]
    sliced = A.filter().order_by("key")[:2].df(include=["ulabels__name"])
    assert len(sliced) == 2
    assert sliced["ulabels__name"].map(len).tolist() == [2, 0]  # a1, a10


def test_df_include_one_query_per_to_many(ctx: Any, g: SimpleNamespace) -> None:
    from sqlalchemy import event

    statements: list[str] = []
    engine = ctx.engine

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        A.filter().df(include=["ulabels__name", "collections__name", "run__reference"])
    finally:
        event.remove(engine, "before_cursor_execute", count)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 3  # main + one per to-many include


def test_df_empty_and_limit(g: SimpleNamespace) -> None:
    df = A.filter(key="zz").df(include=["ulabels__name", "transform__name"])
    assert df.empty and list(df.columns[:2]) == ["ulabels__name", "transform__name"]
    assert df.index.name == "id"
    assert len(A.df(limit=3)) == 3


def test_df_ordered_by_related_path_reuses_the_join(g: SimpleNamespace) -> None:
    qs = A.filter(transform__isnull=False).order_by("transform__type", "key")
    df = qs.df(include=["transform__type"])
    assert df["transform__type"].tolist() == [
        "notebook",
        "notebook",
        "pipeline",
        "pipeline",
        "script",
    ]
    assert str(qs.statement).count("JOIN") == 1


def test_repr_and_html(g: SimpleNamespace) -> None:
    text = repr(UL.filter(parents__name="is_species").order_by("name"))
    assert text.startswith("QuerySet[ULabel] (3 records)")
    assert "human" in text and "mixed" in text and "uid" in text
    assert "1 record)" in repr(UL.filter(name="human"))
    html = UL.filter()._repr_html_()
    assert "<table" in html and "hepatocyte" in html


# ---- versions and get ------------------------------------------------------------


def _family(ctx: Any) -> SimpleNamespace:
    s = ctx.session
    now = datetime.now(UTC)
    f = SimpleNamespace()
    stem = "VerStem12345"
    f.v1 = T(name="ver", uid=stem + "0000", version="1", is_latest=False)
    f.v2 = T(name="ver", uid=stem + "0001", version="2", is_latest=True)
    f.v3 = T(name="ver", uid=stem + "0002", version="3", is_latest=False)
    f.v1.created_at = now - timedelta(hours=3)
    f.v2.created_at = now - timedelta(hours=2)
    f.v3.created_at = now - timedelta(hours=1)
    f.other = T(name="ver other", uid="OtherStem1230000")
    # a second family sharing the prefix "VerStem1" with the first
    f.w1 = T(name="wer", uid="VerStem1999Z0000", is_latest=False)
    f.w2 = T(name="wer", uid="VerStem1999Z0001")
    f.w1.created_at = now - timedelta(hours=5)
    f.w2.created_at = now - timedelta(hours=4)
    s.add_all([f.v1, f.v2, f.v3, f.other, f.w1, f.w2])
    s.commit()
    return f


def test_latest_version(ctx: Any) -> None:
    f = _family(ctx)
    latest = T.filter(name__startswith="ver").latest_version()
    assert isinstance(latest, QuerySet)
    assert {t.uid for t in latest} == {f.v3.uid, f.other.uid}  # newest created_at
    assert latest.count() == 2
    assert {t.uid for t in T.filter(name__in=["ver", "wer"]).latest_version()} == {
        f.v3.uid,
        f.w2.uid,
    }
    assert T.filter(name="ver").order_by("-version")[1:].latest_version().one() == f.v2
    with pytest.raises(FieldError, match="not a versioned"):
        UL.filter().latest_version()


def test_get(ctx: Any, g: SimpleNamespace) -> None:
    f = _family(ctx)
    assert UL.get(g.labels["human"].id).name == "human"
    assert UL.get(g.labels["human"].uid).name == "human"
    assert UL.get(g.labels["human"].uid[:5]).name == "human"
    assert UL.get(name="mouse") == g.labels["mouse"]
    assert UL.filter(parents__name="is_species").get(name="mixed").name == "mixed"
    # a stem, or a prefix, of several versions of one family
    assert T.get("VerStem12345") == f.v2  # is_latest
    assert T.get("VerStem123") == f.v2
    assert T.get("VerStem1999Z") == f.w2
    assert T.get(f.v3.uid) == f.v3  # a full uid is exact
    with pytest.raises(MultipleResultsFound):
        T.get("VerStem1")  # two families
    with pytest.raises(MultipleResultsFound):
        UL.get(name__startswith="is_")
    with pytest.raises(NoResultFound):
        UL.get(10**6)
    with pytest.raises(NoResultFound):
        UL.get("zzzz")
    with pytest.raises(ValidationError):
        UL.get()
    with pytest.raises(ValidationError):
        UL.get(True)  # type: ignore[arg-type]
    # id / uid find any visibility; other lookups only visible records
    assert A.get(g.a11.id) == g.a11
    assert A.get(g.a12.uid) == g.a12
    with pytest.raises(NoResultFound):
        A.get(key="a11")
    assert A.get(key="a11", visibility=None) == g.a11


def test_get_newest_when_no_version_is_flagged(ctx: Any) -> None:
    f = _family(ctx)
    T.filter(uid__startswith="VerStem12345")  # build only
    f.v2.is_latest = False
    ctx.session.commit()
    assert T.get("VerStem12345") == f.v3


# ---- delete ----------------------------------------------------------------------


def test_delete_bulk(g: SimpleNamespace) -> None:
    assert UL.filter(name__in=["orphan", "O'Reilly"]).count() == 2
    UL.filter(name__in=["orphan", "O'Reilly"]).delete()
    assert UL.filter(name__in=["orphan", "O'Reilly"]).count() == 0
    assert UL.filter().count() == 11


def test_delete_calls_overridden_delete(
    g: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def fake_delete(self: Any, **kwargs: Any) -> None:
        calls.append(self.key)

    monkeypatch.setattr(m.Artifact, "delete", fake_delete)
    A.filter(size__isnull=False).delete()
    assert sorted(calls) == ["a1", "a2", "a3"]
    assert A.filter(size__isnull=False).count() == 3


# ---- implicit visibility -------------------------------------------------------


def test_implicit_visibility(g: SimpleNamespace) -> None:
    assert QuerySet(A).count() == len(VISIBLE)
    assert QuerySet(A, implicit_visibility=False).count() == 13
    assert A.exclude(key="a1").count() == len(VISIBLE) - 1
    assert A.exclude(visibility=1).count() == 2
    assert A.filter(Q(uid=g.a11.uid)).count() == 1
    assert "WHERE (core_artifact.visibility = " in str(A.filter().statement)
    assert "WHERE" not in str(A.filter(visibility=None).statement)
    assert "WHERE" not in str(UL.filter().statement)


# ---- related managers (RelatedRecords + QuerySet) --------------------------------


def test_related_managers(ctx: Any, g: SimpleNamespace) -> None:
    human, mouse, orphan = g.labels["human"], g.labels["mouse"], g.labels["orphan"]
    assert human.parents.list("name") == ["is_species"]
    human.parents.add(orphan)
    assert sorted(human.parents.list("name")) == ["is_species", "orphan"]
    assert human.parents.count() == 2
    assert human.parents.filter(name="orphan").one() == orphan
    assert [x.name for x in human.parents.exclude(name="orphan")] == ["is_species"]
    assert set(human.parents.df()["name"]) == {"is_species", "orphan"}
    assert orphan.children.list("name") == ["human"]
    assert UL.filter(parents=orphan).one() == human
    human.parents.remove(orphan)
    assert human.parents.list("name") == ["is_species"]
    assert orphan.children.count() == 0
    mouse_artifacts = mouse.artifacts.all()
    assert isinstance(mouse_artifacts, QuerySet)
    assert [a.key for a in mouse_artifacts] == ["a2"]
    assert sorted(human.artifacts.list("key")) == ["a1", "a11", "a12", "a3"]
    # link order, not id order
    assert g.c1.artifacts.list("key") == ["a2", "a1"]
    df = g.c1.artifacts.df(include=["ulabels__name"])
    assert list(df["key"]) == ["a2", "a1"]
    assert sorted(df.loc[g.a2.id, "ulabels__name"]) == ["brain", "mouse"]
    assert g.c1.artifacts.first().key == "a2"
    assert g.c1.artifacts.count() == 2
    assert g.t_pipe.runs.list("reference") == ["r2"]
    assert g.r2.output_artifacts.filter(size__gt=250).list("key") == ["a3"]


def test_frame_columns_keep_their_dtypes() -> None:
    """Raw columns become typed arrays: NULL integers stay integers (Int64)."""
    import pandas as pd
    from sqlalchemy import BigInteger, Boolean, Integer, String

    from lamin_sa.query.frame import frame, nullable_ints

    ints = nullable_ints([3, None, 2**40, None])
    assert str(ints.dtype) == "Int64"
    assert ints.tolist() == [3, pd.NA, 2**40, pd.NA]
    assert nullable_ints([None, None]).isna().all()
    df = frame(
        {
            "id": [1, 2],
            "n": [None, 5],
            "none": [None, None],
            "flag": [1, 0],
            "name": ["a", None],
            "at": ["2024-01-02 03:04:05.000006", "2024-01-03 00:00:00"],
        },
        {
            "id": Integer(),
            "n": BigInteger(),
            "none": Integer(),
            "flag": Boolean(),
            "name": String(),
        },
        ("at",),
        index="id",
    )
    assert {k: str(v) for k, v in df.dtypes.items()} == {
        "n": "Int64",
        "none": "Int64",
        "flag": "bool",
        "name": "object",
        "at": "datetime64[ns, UTC]",
    }
    assert df.index.tolist() == [1, 2]
    assert df["n"].tolist() == [pd.NA, 5]
    assert df["flag"].tolist() == [True, False]
    assert df["name"].tolist() == ["a", None]


def test_unfiltered_df_builds_its_statements_once_and_reads_fresh_rows(
    g: SimpleNamespace,
) -> None:
    from lamin_sa.query import queryset

    before = UL.df(include=["parents__name", "created_by__handle"])
    plans = dict(queryset._FRAME_PLANS)
    assert any(key[0] is UL for key in plans)
    new = UL(name="newest")
    new.save()
    new.parents.add(UL.filter(name="liver").one())
    after = UL.df(include=["parents__name", "created_by__handle"])
    assert queryset._FRAME_PLANS == plans  # the same plan served the second call
    assert len(after) == len(before) + 1
    assert after.index[0] == new.id  # newest first
    assert after.loc[new.id, "parents__name"] == ["liver"]
    assert after.loc[new.id, "created_by__handle"] == "testuser1"
    # a filtered or sliced QuerySet builds its own statements each time
    assert list(UL.filter(name="newest").df().index) == [new.id]
    assert len(UL.df(limit=2)) == 2
    assert queryset._FRAME_PLANS == plans


def test_unfiltered_df_reads_every_link_only_when_nearly_all_rows_are_visible(
    ctx: Any, g: SimpleNamespace
) -> None:
    from sqlalchemy import event, text

    statements: list[str] = []

    def capture(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if "core_artifact_ulabel" in statement and "SELECT" in statement:
            statements.append(statement)

    g.a11.ulabels.add(g.labels["liver"])  # a trashed artifact's link
    expected = {
        a.id: sorted(ul.name for ul in a.ulabels.all())
        for a in A.filter()  # the visible ones
    }

    def lists() -> dict[int, list[str]]:
        statements.clear()
        event.listen(ctx.engine, "before_cursor_execute", capture)
        try:
            df = A.df(include=["ulabels__name"])
        finally:
            event.remove(ctx.engine, "before_cursor_execute", capture)
        return {i: sorted(v) for i, v in df["ulabels__name"].items()}

    # two of 13 hidden: more than a tenth, the links of the visible ones are read
    assert lists() == expected
    assert len(statements) == 1 and " IN (" in statements[0]
    # one of 13 hidden: every link is read, the hidden one's are never shown
    with ctx.engine.begin() as conn:
        conn.execute(
            text("UPDATE core_artifact SET visibility = 1 WHERE id = :i"),
            {"i": g.a12.id},
        )
    expected[g.a12.id] = sorted(ul.name for ul in g.a12.ulabels.all())
    assert lists() == expected
    assert g.a11.id not in expected
    assert len(statements) == 1 and " IN (" not in statements[0]


def test_gc_paused_gives_the_collector_back() -> None:
    import gc

    from lamin_sa.query.frame import gc_paused

    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("a failed read")
    assert gc.isenabled()
    gc.disable()  # someone else's pause is left as it was
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_df_of_equal_length_lists_keeps_one_list_per_row(g: SimpleNamespace) -> None:
    # numpy would turn lists of one length into a 2-d array
    df = UL.filter(name="hepatocyte").df(include=["parents__name"])
    assert df["parents__name"].tolist() == [["liver"]]
    assert df["parents__name"].dtype == object


def test_implicit_visibility_lets_sqlite_walk_the_ordering_index(
    ctx: Any, g: SimpleNamespace
) -> None:
    # the implicit visibility = 1 holds for nearly every row: SQLite is told so
    # (likely()) and walks the updated_at index of df()'s ordering instead of
    # reading through the visibility index and sorting; results are unchanged
    from sqlalchemy import event, text

    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.startswith("SELECT"):
            statements.append((statement, params))

    event.listen(ctx.engine, "before_cursor_execute", capture)
    try:
        df = A.df()
    finally:
        event.remove(ctx.engine, "before_cursor_execute", capture)
    assert set(df["key"]) == VISIBLE
    assert df["updated_at"].is_monotonic_decreasing
    assert sorted(a.key for a in A.filter(visibility=None)) == sorted(
        VISIBLE | {"a11", "a12"}
    )
    ((sql, params),) = statements
    if ctx.engine.dialect.name == "sqlite":
        assert "likely(core_artifact.visibility = ?)" in sql
        plan = " ".join(
            str(row[-1])
            for row in ctx.session.execute(
                text("EXPLAIN QUERY PLAN " + sql.replace("?", "1", 1))
            )
        )
        ctx.session.rollback()
        assert "TEMP B-TREE" not in plan and "ix_core_artifact_updated_at" in plan
    else:
        assert "(core_artifact.visibility = " in sql
