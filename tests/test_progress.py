"""Long copies draw a progress bar on stderr; small ones and verbosity=error don't."""

from __future__ import annotations

import logging

from lamin_sa import progress
from lamin_sa.storage import stage


def _copy(tmp_path, name: str) -> None:
    src = tmp_path / name
    src.write_bytes(b"x" * 4096)
    staged = stage(src, tmp_path / "root", f"data/{name}")
    staged.commit()
    assert (tmp_path / "root" / "data" / name).read_bytes() == b"x" * 4096


def test_bar_for_long_copies_only(tmp_path, capsys, monkeypatch):
    _copy(tmp_path, "small.bin")
    assert "copying" not in capsys.readouterr().err
    monkeypatch.setattr(progress, "MIN_BYTES", 1024)
    _copy(tmp_path, "large.bin")
    assert "copying large.bin" in capsys.readouterr().err


def test_no_bar_when_verbosity_is_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(progress, "MIN_BYTES", 1024)
    log = logging.getLogger("lamin_sa")
    before = log.level
    log.setLevel(logging.ERROR)  # ln.settings.verbosity = "error"
    try:
        _copy(tmp_path, "quiet.bin")
    finally:
        log.setLevel(before)
    assert "copying" not in capsys.readouterr().err


def test_folder_bar(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(progress, "MIN_BYTES", 10)
    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(5):
        (folder / f"{i}.txt").write_text("data" * 10)
    stage(folder, tmp_path / "root", "images").commit()
    assert "copying images/" in capsys.readouterr().err


def _run_cells(sources: list[str]):
    import pytest

    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    return nb


_BAR = (
    "from lamin_sa import progress\n"
    "update = progress.progress_bar(1000, 'uploading folder', unit='file')\n"
    "update(1000)"
)


def test_jupyter_bar_without_widgets_is_plain_text():
    nb = _run_cells(["import sys\nsys.modules['ipywidgets'] = None", _BAR])
    outputs = nb.cells[1].outputs
    text = "".join(o.get("text", "") for o in outputs)
    assert "uploading folder:" in text and "/1000" in text and "file/s" in text
    assert "IProgress not found" not in text
    assert all(o["output_type"] == "stream" for o in outputs)


def test_jupyter_bar_with_widgets_is_a_widget():
    import importlib.util

    import pytest

    if importlib.util.find_spec("ipywidgets") is None:
        pytest.skip("the jupyter extra is not installed")
    nb = _run_cells([_BAR])
    outputs = nb.cells[0].outputs
    assert "IProgress not found" not in "".join(o.get("text", "") for o in outputs)
    widgets = [
        o
        for o in outputs
        if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]
    assert widgets
