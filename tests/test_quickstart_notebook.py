"""examples/quickstart.ipynb runs headless (nbclient) and shows what the seed shows.

The notebook is executed once per module in a fresh folder with its own
LAMIN_SA_HOME; its first cell runs the installed ``lamin-sa`` script (``!lamin-sa
init``), as the seed's ``!lamin init`` does. Assertions are on the outputs a user
sees, cell by cell.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "quickstart.ipynb"


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("quickstart_nb")
    path = folder / "quickstart.ipynb"
    shutil.copy(NOTEBOOK, path)
    saved = dict(os.environ)
    os.environ["LAMIN_SA_HOME"] = str(folder / "home")
    os.environ["PATH"] = (
        f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    )
    for name in ("LAMIN_SA_NOTEBOOK_PATH", "JPY_SESSION_NAME", "LAMIN_SA_CACHE_DIR"):
        os.environ.pop(name, None)
    try:
        nb = nbformat.read(path, as_version=4)
        client = nbclient.NotebookClient(
            nb,
            timeout=600,
            kernel_name="python3",
            resources={"metadata": {"path": str(folder)}},
        )
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return nb, folder


def _cell(nb: Any, marker: str) -> Any:
    """The code cell whose source contains ``marker`` (exactly one)."""
    found = [c for c in nb.cells if c.cell_type == "code" and marker in c.source]
    assert len(found) == 1, marker
    return found[0]


def _text(cell: Any) -> str:
    """What the user reads: streams and the plain-text of results and displays."""
    parts = []
    for out in cell.outputs:
        if out["output_type"] == "stream":
            parts.append(out["text"])
        elif out["output_type"] in ("execute_result", "display_data"):
            parts.append(out["data"].get("text/plain", ""))
        elif out["output_type"] == "error":
            parts.append(f"{out['ename']}: {out['evalue']}")
    return "".join(parts)


def _data(cell: Any, mime: str) -> list[str]:
    return [
        out["data"][mime]
        for out in cell.outputs
        if out["output_type"] in ("execute_result", "display_data")
        and mime in out["data"]
    ]


def test_no_cell_fails_and_no_widget_warning(executed: Any) -> None:
    nb, _ = executed
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        assert not [o for o in cell.outputs if o["output_type"] == "error"], cell.source
        assert "IProgress not found" not in _text(cell)


def test_init_and_track(executed: Any) -> None:
    nb, folder = executed
    assert "connected lamin-sa: lamin-intro" in _text(_cell(nb, "!lamin-sa init"))
    assert (folder / "lamin-intro" / ".lamindb" / "lamin.db").exists()
    import lamin_sa as ln

    ln.connect(str(folder / "lamin-intro"))
    try:
        transform = ln.Transform.get("FPnfDtJz8qbE5zKv")
        assert (transform.name, transform.key, transform.type) == (
            "Introduction",
            "quickstart.ipynb",
            "notebook",
        )
        # ln.finish() saved the notebook's source, environment and report
        (run,) = transform.runs
        assert run.finished_at is not None and run.environment_id is not None
        assert transform.source_code_id is not None
        artifact = ln.Artifact.filter(description="my RNA-seq").first()
        assert artifact.transform_id == transform.id and artifact.run_id == run.id
    finally:
        ln.close()


def test_default_verbosity_log_lines(executed: Any) -> None:
    nb, _ = executed
    tracked = _text(_cell(nb, "ln.track()"))
    assert "💡 saved: Transform(" in tracked and "uid='FPnfDtJz8qbE5zKv'" in tracked
    assert "💡 saved: Run(" in tracked
    added = _text(_cell(nb, "annotate.add_new_from_columns()"))
    assert "✅ added 3 records with Feature.name for columns:" in added
    assert "✅ added 2 records with ULabel.name for perturbation:" in added
    validated = _text(_cell(nb, "annotate.save_artifact("))
    assert "✅ perturbation is validated against ULabel.name" in validated
    assert "🐛" not in "".join(_text(c) for c in nb.cells if c.cell_type == "code")


def test_artifact_cells(executed: Any) -> None:
    nb, _ = executed
    cell = _cell(nb, "artifact.save()")
    saved = _text(cell)
    assert "Artifact(" in saved and "description='my RNA-seq'" in saved
    assert "✅ storing artifact '" in saved and "/lamin-intro/.lamindb/" in saved
    # describe() mid-cell renders (HTML) and returns None, as in the seed
    shown, record = _data(cell, "text/html")
    assert "<b>Provenance:</b>" in shown and "📎 transform: Transform(" in shown
    # the saved artifact, the cell's value, renders as a compact field table
    assert "<b>Artifact</b>" in record and "my RNA-seq" in record
    assert "<table" in record
    assert "Provenance:\n  📎 created_by: User(" in saved
    loaded = _cell(nb, "artifact.load()")
    assert "observation1" in _text(loaded) and _data(loaded, "text/html")


def test_labels_and_queries(executed: Any) -> None:
    nb, _ = executed
    labels = _cell(nb, "# the ULabel registry")
    assert "Candidate marker study" in _text(labels)
    queried = _text(_cell(nb, "ulabels=candidate_marker_study).all()"))
    assert "QuerySet[Artifact]" in queried and "my RNA-seq" in queried


def test_validate_and_annotate(executed: Any) -> None:
    nb, _ = executed
    first = _text(_cell(nb, "doesn't validate because"))
    assert "2 terms are not validated: 'DMSO', 'IFNG'" in first
    assert "→ save terms via .add_new_from('perturbation')" in first
    assert first.rstrip().endswith("False")
    cell = _cell(nb, "annotate.save_artifact(")
    annotated = _text(cell)
    for block in ("Provenance:", "Features:", "Labels:"):
        assert block in annotated
        assert f"<b>{block}</b>" in _data(cell, "text/html")[0]
    assert not [o for o in cell.outputs if o["output_type"] == "execute_result"]
    assert "🔗 perturbation (4, cat[ULabel]): 'DMSO', 'IFNG'" in annotated
    assert "📎 transform: Transform(version='1', uid='FPnfDtJz8qbE5zKv'" in annotated
    one = _text(_cell(nb, "ln.Artifact.filter(ulabels=ulabels.ifng).one()"))
    assert one.startswith("Artifact(") and "description='my RNA-seq'" in one


def test_lineage_pictures(executed: Any) -> None:
    nb, _ = executed
    first = _cell(nb, "artifact.view_lineage()")
    second = _cell(nb, "collection.view_lineage()")
    if shutil.which("dot"):
        for cell in (first, second):
            (svg,) = _data(cell, "image/svg+xml")
            assert "<svg" in svg
    else:  # the DOT text inline; where the file is and how to get pictures, once
        for cell in (first, second):
            (dot,) = _data(cell, "text/vnd.graphviz")
            assert dot.startswith('digraph "lineage" {')
        assert "graphviz's dot is not installed" in _text(first)
        assert "install graphviz" in _text(first) and ".dot" in _text(first)
        assert "dot is not installed" not in _text(second)
    for cell in (first, second):
        assert not [o for o in cell.outputs if o["output_type"] == "execute_result"]
