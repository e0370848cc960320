"""Lineage: ln.track()/ln.finish(), run inputs, graphs, the lineage CLI.

Scripts in tests/lineage_scripts/ run as subprocesses against an instance the
test initialised (LAMIN_SA_HOME is the test's home), on SQLite and, with
LAMIN_SA_TEST_PG_URL, PostgreSQL.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import lamin_sa as ln
from lamin_sa.cli import main as cli_main
from lamin_sa.db import session as dbs
from lamin_sa.db.uid import hash_to_uid
from lamin_sa.lineage import graph, sql
from lamin_sa.lineage import track as tracking
from lamin_sa.lineage.inputs import NoRunContext, link_run_inputs
from lamin_sa.settings import settings

SCRIPTS = Path(__file__).parent / "lineage_scripts"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def work(db_url: str, tmp_path: Path) -> Iterator[Path]:
    """A fresh instance; yields a folder (outside git) for scripts and files."""
    db = None if db_url.startswith("sqlite") else db_url
    ln.init(storage=tmp_path / "root", db=db)
    folder = tmp_path / "work"
    folder.mkdir()
    try:
        yield folder
    finally:
        settings.transform.stem_uid = None
        settings.transform.version = None
        settings.track_run_inputs = True
        tracking._tracked = None
        ln.close()


def run_script(work: Path, name: str) -> Path:
    """Copy a test script into ``work`` (once) and run it there."""
    target = work / name
    if not target.exists():
        shutil.copy(SCRIPTS / name, target)
    proc = subprocess.run(
        [sys.executable, str(target)],
        cwd=work,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return target


def _script(work: Path, name: str, text: str = "print('hi')\n") -> Path:
    path = work / name
    path.write_text(text)
    return path


def _file(work: Path, name: str, text: str) -> Path:
    path = work / name
    path.write_text(text)
    return path


# ---- scripts end to end ----------------------------------------------------------


def test_scripts_track_inputs_outputs_and_graph(
    work: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for name in ("script_a.py", "script_b.py", "script_c.py"):
        run_script(work, name)
    ta, tb, tc = (ln.Transform.get(key=f"script_{x}.py") for x in "abc")
    for t, x in zip((ta, tb, tc), "abc", strict=True):
        assert t.type == "script" and t.name == f"script_{x}.py"
        assert len(t.uid) == 16 and t.version == "1" and t.is_latest
        assert t.reference_type == "source_hash"
        source = t.source_code
        assert source.visibility == 0 and source.run_id is None
        assert source.description == f"Source of transform {t.uid}"
        assert Path(source.cache()).read_text() == (SCRIPTS / t.key).read_text()
    (ra,), (rb,), (rc,) = (list(t.runs) for t in (ta, tb, tc))
    a = ln.Artifact.get(description="A output")
    b = ln.Artifact.get(description="B output")
    c = ln.Artifact.get(description="C output")
    assert (a.run_id, a.transform_id) == (ra.id, ta.id)
    assert (b.run_id, b.transform_id) == (rb.id, tb.id)
    assert (c.run_id, c.transform_id) == (rc.id, tc.id)
    # outputs are only the saved data: source and environment are not outputs
    assert ra.output_artifacts.list("description") == ["A output"]
    assert list(ra.input_artifacts) == []
    assert [x.uid for x in rb.input_artifacts] == [a.uid]
    assert [x.uid for x in rc.input_artifacts] == [b.uid]
    assert [r.uid for r in a.input_of] == [rb.uid]
    assert [p.uid for p in tb.parents] == [ta.uid]
    assert [p.uid for p in tc.parents] == [tb.uid]
    assert [p.uid for p in ta.children] == [tb.uid]
    for run in (ra, rb, rc):
        assert run.finished_at is not None and run.started_at is not None
    # one environment artifact (pip freeze), shared by runs with the same packages
    env = ra.environment
    assert env is not None and env.visibility == 0
    assert env.description == "requirements.txt"
    assert rb.environment_id == env.id == rc.environment_id
    assert "SQLAlchemy" in Path(env.cache()).read_text()
    assert ln.Artifact.filter().count() == 3  # hidden ones are not listed
    assert {p.param.name: p.value for p in ra.param_values} == {
        "n": 3,
        "genes": ["a", "b"],
        "rate": 0.5,
    }

    # lineage graph of C: 3 runs, 3 artifacts, in a chain
    g = graph.view_lineage(c, return_graph=True)
    runs = {n for n, k in g.nodes(data="kind") if k == "run"}
    arts = {n for n, k in g.nodes(data="kind") if k == "artifact"}
    assert runs == {f"run:{r.uid}" for r in (ra, rb, rc)}
    assert arts == {f"artifact:{x.uid}" for x in (a, b, c)}
    assert set(g.edges()) == {
        (f"run:{ra.uid}", f"artifact:{a.uid}"),
        (f"artifact:{a.uid}", f"run:{rb.uid}"),
        (f"run:{rb.uid}", f"artifact:{b.uid}"),
        (f"artifact:{b.uid}", f"run:{rc.uid}"),
        (f"run:{rc.uid}", f"artifact:{c.uid}"),
    }
    assert g.nodes[f"run:{ra.uid}"]["label"].startswith("script: script_a.py v1")
    assert g.nodes[f"artifact:{b.uid}"]["label"].startswith("B output")
    # the same graph from the middle, and from a run
    assert set(graph.view_lineage(b, return_graph=True).edges()) == set(g.edges())
    assert set(rb.view_lineage(return_graph=True).edges()) == set(g.edges())

    # rendering: a PNG with graphviz, DOT text with a hint without it
    if shutil.which("dot"):
        png = graph.view_lineage(c, filename=work / "lineage.png")
        assert png == work / "lineage.png"
        assert png.read_bytes().startswith(PNG_MAGIC)
    monkeypatch.setattr(graph.shutil, "which", lambda name: None)
    with caplog.at_level(logging.WARNING, logger="lamin_sa"):
        out = graph.view_lineage(c, filename=work / "fallback.svg")
    assert out == work / "fallback.dot"
    assert graph.GRAPHVIZ_HINT in caplog.text
    text = out.read_text()
    assert text.startswith('digraph "lineage" {')
    assert f'"artifact:{a.uid}" -> "run:{rb.uid}";' in text

    # recursive SQL at depth 3
    up = sql.ancestors(c)
    assert set(up.artifacts().list("description")) == {"A output", "B output"}
    assert set(up.runs().list("uid")) == {ra.uid, rb.uid, rc.uid}
    assert set(up.transforms().list("key")) == {t.key for t in (ta, tb, tc)}
    down = sql.descendants(a)
    assert set(down.artifacts().list("description")) == {"B output", "C output"}
    assert set(down.runs().list("uid")) == {rb.uid, rc.uid}
    assert set(down.transforms().list("key")) == {"script_b.py", "script_c.py"}
    assert rb.lineage.ancestors().artifacts().list("uid") == [a.uid]
    assert set(rb.lineage.descendants().artifacts().list("uid")) == {b.uid, c.uid}
    # the same through the artifact's own accessors
    assert set(c.lineage.ancestors().artifacts().list("uid")) == {a.uid, b.uid}
    assert set(a.lineage.descendants().runs().list("uid")) == {rb.uid, rc.uid}
    assert set(c.view_lineage(return_graph=True).edges()) == set(g.edges())
    # script B only cached A's artifact: that alone made it an input of B's run
    assert rb.input_artifacts.list("uid") == [a.uid]

    # the CLI draws by uid (artifacts) and parents/children (transforms)
    result = CliRunner().invoke(
        cli_main, ["lineage", c.uid, "-o", str(work / "cli.dot")]
    )
    assert result.exit_code == 0, result.output
    assert f'"run:{rc.uid}" -> "artifact:{c.uid}";' in (work / "cli.dot").read_text()
    result = CliRunner().invoke(
        cli_main, ["lineage", tb.uid, "-o", str(work / "t.dot")]
    )
    assert result.exit_code == 0, result.output
    dot = (work / "t.dot").read_text()
    assert f'"transform:{ta.uid}" -> "transform:{tb.uid}";' in dot
    assert f'"transform:{tb.uid}" -> "transform:{tc.uid}";' in dot
    result = CliRunner().invoke(cli_main, ["lineage", "nope", "-o", "x.dot"])
    assert result.exit_code != 0 and "No artifact" in result.output


def test_changed_source_is_new_version_of_the_family(work: Path) -> None:
    path = run_script(work, "script_a.py")
    original = path.read_text()
    path.write_text(original + "# an edit\n")
    run_script(work, "script_a.py")
    run_script(work, "script_a.py")  # unchanged since the edit: same transform
    family = ln.Transform.filter(key="script_a.py").order_by("version").list()
    assert [t.version for t in family] == ["1", "2"]
    v1, v2 = family
    assert v1.uid[:12] == v2.uid[:12] == v1.stem_uid
    assert v2.uid == v1.stem_uid + hash_to_uid("2", 4)
    assert (v1.is_latest, v2.is_latest) == (False, True)
    assert v1.runs.count() == 1 and v2.runs.count() == 2
    assert v2.source_code.hash != v1.source_code.hash
    assert set(v2.versions.list("uid")) == {v1.uid, v2.uid}
    # back to the original source: the first version again
    path.write_text(original)
    run_script(work, "script_a.py")
    assert ln.Transform.filter(key="script_a.py").count() == 2
    assert ln.Run.filter(transform=v1).count() == 2


RACE_SCRIPT = """import os
import time

