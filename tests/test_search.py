"""Ranked search: exact, synonym, prefix, whole word, substring, then fuzzy."""

from __future__ import annotations

import pytest

import lamin_sa.models as m
from lamin_sa.api import save
from lamin_sa.query.queryset import QuerySet


@pytest.fixture
def labels(ctx):
    names = [
        "T cell",
        "CD8-positive T cell",
        "T cell receptor",
        "regulatory T cell",
        "Tcellular",
        "B cell",
        "monocyte",
        "search3 first",
        "search3",
        "other",
    ]
    save([m.ULabel(name=n) for n in names])
    return names


def names(qs) -> list[str]:
    return [r.name for r in qs]


def test_rank_tiers(labels):
    result = m.ULabel.search("T cell")
    assert isinstance(result, QuerySet)
    got = names(result)
    # exact, prefix, whole word (shorter first), then fuzzy
    assert got[0] == "T cell"
    assert got[1] == "T cell receptor"  # prefix beats whole word
    assert got[2:4] == ["regulatory T cell", "CD8-positive T cell"]
    assert "Tcellular" in got[4:]
    df = result.df()
    assert "score" in df.columns
    assert df["score"].tolist() == sorted(df["score"].tolist(), reverse=True)
    assert df["score"].iloc[0] == 100.0
    assert df["name"].tolist() == got


def test_exact_beats_fuzzy_and_prefix(labels):
    assert names(m.ULabel.search("search3"))[:2] == ["search3", "search3 first"]
    assert names(m.ULabel.search("SEARCH3"))[0] == "search3"


def test_typo_finds_record_first(labels):
    assert names(m.ULabel.search("monocite"))[0] == "monocyte"
    assert names(m.ULabel.search("B cel"))[0] == "B cell"
    assert names(m.ULabel.search("regulatory T cel"))[0] == "regulatory T cell"
    assert names(m.ULabel.search("regulatroy T cell"))[0] == "regulatory T cell"
    df = m.ULabel.search("monocite").df()
    assert df["score"].iloc[0] < 75


def test_limit_and_case_sensitive(labels):
    assert len(m.ULabel.search("search3", limit=1)) == 1
    assert names(m.ULabel.search("search3", limit=1)) == ["search3"]
    assert len(m.ULabel.search("cell", limit=3)) == 3
    hits = names(m.ULabel.search("t CELL", case_sensitive=True))
    assert "T cell" not in hits
    assert names(m.ULabel.search("t CELL"))[0] == "T cell"
    assert m.ULabel.search("").count() == 0


def test_search_on_queryset_and_fields(labels):
    qs = m.ULabel.filter(name__contains="cell").exclude(name="T cell")
    got = names(qs.search("T cell"))
    assert "T cell" not in got
    assert got[0] == "T cell receptor"
    m.ULabel(name="plain", description="has a T cell inside").save()
    hit = names(m.ULabel.search("inside", field="description"))
    assert hit == ["plain"]
    multi = names(m.ULabel.search("inside", field=["name", "description"]))
    assert multi[0] == "plain"


def test_search_synonyms(ctx):
    save(
        [
            m.Feature(name="cell type", dtype="cat", synonyms="celltype|CT"),
            m.Feature(name="celltypes observed", dtype="cat"),
            m.Feature(name="donor", dtype="cat"),
        ]
    )
    got = m.Feature.search("celltype")
    assert names(got)[:2] == ["cell type", "celltypes observed"]
    assert got.df()["score"].tolist()[:2] == [95.0, 90.0]
    assert names(m.Feature.search("ct"))[0] == "cell type"


def test_search_other_registries(labels):
    assert m.User.search("testuser").first().handle == "testuser1"
    t = m.Transform(name="my pipeline").save()
    assert QuerySet(m.Transform).search("pipelin").first() == t
    run = m.Run(transform=t).save()
    year = str(run.started_at.year)
    assert QuerySet(m.Run).search(year).first() == run  # a datetime name field


def test_search_many_labels_fast_path(ctx):
    save([m.ULabel(name=f"label {i}") for i in range(2_000)])
    got = names(m.ULabel.search("label 1234"))
    assert got[0] == "label 1234"
    got = names(m.ULabel.search("lable 1234"))
    assert got[0] == "label 1234"
    assert len(m.ULabel.search("label")) == 20


