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
    assert f"saved {output.uid}" in executed.cells[2].outputs[0]["text"]
    outputs = executed.cells[4].outputs
    shown = [o for o in outputs if o["output_type"] == "display_data"]
    if shutil.which("dot"):  # displayed inline, nothing returned
        assert len(shown) == 1 and "image/svg+xml" in shown[0]["data"]
    else:
        assert shown == []
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


def test_notebook_without_a_known_path(
    notebook: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(tracking.NOTEBOOK_PATH_ENV)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    with pytest.raises(nbclient.exceptions.CellExecutionError) as info:
        _execute(notebook)
    assert "TransformNotFound" in str(info.value) and "path=" in str(info.value)


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None
