"""Which notebook file a Jupyter kernel is running, also when run headless.

Looked for in this order (the first that exists wins):

1. VS Code's ``__vsc_ipynb_file__``, ``$LAMIN_SA_NOTEBOOK_PATH`` and Jupyter
   server's ``$JPY_SESSION_NAME`` (JupyterLab, Notebook 7).
2. ``.ipynb`` arguments on the command line of the process that started the
   kernel (``jupyter nbconvert --execute x.ipynb``, ``papermill in.ipynb
   out.ipynb``, ``jupyter execute x.ipynb``), resolved against that process's
   working directory, that contain the running cell.
3. ``.ipynb`` files in the kernel's working directory (nbconvert, nbclient and
   papermill start the kernel in the notebook's folder by default) that
   contain the running cell.

A notebook written by papermill (``metadata.papermill.input_path``) stands for
its input notebook: the transform is the code that was run, not its output.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from lamin_sa.display import ipython_kernel

logger = logging.getLogger(__name__)

#: environment variable naming the notebook file (headless runs, tests).
NOTEBOOK_PATH_ENV = "LAMIN_SA_NOTEBOOK_PATH"
_MAX_FOLDER_NOTEBOOKS = 200
_MAX_ANCESTORS = 3

__all__ = ["NOTEBOOK_PATH_ENV", "find_notebook", "ipython_kernel", "notebook_name_hint"]


def _normalized(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def _executed_cells(shell: Any) -> list[str]:
    """The kernel's executed cells, oldest first; the last one is running."""
    history = getattr(getattr(shell, "history_manager", None), "input_hist_raw", None)
    if not history:
        history = shell.user_ns.get("In") or []
    return [_normalized(c) for c in history if c and c.strip()]


def _code_cells(path: Path) -> list[str] | None:
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    cells = []
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code":
            source = cell.get("source", "")
            cells.append(
                _normalized("".join(source) if isinstance(source, list) else source)
            )
    return cells


def _papermill_input(path: Path) -> Path | None:
    """The input notebook of a papermill output notebook, if it exists."""
    try:
        meta = json.loads(path.read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, ValueError):
        return None
    input_path = (meta.get("papermill") or {}).get("input_path")
    if not input_path:
        return None
    candidate = Path(input_path).expanduser()
    if not candidate.is_absolute():
        candidate = path.parent / candidate
    candidate = candidate.resolve()
    return candidate if candidate.is_file() and candidate != path else None


def _score(path: Path, executed: list[str]) -> int:
    """How many executed cells ``path`` holds, in order; -1: not the running one."""
    cells = _code_cells(path)
    if not cells or not executed or executed[-1] not in cells:
        return -1
    matched, position = 0, 0
    for source in executed:
        try:
            position = cells.index(source, position) + 1
            matched += 1
        except ValueError:
            continue  # e.g. papermill's injected parameters cell
    return matched


def _process_info(pid: int) -> tuple[list[str], Path, int] | None:
    """Command line, working directory and parent pid of a process (Linux)."""
    proc = Path("/proc") / str(pid)
    try:
        argv = (proc / "cmdline").read_bytes().split(b"\0")
        cwd = Path(os.readlink(proc / "cwd"))
        stat = (proc / "stat").read_text()
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return [a.decode(errors="replace") for a in argv if a], cwd, ppid


def _runner_notebooks() -> tuple[list[Path], list[str]]:
    """``.ipynb`` arguments of the processes that started this kernel.

    Returns:
        The existing files, and the names of all ``.ipynb`` arguments (a hint
        for naming a transform whose file cannot be found).
    """
    found: list[Path] = []
    names: list[str] = []
    pid = os.getppid()
    for _ in range(_MAX_ANCESTORS):
        if pid <= 1:
            break
        info = _process_info(pid)
        if info is None:
            break
        argv, cwd, pid = info
        for arg in argv[1:]:
            value = arg.split("=", 1)[-1]
            if not value.endswith(".ipynb"):
                continue
            names.append(Path(value).name)
            path = Path(value).expanduser()
            path = (path if path.is_absolute() else cwd / path).resolve()
            if path.is_file() and path not in found:
                found.append(path)
    return found, names


def _folder_notebooks(folder: Path) -> list[Path]:
    try:
        paths = sorted(folder.glob("*.ipynb"))
    except OSError:
        return []
    return [p.resolve() for p in paths[:_MAX_FOLDER_NOTEBOOKS] if p.is_file()]


def _best(candidates: list[Path], executed: list[str]) -> Path | None:
    scored = []
    for path in dict.fromkeys(candidates):
        score = _score(path, executed)
        if score < 0:
            continue
        scored.append((score, path.stat().st_mtime, path))
    if not scored:
        return None
    scored.sort(key=lambda item: (item[0], item[1]), reverse=True)
    best = scored[0][2]
    return _papermill_input(best) or best


def find_notebook(shell: Any) -> Path | None:
    """The running notebook's file, or None if it cannot be found.

    Args:
        shell: The IPython kernel shell (:func:`ipython_kernel`).

    Example:
        >>> find_notebook(ipython_kernel())  # doctest: +SKIP
        PosixPath('/home/me/analysis.ipynb')
    """
    explicit = [
        shell.user_ns.get("__vsc_ipynb_file__"),
        os.environ.get(NOTEBOOK_PATH_ENV),
        os.environ.get("JPY_SESSION_NAME"),
    ]
    for candidate in explicit:
        if not candidate:
            continue
        path = Path(str(candidate)).expanduser()
        if path.suffix == ".ipynb" and path.is_file():
            return path.resolve()
    executed = _executed_cells(shell)
    runner, _ = _runner_notebooks()
    found = _best(runner, executed) or _best(_folder_notebooks(Path.cwd()), executed)
    if found is not None:
        logger.debug("found the running notebook: %s", found)
    return found


def notebook_name_hint() -> str | None:
    """A name for a notebook whose file was not found (the runner's argument)."""
    explicit = os.environ.get(NOTEBOOK_PATH_ENV) or os.environ.get("JPY_SESSION_NAME")
    if explicit and explicit.endswith(".ipynb"):
        return Path(explicit).name
    _, names = _runner_notebooks()
    return names[0] if names else None