def test_search_escapes_like_wildcards(ctx):
    save([m.ULabel(name=n) for n in ["100% pure", "a_b", "abc", "back\\slash"]])
    assert names(m.ULabel.search("%", limit=1)) == ["100% pure"]
    assert names(m.ULabel.search("a_", limit=1)) == ["a_b"]
    assert names(m.ULabel.search("k\\s", limit=1)) == ["back\\slash"]
    assert m.ULabel.search("%").df()["score"].iloc[0] == 80.0


def test_search_ignores_case_beyond_ascii(ctx):
    # PostgreSQL lowers both sides (as ILIKE does), SQLite uses lamin-sa's lower()
    save([m.ULabel(name=n) for n in ["École normale", "ÉTÉ", "Straße 5", "other"]])
    assert names(m.ULabel.search("école", limit=1)) == ["École normale"]
    assert names(m.ULabel.search("ÉCOLE NOR", limit=1)) == ["École normale"]
    assert names(m.ULabel.search("été", limit=1)) == ["ÉTÉ"]
    assert names(m.ULabel.search("straße", limit=1)) == ["Straße 5"]


def test_fuzzy_tier_finds_every_record_of_a_value(ctx):
    # the fuzzy tier scores values, then looks up their records: a value shared
    # by two records returns both, a record found by SQL appears once, and a
    # value holding the aggregation's separator is scored too
    from lamin_sa.curate.values import UNIT_SEP

    texts = ["neuron pipeline", "neuron pipeline", "neuron", f"x{UNIT_SEP}y"]
    labels = [m.ULabel(name=f"l{i}", description=t) for i, t in enumerate(texts)]
    save(labels)
    by = "description"
    found = list(m.ULabel.search("nueron pipelin", field=by))
    assert [r.id for r in found[:2]] == [labels[0].id, labels[1].id]
    assert len({r.id for r in found}) == len(found)
    hits = list(m.ULabel.search("neuron", field=by))
    assert hits[0] == labels[2]
    assert len({r.id for r in hits}) == len(hits) == 3
    assert m.ULabel.search(f"x{UNIT_SEP}z", field=by).first() == labels[3]


def test_ranked_order_and_scores_come_from_the_ranking(ctx):
    # position and score are looked up in one bound ";id:score;" string: id 5
    # must not match inside ";15:", and scores keep their two decimals
    from lamin_sa.curate.search import _ranked
    from lamin_sa.curate.values import as_queryset

    save([m.ULabel(name=f"n{i}") for i in range(20)])
    ranked = [(15, 100.0), (5, 63.57), (1, 0.0), (11, 95.0)]
    qs = _ranked(as_queryset(m.ULabel), ranked)
    assert [r.id for r in qs] == [15, 5, 1, 11]
    df = qs.df()
    assert df.index.tolist() == [15, 5, 1, 11]
    assert df["score"].tolist() == [100.0, 63.57, 0.0, 95.0]
    narrowed = m.ULabel.search("n1").filter(name__in=["n1", "n10", "n14"])
    assert [r.name for r in narrowed] == ["n1", "n10", "n14"]
    assert narrowed.df()["score"].tolist() == [100.0, 90.0, 90.0]


def test_fuzzy_scores_are_rapidfuzz_scores_and_follow_changed_values(ctx):
    # the fuzzy tier scores processed values (case and punctuation ignored) the
    # way rapidfuzz's own processor does, and a changed value is scored anew
    from rapidfuzz import fuzz, utils

    names = ["T-Cell, CD4+", "B cell (naive)", "Monocyte"]
    save([m.ULabel(name=n) for n in names])
    query = "t cel cd4"
    expected = fuzz.ratio(query, "T-Cell, CD4+", processor=utils.default_process)
    hit = m.ULabel.search(query).df().iloc[0]
    assert hit["name"] == "T-Cell, CD4+"
    assert hit["score"] == round(expected * 70.0 / 100.0, 2)
    assert m.ULabel.search("B CELL naiv").first().name == "B cell (naive)"
    monocyte = m.ULabel.get(name="Monocyte")
    monocyte.name = "Macrophage M2"
    monocyte.save()
    assert m.ULabel.search("macrofage m2").first() == monocyte
    assert "Monocyte" not in m.ULabel.search("monocyt").df()["name"].tolist()
