"""Ancestors and descendants as recursive SQL, on SQLite and PostgreSQL.

The lineage is built in-process with pipeline runs:

    r1 (t1) → a1, a2
    r2 (t2): a1 → b1
    r3 (t3): b1, a2 → c1, collection col = [c1]
    r4 (t4): col → d1
    r5 (t5): loose → e1          (unrelated)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import lamin_sa as ln
from lamin_sa.lineage import graph, sql
from lamin_sa.lineage import track as tracking
from lamin_sa.lineage.inputs import link_run_inputs
from tests import test_lineage

work = test_lineage.work


class World:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.runs: dict[str, Any] = {}
        self.transforms: dict[str, Any] = {}
        self.data: dict[str, Any] = {}

    def artifact(self, name: str) -> Any:
        path = self.folder / f"{name}.txt"
        path.write_text(f"data {name}")
        self.data[name] = ln.Artifact(path, description=name).save()
        return self.data[name]

    def step(self, name: str, inputs: list[str], outputs: list[str]) -> Any:
        self.transforms[name] = ln.Transform(name=name)
        ln.track(transform=self.transforms[name])
        self.runs[name] = tracking.run_context.run
        if inputs:
            link_run_inputs([self.data[i] for i in inputs])
        for output in outputs:
            self.artifact(output)
        return self.runs[name]


@pytest.fixture
def world(work: Path) -> World:
    w = World(work)
    w.step("t1", [], ["a1", "a2"])
    w.step("t2", ["a1"], ["b1"])
    w.step("t3", ["b1", "a2"], ["c1"])
    w.data["col"] = ln.Collection([w.data["c1"]], name="col").save()
    w.step("t4", ["col"], ["d1"])
    w.artifact("loose")  # made by t4's run, but never used
    w.step("t5", ["loose"], ["e1"])
    return w


def names(qs: Any, field: str = "description") -> set[str]:
    return set(qs.list(field))


def test_ancestors_at_any_depth(world: World) -> None:
    up = sql.ancestors(world.data["d1"])
    assert names(up.artifacts()) == {"a1", "a2", "b1"}
    assert names(up.collections(), "name") == {"col"}
    assert names(up.runs(), "uid") == {
        world.runs[t].uid for t in ("t1", "t2", "t3", "t4")
    }
    assert names(up.transforms(), "name") == {"t1", "t2", "t3", "t4"}
    # QuerySets chain
    assert up.artifacts().filter(description__startswith="a").count() == 2
    assert up.transforms().order_by("name").list("name")[0] == "t1"
    first = sql.ancestors(world.data["a1"])
    assert first.artifacts().count() == 0
    assert names(first.transforms(), "name") == {"t1"}


def test_descendants_at_any_depth(world: World) -> None:
    down = sql.descendants(world.data["a1"])
    assert names(down.artifacts()) == {"b1", "c1", "d1", "loose", "e1"}
    assert names(down.collections(), "name") == {"col"}
    assert names(down.transforms(), "name") == {"t2", "t3", "t4", "t5"}
    assert names(sql.descendants(world.data["a2"]).artifacts()) == {
        "c1",
        "d1",
        "loose",
        "e1",
    }
    assert sql.descendants(world.data["e1"]).runs().count() == 0
    col = sql.descendants(world.data["col"])
    assert names(col.artifacts()) == {"d1", "loose", "e1"}


def test_run_and_collection_seeds(world: World) -> None:
    r3 = world.runs["t3"]
    assert names(r3.lineage.ancestors().artifacts()) == {"a1", "a2", "b1"}
    assert r3.uid not in names(r3.lineage.ancestors().runs(), "uid")
    assert names(r3.lineage.descendants().artifacts()) == {"c1", "d1", "loose", "e1"}
    assert names(r3.lineage.descendants().runs(), "uid") == {
        world.runs["t4"].uid,
        world.runs["t5"].uid,
    }
    assert names(sql.ancestors(world.data["col"]).artifacts()) == {"a1", "a2", "b1"}
    with pytest.raises(TypeError, match="artifacts, collections and runs"):
        sql.ancestors(world.transforms["t1"])


def test_trashed_data_still_links_but_is_not_listed(world: World) -> None:
    world.data["b1"].delete()  # to the trash
    up = sql.ancestors(world.data["d1"])
    assert names(up.artifacts()) == {"a1", "a2"}
    assert names(up.artifacts().filter(visibility=None)) == {"a1", "a2", "b1"}
    g = graph.lineage_graph(world.data["d1"])
    assert f"artifact:{world.data['b1'].uid}" not in g
    assert f"run:{world.runs['t1'].uid}" in g


def test_cycles_terminate(work: Path) -> None:
    w = World(work)
    w.step("s", [], ["y"])
    w.step("r", ["y"], ["x"])
    w.runs["s"].input_artifacts.add(w.data["x"])  # x → s → y → r → x
    up = sql.ancestors(w.data["x"])
    assert names(up.runs(), "uid") == {w.runs["s"].uid, w.runs["r"].uid}
    assert names(up.artifacts()) == {"x", "y"} - {"x"}
    assert names(sql.descendants(w.data["x"]).artifacts()) == {"y"}
    assert len(graph.lineage_graph(w.data["x"]).edges) == 4


def test_long_chain(work: Path) -> None:
    w = World(work)
    w.step("step0", [], ["d0"])
    for i in range(1, 12):
        w.step(f"step{i}", [f"d{i - 1}"], [f"d{i}"])
    assert sql.ancestors(w.data["d11"]).artifacts().count() == 11
    assert sql.ancestors(w.data["d11"]).runs().count() == 12
    assert sql.descendants(w.data["d0"]).transforms().count() == 11
    g = graph.lineage_graph(w.data["d5"])
    assert len(g) == 24 and len(g.edges) == 23


def test_full_lineage_graph(world: World) -> None:
    g = graph.lineage_graph(world.data["b1"])
    run = {t: f"run:{world.runs[t].uid}" for t in world.runs}
    art = {n: f"artifact:{world.data[n].uid}" for n in world.data if n != "col"}
    col = f"collection:{world.data['col'].uid}"
    assert (art["a2"], run["t3"]) in g.edges  # other inputs of downstream runs
    assert (run["t3"], col) in g.edges and (col, run["t4"]) in g.edges
    assert (art["loose"], run["t5"]) in g.edges
    assert g.graph["focus"] == art["b1"]
    assert world.data["b1"].uid in graph.to_dot(g)
