"""The source of a script or notebook: its key, hash, name, stored copies.

- **key**: the file's path relative to its git repository root (``git
  rev-parse --show-toplevel`` run in the file's folder), else the file name.
- **source hash**: a script's file hash (:func:`lamin_sa.storage.hashing.hash_file`);
  for a notebook the hash of its cells' types and sources only, so that
  executing it (new outputs, execution counts) does not change it.
- **name**: a notebook's first ``# title``, else the file name.

``ln.finish()`` stores the source (notebooks without outputs) and a notebook's
HTML report as hidden artifacts.
"""

from __future__ import annotations

import io
import json
import logging
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lamin_sa.config import HINT
from lamin_sa.errors import TransformNotFound

if TYPE_CHECKING:
    from lamin_sa.models.core import Artifact, Run, Transform

logger = logging.getLogger(__name__)

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def caller_path() -> Path:
    """The file of the first frame outside lamin_sa (the calling script)."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename.startswith("<"):
            break
        path = Path(filename).resolve()
        if not path.is_relative_to(_PACKAGE_DIR):
            return path
        frame = frame.f_back  # type: ignore[assignment]
    raise TransformNotFound(
        "Cannot identify the calling script (interactive session?): pass "
        "ln.track(path='script.py'), or ln.track(transform=ln.Transform(name=...)) "
        "for a pipeline."
    )


def transform_key(path: Path) -> str:
    """The path relative to the git repository root, else the file name."""
    path = path.resolve()
    git = shutil.which("git")
    if git is not None:
        try:
            out = subprocess.run(
                [git, "rev-parse", "--show-toplevel"],
                cwd=path.parent,
                capture_output=True,
                text=True,
                timeout=30,
            )
        except (OSError, subprocess.SubprocessError):
            out = None
        if out is not None and out.returncode == 0 and out.stdout.strip():
            root = Path(out.stdout.strip()).resolve()
            if path.is_relative_to(root):
                return path.relative_to(root).as_posix()
    return path.name


def read_notebook(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]
    except (OSError, ValueError) as e:
        raise TransformNotFound(f"Cannot read notebook {path}: {e}") from e


def cell_source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def source_hash(path: Path) -> str:
    """The hash identifying a script's or notebook's source.

    Scripts: the file hash. Notebooks: the hash of the cells' types and sources
    (outputs, execution counts and metadata are ignored).
    """
    from lamin_sa.storage.hashing import hash_file

    if path.suffix == ".ipynb":
        cells = [
            [cell.get("cell_type", ""), cell_source(cell)]
            for cell in read_notebook(path).get("cells", [])
        ]
        payload = json.dumps(cells, ensure_ascii=False, separators=(",", ":"))
        return hash_file(io.BytesIO(payload.encode("utf-8")))[0]
    return hash_file(path)[0]


def notebook_title(path: Path) -> str | None:
    for cell in read_notebook(path).get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        for line in cell_source(cell).splitlines():
            match = re.match(r"^#\s+(.+?)\s*$", line)
            if match:
                return match.group(1)[:150]
    return None


@dataclass
class Source:
    path: Path
    key: str
    name: str
    type: str
    hash: str


def describe_source(path: Path) -> Source:
    path = path.expanduser().resolve()
    if not path.is_file():
        raise TransformNotFound(f"{path} is not a file.")
    is_notebook = path.suffix == ".ipynb"
    key = transform_key(path)
    if len(key) > 120:
        key = path.name
    name = (notebook_title(path) if is_notebook else None) or path.name
    return Source(
        path=path,
        key=key,
        name=name,
        type="notebook" if is_notebook else "script",
        hash=source_hash(path),
    )


def hidden_artifact(path: Path, description: str) -> Artifact:
    """A hidden artifact of ``path``; a stored one with its hash is re-used."""
    from lamin_sa.models.core import Artifact
    from lamin_sa.storage.hashing import hash_file

    hash_ = hash_file(path)[0]
    existing = Artifact.filter(hash=hash_, visibility__in=[0, 1]).first()
    if existing is not None:
        return existing  # type: ignore[no-any-return]
    artifact = Artifact(
        path, description=description, visibility=0, skip_check_exists=True
    )
    return artifact.save()


def stripped_notebook(path: Path, target: Path) -> Path:
    """Write the notebook's source to ``target``: no outputs, no run metadata.

    Kept: cells (type, id, source, tags), the kernelspec and nbformat versions,
    so that executing a notebook never changes its stored source.
    """
    notebook = read_notebook(path)
    cells = []
    for cell in notebook.get("cells", []):
        clean: dict[str, Any] = {"cell_type": cell.get("cell_type", "code")}
        if "id" in cell:
            clean["id"] = cell["id"]
        tags = (cell.get("metadata") or {}).get("tags")
        clean["metadata"] = {"tags": tags} if tags else {}
        clean["source"] = cell.get("source", "")
        if clean["cell_type"] == "code":
            clean["execution_count"] = None
            clean["outputs"] = []
        cells.append(clean)
    metadata = notebook.get("metadata") or {}
    out = {
        "cells": cells,
        "metadata": {k: metadata[k] for k in ("kernelspec",) if k in metadata},
        "nbformat": notebook.get("nbformat", 4),
        "nbformat_minor": notebook.get("nbformat_minor", 5),
    }
    target.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    return target


def save_source_code(transform: Transform, path: Path) -> Artifact:
    from lamin_sa.config import switches as settings

    description = f"Source of transform {transform.uid}"
    current = transform.source_code
    if path.suffix == ".ipynb":
        folder = settings.cache_dir / f"source_{transform.uid}"
        folder.mkdir(parents=True, exist_ok=True)
        try:
            file = stripped_notebook(path, folder / path.name)
            artifact = hidden_artifact(file, description)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    else:
        artifact = hidden_artifact(path, description)
    if current is not None and current.id != artifact.id:
        logger.warning(
            "source code of transform %s changed since it was saved; stored the "
            "new source as %s",
            transform.uid,
            artifact.uid,
        )
    return artifact


def save_report(run: Run, path: Path) -> Artifact | None:
    """An HTML report of the notebook (needs nbconvert), else None."""
    from lamin_sa.config import switches as settings

    try:
        from nbconvert import HTMLExporter
    except ImportError:
        logger.log(HINT, "install nbconvert to save an HTML report of the notebook")
        return None
    try:
        html, _ = HTMLExporter().from_filename(str(path))
    except Exception as e:  # a notebook nbconvert cannot render
        logger.warning("could not render %s as HTML: %s", path.name, e)
        return None
    file = settings.cache_dir / f"report_{run.uid}.html"
    file.write_text(html, encoding="utf-8")
    try:
        return hidden_artifact(file, f"Report of run {run.uid}")
    finally:
        file.unlink(missing_ok=True)
