"""A notebook executed headless (nbclient) is tracked as a notebook.

The kernel inherits the test's environment: LAMIN_SA_HOME (the instance the
test initialised) and LAMIN_SA_NOTEBOOK_PATH (nbclient does not tell the kernel
which file it runs).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import lamin_sa as ln
from lamin_sa.lineage import track as tracking
from tests import test_lineage

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

work = test_lineage.work

CELLS = [
    ("markdown", "# My analysis\n\nA tracked notebook."),
    ("code", "import lamin_sa as ln\n\nln.track(params={'k': 1})"),
    (
        "code",
        "from pathlib import Path\n\n"
        "Path('nb.txt').write_text('notebook data')\n"
        "artifact = ln.Artifact('nb.txt', description='notebook output').save()\n"
        "print('saved', artifact.uid)",
    ),
    ("code", "ln.finish()"),
    (
        "code",
        "from lamin_sa.lineage.graph import view_lineage\n\nview_lineage(artifact)",
    ),
]


def _notebook(cells: list[tuple[str, str]]) -> Any:
    nb = nbformat.v4.new_notebook()
    for kind, source in cells:
        make = nbformat.v4.new_markdown_cell if kind == "markdown" else None
        nb.cells.append((make or nbformat.v4.new_code_cell)(source))
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def _execute(path: Path) -> Any:
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    return nb


@pytest.fixture
def notebook(work: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = work / "analysis.ipynb"
    nbformat.write(_notebook(CELLS), path)
    monkeypatch.setenv(tracking.NOTEBOOK_PATH_ENV, str(path))
    return path


def test_notebook_is_tracked_as_a_notebook(notebook: Path) -> None:
    executed = _execute(notebook)
    transform = ln.Transform.get(key="analysis.ipynb")
    assert (transform.type, transform.name, transform.version) == (
        "notebook",
        "My analysis",
        "1",
    )
    (run,) = transform.runs
    assert run.is_consecutive is True and run.finished_at is not None
    assert {pv.param.name: pv.value for pv in run.param_values} == {"k": 1}
    output = ln.Artifact.get(description="notebook output")
    assert output.run_id == run.id and output.transform_id == transform.id
    # the cell's stream outputs: the save's log line, then what it printed
    text = "".join(o.get("text", "") for o in executed.cells[2].outputs)
    assert f"storing artifact '{output.uid}'" in text
    assert f"saved {output.uid}" in text
    outputs = executed.cells[4].outputs
    shown = [o for o in outputs if o["output_type"] == "display_data"]
    if shutil.which("dot"):  # displayed inline, nothing returned
        assert len(shown) == 1 and "image/svg+xml" in shown[0]["data"]
    else:  # the DOT text, with the hint where the file is (once)
        assert len(shown) == 1 and "text/vnd.graphviz" in shown[0]["data"]
        assert shown[0]["data"]["text/plain"].startswith('digraph "lineage" {')
        said = "".join(o.get("text", "") for o in outputs)
        assert "graphviz's dot is not installed" in said and ".dot" in said
    assert not [o for o in outputs if o["output_type"] == "execute_result"]
    # the source is the notebook without outputs; the environment is pip freeze
    source = json.loads(Path(transform.source_code.cache()).read_text())
    assert ["".join(c["source"]) for c in source["cells"]] == [s for _, s in CELLS]
    assert all(c.get("outputs", []) == [] for c in source["cells"])
    assert transform.source_code.visibility == 0
    assert run.environment is not None
    has_nbconvert = _has("nbconvert")
    if has_nbconvert:
        assert run.report_id is not None and run.report.suffix == ".html"
        assert transform.latest_report_id == run.report_id
        assert run.report.visibility == 0
    else:
        assert run.report_id is None

    # re-running the unchanged notebook re-uses its transform and its run
    _execute(notebook)
    assert ln.Transform.filter(key="analysis.ipynb").count() == 1
    again = ln.Run.filter(transform=transform).one()
    assert again.id == run.id and again.started_at >= run.started_at

    # saving the executed notebook and `save_source` it (lamin-sa save NB)
    nbformat.write(executed, notebook)
    assert tracking.save_source(notebook).id == transform.id
    # outputs and execution metadata are not source: the same source artifact
    assert ln.Transform.get(transform.uid).source_code_id == transform.source_code_id
    if has_nbconvert:
        saved = ln.Run.get(run.uid)
        report = Path(saved.report.cache()).read_text()
        assert f"saved {output.uid}" in report
        assert ln.Transform.get(transform.uid).latest_report_id == saved.report_id


def test_edited_notebook_is_a_new_version(notebook: Path) -> None:
    _execute(notebook)
    nb = nbformat.read(notebook, as_version=4)
    nb.cells.insert(3, nbformat.v4.new_code_cell("x = 1"))
    nbformat.write(nb, notebook)
    _execute(notebook)
    family = ln.Transform.filter(key="analysis.ipynb").order_by("version").list()
    assert [t.version for t in family] == ["1", "2"]
    assert family[0].stem_uid == family[1].stem_uid
    assert [t.is_latest for t in family] == [False, True]


# ---- headless runners in a subprocess, without $LAMIN_SA_NOTEBOOK_PATH ----------

HEADLESS_CELLS = [
    ("markdown", "# Headless analysis"),
    ("code", "k = 1"),  # papermill's parameters cell
    ("code", "import lamin_sa as ln\n\nln.track(params={'k': k})"),
    (
        "code",
        "from pathlib import Path\n\n"
        "Path('headless.txt').write_text(f'k={k}')\n"
        "artifact = ln.Artifact('headless.txt', description='headless output')"
        ".save()",
    ),
    ("code", "ln.finish()"),
]

# paths come from the environment: the runner's command line names no notebook
_NBCLIENT_SCRIPT = """
import os
import nbclient, nbformat
nb = nbformat.read(os.environ["NB_IN"], as_version=4)
client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                 resources={"metadata": {"path": os.environ["NB_CWD"]}})
client.execute()
nbformat.write(nb, os.environ["NB_OUT"])
"""


def _nbclient(
    path: Path, kernel_cwd: Path, out: Path
) -> tuple[list[str], dict[str, str]]:
    import sys

    return [sys.executable, "-c", _NBCLIENT_SCRIPT], {
        "NB_IN": str(path),
        "NB_CWD": str(kernel_cwd),
        "NB_OUT": str(out),
    }


def _headless_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    import os

    monkeypatch.delenv(tracking.NOTEBOOK_PATH_ENV, raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    return dict(os.environ)


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> Any:
    import subprocess

    result = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return result


def _bin(name: str) -> str:
    import sys

    path = Path(sys.executable).parent / name
    if not path.exists():
        pytest.skip(f"{name} is not installed")
    return str(path)


def _headless_notebook(folder: Path, cells: list[tuple[str, str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    nb = _notebook(cells)
    nb.cells[1].metadata["tags"] = ["parameters"]
    path = folder / "headless.ipynb"
    nbformat.write(nb, path)
    return path


def _assert_tracked(path: Path, k: int) -> Any:
    transform = ln.Transform.get(key="headless.ipynb")
    assert (transform.type, transform.name) == ("notebook", "Headless analysis")
    run = ln.Run.filter(transform=transform).order_by("-started_at").first()
    assert {pv.param.name: pv.value for pv in run.param_values} == {"k": k}
    output = ln.Artifact.filter(description="headless output").order_by("-id").first()
    assert output.run_id == run.id and output.transform_id == transform.id
    assert run.finished_at is not None and run.environment_id is not None
    # the stored source is the input notebook's, without papermill's cell
    source = json.loads(Path(transform.source_code.cache()).read_text())
    assert ["".join(c["source"]) for c in source["cells"]] == [
        s for _, s in HEADLESS_CELLS
    ]
    return transform


def test_nbconvert_execute_finds_the_notebook(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = _headless_env(monkeypatch)
    path = _headless_notebook(work / "nbs", HEADLESS_CELLS)
    # run from the parent folder with a relative path, as users type it
    args = [_bin("jupyter"), "nbconvert", "--to", "notebook", "--execute"]
    _run([*args, "nbs/headless.ipynb", "--output", "executed.ipynb"], work, env)
    _assert_tracked(path, 1)
    assert (work / "nbs" / "executed.ipynb").exists()


def test_papermill_finds_the_input_notebook(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = _headless_env(monkeypatch)
    path = _headless_notebook(work / "nbs", HEADLESS_CELLS)
    papermill = _bin("papermill")
    _run([papermill, "headless.ipynb", "out.ipynb", "-p", "k", "2"], path.parent, env)
    transform = _assert_tracked(path, 2)
    # the output notebook (with the injected cell) is not a transform
    assert ln.Transform.filter(key="out.ipynb").count() == 0
    assert ln.Transform.filter(key="headless.ipynb").count() == 1
    assert transform.version == "1"


def test_nbclient_finds_the_notebook_in_its_folder(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    env = _headless_env(monkeypatch)
    path = _headless_notebook(work / "nbs", HEADLESS_CELLS)
    out = work / "out.ipynb"
    script, paths = _nbclient(path, path.parent, out)
    _run(script, work, {**env, **paths})
    _assert_tracked(path, 1)


def test_pasted_uid_works_without_the_file(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    from lamin_sa.db.uid import hash_to_uid

    env = _headless_env(monkeypatch)
    pinned = [
        ("markdown", "# Pinned analysis"),
        (
            "code",
            "import lamin_sa as ln\n\n"
            "ln.settings.transform.stem_uid = 'FPnfDtJz8qbE'\n"
            "ln.settings.transform.version = '1'\n"
            "ln.track()",
        ),
        (
            "code",
            "from pathlib import Path\n\n"
            "Path('pinned.txt').write_text('pinned')\n"
            "ln.Artifact('pinned.txt', description='pinned output').save()",
        ),
        ("code", "ln.finish()"),
    ]
    path = _headless_notebook(work / "nbs", pinned)
    elsewhere = work / "elsewhere"  # the kernel's folder holds no notebook
    elsewhere.mkdir()
    out = work / "out.ipynb"
    script, paths = _nbclient(path, elsewhere, out)
    _run(script, work, {**env, **paths})
    transform = ln.Transform.get("FPnfDtJz8qbE" + hash_to_uid("1", 4))
    assert (transform.type, transform.version) == ("notebook", "1")
    assert transform.name == "notebook in elsewhere"
    assert transform.source_code_id is None  # no file to save
    output = ln.Artifact.get(description="pinned output")
    assert output.transform_id == transform.id and output.run_id is not None
    assert ln.Run.get(id=output.run_id).finished_at is not None
    # the kernel said what it did, visibly
    executed = nbformat.read(out, as_version=4)
    said = "".join(o.get("text", "") for o in executed.cells[1].outputs)
    assert "cannot find this notebook's file" in said
    assert transform.uid in said and "'notebook in elsewhere'" in said


def test_unfound_notebook_without_pasted_uid_says_what_to_do(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    env = _headless_env(monkeypatch)
    path = _headless_notebook(work / "nbs", HEADLESS_CELLS)
    elsewhere = work / "elsewhere"
    elsewhere.mkdir()
    script, paths = _nbclient(path, elsewhere, work / "out.ipynb")
    result = subprocess.run(
        script,
        cwd=work,
        env={**env, **paths},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode != 0
    assert "TransformNotFound" in result.stderr
    assert "ln.track(path=" in result.stderr and "stem_uid" in result.stderr
    assert ln.Transform.filter(type="notebook").count() == 0


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None
