"""Progress on long work, as a user sees it in a fresh process (stderr): folders
by file count (local and S3), downloads into the cache, the finishing steps of an
S3 upload, bulk saves and ontology imports."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import BACKENDS, PG_URL, reset_postgres
from tests.s3_server import s3_bucket, s3_server  # noqa: F401

SCRIPT = Path(sys.executable).with_name("lamin-sa")


def _python(tmp_path: Path, code: str, *args: str) -> str:
    (tmp_path / "work.py").write_text(textwrap.dedent(code))
    result = subprocess.run(
        [sys.executable, "work.py", *args],
        cwd=tmp_path,
        env={**os.environ, "LAMIN_SA_HOME": str(tmp_path / "home")},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stderr


def _db(backend: str) -> str:
    if backend == "sqlite":
        return ""
    assert PG_URL is not None
    reset_postgres(PG_URL)
    return PG_URL


@pytest.mark.parametrize("backend", BACKENDS)
def test_local_folder_of_many_files_and_bulk_save(tmp_path, backend) -> None:
    err = _python(
        tmp_path,
        """
        import sys
        from pathlib import Path
        import lamin_sa as ln

        ln.init(storage="./data", db=sys.argv[1] or None, name="many")
        folder = Path("images")
        folder.mkdir()
        for i in range(600):  # above progress.MIN_FILES, tiny in bytes
            (folder / f"{i}.txt").write_text(str(i))
        print("FOLDER", file=sys.stderr)
        ln.Artifact(folder, description="images").save()
        print("SMALL", file=sys.stderr)
        small = Path("few")
        small.mkdir()
        for i in range(3):
            (small / f"{i}.txt").write_text(str(i))
        ln.Artifact(small, description="few").save()
        print("BULK", file=sys.stderr)
        ln.save([ln.ULabel(name=f"label {i}") for i in range(5000)])
        print("DONE", file=sys.stderr)
        """,
        _db(backend),
    )
    folder = err.split("FOLDER", 1)[1].split("SMALL", 1)[0]
    assert "copying images/:   0%" in folder and "| 0/600 [" in folder
    small = err.split("SMALL", 1)[1].split("BULK", 1)[0]
    assert "copying" not in small  # a small folder shows no bar
    bulk = err.split("BULK", 1)[1].split("DONE", 1)[0]
    assert "saving 5000 records: looking up stored records" in bulk
    assert "saving 5000 records: committing" in bulk and "3/3 steps" in bulk


def test_s3_folder_upload_finishing_and_downloads(tmp_path, s3_bucket) -> None:  # noqa: F811
    err = _python(
        tmp_path,
        """
        import shutil, sys
        from pathlib import Path
        import lamin_sa as ln
        from lamin_sa import progress

        # the real thresholds are 500 files and 64 MiB: smaller work here
        progress.MIN_FILES, progress.MIN_BYTES = 100, 2**20
        ln.init(storage=sys.argv[1], name="s3lab")
        folder = Path("images")
        folder.mkdir()
        for i in range(120):
            (folder / f"{i}.txt").write_text(str(i))
        print("FOLDER", file=sys.stderr)
        images = ln.Artifact(folder, description="images").save()
        print("FILE", file=sys.stderr)
        Path("big.bin").write_bytes(b"x" * (3 * 2**20))
        big = ln.Artifact("big.bin", description="big").save()
        shutil.rmtree(ln.settings.cache_dir)  # nothing cached: cache() downloads
        print("DOWNLOAD", file=sys.stderr)
        path = big.cache()
        assert path.stat().st_size == 3 * 2**20
        print("DIRDOWNLOAD", file=sys.stderr)
        assert len(list(images.cache().iterdir())) == 120
        print("AGAIN", file=sys.stderr)
        big.cache()  # fresh in the cache: no bar
        print("DONE", file=sys.stderr)
        """,
        s3_bucket,
    )
    part = dict(
        zip(
            ["pre", "folder", "file", "download", "dirdownload", "again"],
            _split(err, ["FOLDER", "FILE", "DOWNLOAD", "DIRDOWNLOAD", "AGAIN", "DONE"]),
            strict=False,
        )
    )
    assert "uploading images/:   0%" in part["folder"]
    assert "| 0/120 [" in part["folder"]
    assert "finishing upload: moving files into s3://" in part["folder"]
    assert part["folder"].count("| 0/120 [") == 2
    assert "copying big.bin" in part["file"] or "uploading big.bin" in part["file"]
    assert "finishing upload of big.bin: completing the upload" in part["file"]
    assert "finishing upload: s3://" in part["file"]
    assert ".bin: moving into place [0/2 steps" in part["file"]
    assert ".bin: cleaning up [1/2 steps" in part["file"]
    # the object's name in storage: the artifact's uid
    assert ".bin:   0%" in part["download"] and "downloading " in part["download"]
    assert "/3.00M [" in part["download"]
    assert "/:   0%" in part["dirdownload"] and "downloading " in part["dirdownload"]
    assert "| 0/120 [" in part["dirdownload"]
    assert "downloading" not in part["again"]


def _split(text: str, markers: list[str]) -> list[str]:
    out = []
    for marker in markers:
        head, text = text.split(marker, 1)
        out.append(head)
    return out


OBO = """format-version: 1.4
data-version: releases/2024-01-01

[Term]
id: CL:0000000
name: cell

[Term]
id: CL:0000001
name: T cell
is_a: CL:0000000 ! cell
"""


def test_ontology_import_shows_its_steps(tmp_path) -> None:
    env = {**os.environ, "LAMIN_SA_HOME": str(tmp_path / "home")}
    (tmp_path / "mini-cl.obo").write_text(OBO)
    init = subprocess.run(
        [
            str(SCRIPT),
            "init",
            "--storage",
            str(tmp_path / "data"),
            "--modules",
            "bionty",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert init.returncode == 0, init.stderr
    result = subprocess.run(
        [
            str(SCRIPT),
            "ontology",
            "import",
            "celltype",
            "--file",
            str(tmp_path / "mini-cl.obo"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "celltype: 2 new" in result.stdout
    assert "importing CellType from " in result.stderr
    assert ": parsing" in result.stderr
    assert ": writing terms and parent links" in result.stderr
    assert "2/2 steps" in result.stderr