import lamin_sa as ln

ln.Transform.filter().count()  # connect before the start line
time.sleep(max(0.0, float(os.environ["RACE_START"]) - time.time()))
ln.track()
"""


def test_concurrent_first_runs_make_one_transform(work: Path) -> None:
    env = {**os.environ, "RACE_START": str(time.time() + 2)}
    procs = []
    for folder in ("one", "two", "three"):
        (work / folder).mkdir()
        script = _script(work / folder, "same.py", RACE_SCRIPT)
        procs.append(
            subprocess.Popen(
                [sys.executable, str(script)],
                cwd=script.parent,
                env=env,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    (transform,) = ln.Transform.filter(key="same.py").list()
    assert transform.runs.count() == 3


def test_pinned_stem_uid_and_version_give_the_seed_uid(work: Path) -> None:
    script = _script(work, "seed.py")
    ln.settings.transform.stem_uid = "NJvdsWWbJlZS"  # as pasted in the seed
    ln.settings.transform.version = "0"
    ln.track(path=script)
    transform = tracking.run_context.transform
    assert transform.uid == "NJvdsWWbJlZS6K79"
    assert (transform.key, transform.version, transform.type) == (
        "seed.py",
        "0",
        "script",
    )
    ln.track(path=script)  # again: the same transform, a new run
    assert ln.Transform.filter().count() == 1
    assert ln.Run.filter(transform=transform).count() == 2
    settings.transform.version = None
    with pytest.raises(ValueError, match="ln.settings.transform.version"):
        ln.track(path=script)
    settings.transform.stem_uid = "short"
    settings.transform.version = "1"
    with pytest.raises(ValueError, match="12 base62"):
        ln.track(path=script)


def test_params_round_trip(work: Path) -> None:
    script = _script(work, "params.py")
    params = {"n": 3, "lr": 0.1, "name": "x", "flag": True, "genes": ["a", "b"]}
    ln.track(params=params, path=script)
    run = tracking.run_context.run
    assert {pv.param.name: pv.value for pv in run.param_values} == params
    dtypes = {p.name: p.dtype for p in ln.Param.filter()}
    assert dtypes == {
        "n": "int",
        "lr": "float",
        "name": "str",
        "flag": "bool",
        "genes": "list",
    }
    ln.track(params={**params, "n": 4}, path=script)
    run2 = tracking.run_context.run
    assert run2.id != run.id
    values = {pv.param.name: pv.value for pv in run2.param_values}
    assert values == {**params, "n": 4}
    # values are get-or-created per (param, value)
    assert ln.Param.filter().count() == 5
    assert ln.ParamValue.filter().count() == 6
    with pytest.raises(ValueError, match="JSON-serializable"):
        tracking.set_params(run2, {"bad": object()})


def test_track_identifies_the_calling_file_by_git_key(work: Path) -> None:
    ln.track()  # called from this test module, inside the repository
    transform = tracking.run_context.transform
    in_git = shutil.which("git") and (Path(__file__).parents[1] / ".git").exists()
    assert transform.key == ("tests/test_lineage.py" if in_git else "test_lineage.py")
    assert transform.name == "test_lineage.py" and transform.type == "script"
    assert tracking.run_context.path == Path(__file__).resolve()


def test_track_needs_a_file_outside_scripts(work: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", "import lamin_sa as ln; ln.track()"],
        cwd=work,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "TransformNotFound" in proc.stderr and "path=" in proc.stderr
    with pytest.raises(tracking.TransformNotFound, match="is not a file"):
        ln.track(path=work / "missing.py")


def test_finish_without_track_raises(work: Path) -> None:
    with pytest.raises(tracking.TrackNotCalled, match=r"ln\.track\(\)"):
        ln.finish()
    assert issubclass(tracking.TrackNotCalled, ln.errors.LaminSAError)


def test_pipeline_transform_and_new_runs(work: Path) -> None:
    pipeline = ln.Transform(name="my pipeline", version="1")
    ln.track(transform=pipeline)
    assert pipeline.id is not None and pipeline.type == "pipeline"
    run = tracking.run_context.run
    assert run.transform_id == pipeline.id
    artifact = ln.Artifact(_file(work, "p.txt", "p"), description="p").save()
    assert artifact.run_id == run.id and artifact.transform_id == pipeline.id
    ln.track(transform=pipeline)
    assert tracking.run_context.run.id != run.id  # pipelines: a new run each time
    ln.finish()  # no file: no source code, but the environment
    finished = ln.Run.get(tracking.run_context.run.uid)
    assert finished.finished_at is not None and finished.environment_id is not None
    assert ln.Transform.get(pipeline.uid).source_code_id is None
    script = ln.Transform(name="s", type="script").save()
    with pytest.raises(ValueError, match="without passing transform"):
        ln.track(transform=script)


def test_link_run_inputs(work: Path) -> None:
    loose = ln.Artifact(_file(work, "loose.txt", "x"), description="loose").save()
    # no run: nothing happens, unless forced
    link_run_inputs([loose])
    with pytest.raises(NoRunContext, match=r"ln\.track\(\)"):
        link_run_inputs([loose], is_run_input=True)
    producer = ln.Transform(name="producer")
    ln.track(transform=producer)
    made = ln.Artifact(_file(work, "made.txt", "m"), description="made").save()
    consumer = ln.Transform(name="consumer")
    ln.track(transform=consumer)
    run = tracking.run_context.run
    own = ln.Artifact(_file(work, "own.txt", "o"), description="own").save()
    unsaved = ln.Artifact(_file(work, "unsaved.txt", "u"), description="u")
    link_run_inputs([loose, made, own, unsaved])
    link_run_inputs(made)  # twice: no duplicate link
    assert set(run.input_artifacts.list("description")) == {"loose", "made"}
    assert [t.name for t in consumer.parents] == ["producer"]
    assert [t.name for t in producer.children] == ["consumer"]
    # the setting switches automatic linking off; True still links
    settings.track_run_inputs = False
    other = ln.Artifact(_file(work, "other.txt", "t"), description="other").save()
    ln.track(transform=ln.Transform(name="third"))
    link_run_inputs([other])
    assert tracking.run_context.run.input_artifacts.count() == 0
    link_run_inputs([other], is_run_input=True)
    assert tracking.run_context.run.input_artifacts.list("description") == ["other"]
    link_run_inputs([other], is_run_input=False)
    with pytest.raises(TypeError, match="artifacts or collections"):
        link_run_inputs([producer], is_run_input=True)


def test_link_collection_inputs(work: Path) -> None:
    ln.track(transform=ln.Transform(name="maker"))
    a1 = ln.Artifact(_file(work, "c1.txt", "1"), description="c1").save()
    a2 = ln.Artifact(_file(work, "c2.txt", "2"), description="c2").save()
    collection = ln.Collection([a1, a2], name="pair").save()
    ln.track(transform=ln.Transform(name="user"))
    run = tracking.run_context.run
    link_run_inputs([collection])
    assert run.input_collections.list("name") == ["pair"]
    assert [t.name for t in run.transform.parents] == ["maker"]
    made = ln.Artifact(_file(work, "from_pair.txt", "3"), description="out").save()
    assert sql.ancestors(made).collections().list("name") == ["pair"]
    assert sql.descendants(collection).artifacts().list("description") == ["out"]
    g = graph.view_lineage(collection, return_graph=True)
    assert (f"collection:{collection.uid}", f"run:{run.uid}") in g.edges()
    assert g.nodes[f"collection:{collection.uid}"]["label"].startswith("pair")


def test_view_parents_of_transforms(work: Path) -> None:
    t1, t2, t3 = (ln.Transform(name=f"t{i}").save() for i in (1, 2, 3))
    t2.parents.add(t1)
    t3.parents.add(t2)
    g = t3.view_parents(return_graph=True)
    assert set(g.edges()) == {
        (f"transform:{t1.uid}", f"transform:{t2.uid}"),
        (f"transform:{t2.uid}", f"transform:{t3.uid}"),
    }
    assert g.nodes[f"transform:{t1.uid}"]["label"] == "pipeline: t1"
    near = t3.view_parents(distance=1, return_graph=True)
    assert set(near.nodes) == {f"transform:{t2.uid}", f"transform:{t3.uid}"}
    down = t1.view_parents(with_children=True, return_graph=True)
    assert len(down.edges) == 2
    out = t3.view_parents(filename=work / "parents.dot")
    assert out.read_text().count("->") == 2


def test_save_source_after_the_fact(work: Path) -> None:
    path = run_script(work, "script_no_finish.py")
    transform = ln.Transform.get(key="script_no_finish.py")
    run = transform.latest_run
    assert transform.source_code_id is None and run.finished_at is None
    same = tracking.save_source(path)
    assert same.id == transform.id
    transform = ln.Transform.filter(id=transform.id).one()
    assert Path(transform.source_code.cache()).read_text() == path.read_text()
    assert ln.Run.get(run.uid).finished_at is not None
    path.write_text(path.read_text() + "# changed\n")
    with pytest.raises(tracking.TransformNotFound, match="No tracked run"):
        tracking.save_source(path)


def test_track_sets_the_context_run(work: Path) -> None:
    script = _script(work, "ctx.py")
    ln.track(path=script)
    ctx = dbs.current()
    assert ctx.run is tracking.run_context.run and ctx.run_id == ctx.run.id
    label = ln.ULabel(name="made in run").save()
    assert label.run_id == ctx.run_id
    ln.finish()
    transform = tracking.run_context.transform
    assert transform.source_code.hash == transform.reference  # scripts: same hash
    assert ln.Artifact.filter(visibility=0).count() == 2  # source + environment


def test_dot_text_escapes_labels_and_rejects_unknown_formats(tmp_path: Path) -> None:
    import networkx as nx

    g = nx.DiGraph()
    g.add_node("artifact:x", kind="artifact", label='say "hi"\\n\nnext')
    g.add_node("run:y", kind="run", label="run")
    g.add_edge("artifact:x", "run:y")
    text = graph.to_dot(g)
    assert '[label="say \\"hi\\"\\\\n\\nnext", shape=box' in text
    assert '"artifact:x" -> "run:y";' in text
    assert graph.render(g, tmp_path / "g.dot").read_text() == text
    with pytest.raises(ValueError, match="use one of svg, png, pdf, dot"):
        graph.render(g, tmp_path / "g.gif")


def _managed_path(artifact: ln.Artifact) -> Path:
    from lamin_sa.artifact._state import storage_key

    return Path(artifact.storage.root) / storage_key(artifact)


def test_transform_delete_removes_hidden_artifacts_and_runs(work: Path) -> None:
    script = _script(work, "to_delete.py")
    ln.track(path=script)
    ln.finish()
    transform = tracking.run_context.transform
    run = tracking.run_context.run
    source = ln.Artifact.filter(id=transform.source_code_id, visibility=0).one()
    env = ln.Artifact.filter(id=ln.Run.get(run.uid).environment_id, visibility=0).one()
    files = [_managed_path(source), _managed_path(env)]
    assert all(f.exists() for f in files)
    tracking._tracked = None
    transform.delete()
    assert ln.Transform.filter(uid=transform.uid).count() == 0
    assert ln.Run.filter(transform_id=transform.id).count() == 0
    assert ln.Artifact.filter(visibility=None).count() == 0
    assert not any(f.exists() for f in files)


def test_transform_delete_refuses_while_outputs_exist(work: Path) -> None:
    script = _script(work, "with_output.py")
    ln.track(path=script)
    output = ln.Artifact(_file(work, "out.txt", "out"), description="out").save()
    ln.finish()
    transform = tracking.run_context.transform
    tracking._tracked = None
    with pytest.raises(ln.errors.IntegrityError, match=output.uid) as info:
        transform.delete()
    assert "Delete those first" in str(info.value)
    assert ln.Transform.filter(uid=transform.uid).count() == 1
    assert ln.Run.filter(transform_id=transform.id).count() == 1
    assert ln.Artifact.filter(visibility=None).count() == 3  # output, source, env
    assert ln.Transform.get(transform.uid).source_code_id is not None
    output.delete(permanent=True)
    transform.delete()
    assert ln.Artifact.filter(visibility=None).count() == 0


def test_no_run_warning_for_artifacts(work: Path, caplog) -> None:
    from lamin_sa.artifact.create import NO_RUN_WARNING

    def warnings() -> list[str]:
        return [
            r.getMessage() for r in caplog.records if r.getMessage() == NO_RUN_WARNING
        ]

    caplog.set_level(logging.WARNING, logger="lamin_sa")
    ln.Artifact(_file(work, "a.txt", "a"), description="a")
    assert len(warnings()) == 1
    caplog.clear()
    settings.silence_file_run_transform_warning = True
    try:
        ln.Artifact(_file(work, "b.txt", "b"), description="b")
        assert warnings() == []
    finally:
        settings.silence_file_run_transform_warning = False
    ln.track(path=_script(work, "warns.py"))
    ln.Artifact(_file(work, "c.txt", "c"), description="c").save()
    ln.finish()  # its hidden source and environment artifacts do not warn
    assert warnings() == []
    tracking._tracked = None
    path = _script(work, "saved_later.py", "print('saved later')\n")
    ln.track(path=path)
    tracking._tracked = None
    caplog.clear()
    n_hidden = ln.Artifact.filter(visibility=0).count()
    tracking.save_source(path)  # hidden artifacts without a tracked run
    assert ln.Artifact.filter(visibility=0).count() > n_hidden
    assert warnings() == []


def test_no_run_warning_once_for_a_folder(work: Path, caplog) -> None:
    from lamin_sa.artifact.create import NO_RUN_WARNING

    folder = work / "folder"
    folder.mkdir()
    for name in ("a.txt", "b.txt", "c.txt"):
        (folder / name).write_text(name)
    caplog.set_level(logging.WARNING, logger="lamin_sa")
    artifacts = ln.Artifact.from_dir(folder)
    assert len(artifacts) == 3
    messages = [r.getMessage() for r in caplog.records]
    assert messages.count(NO_RUN_WARNING) == 1


def test_view_lineage_shows_itself_outside_jupyter(
    work: Path, monkeypatch: pytest.MonkeyPatch, caplog, capsys
) -> None:
    ln.track(path=_script(work, "shown.py"))
    artifact = ln.Artifact(_file(work, "shown.txt", "x"), description="x").save()
    ln.finish()
    if shutil.which("dot"):
        assert artifact.view_lineage() is None
        line = capsys.readouterr().out.strip()
        assert line.startswith(f"lineage of Artifact {artifact.uid}: ")
        picture = Path(line.split(": ", 1)[1])
        assert picture.suffix == ".svg" and "<svg" in picture.read_text()
    monkeypatch.setattr(graph.shutil, "which", lambda name: None)
    monkeypatch.setattr(graph, "_dot_hint_shown", False)
    with caplog.at_level(logging.WARNING, logger="lamin_sa"):
        assert artifact.view_lineage() is None
        assert artifact.view_lineage() is None
    out = capsys.readouterr().out.splitlines()
    dot_file = settings.cache_dir / f"lineage_{artifact.uid}.dot"
    assert out == [f"lineage of Artifact {artifact.uid}: {dot_file}"] * 2
    assert dot_file.read_text().startswith('digraph "lineage" {')
    hints = [r for r in caplog.records if "dot is not installed" in r.getMessage()]
    assert len(hints) == 1 and str(dot_file) in hints[0].getMessage()
    assert hints[0].levelno == logging.WARNING
