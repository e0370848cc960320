"""The environment snapshot of ln.finish() without pip (importlib.metadata).

The script runs in a virtual environment made with ``--without-pip`` that sees
the test interpreter's packages through a ``.pth`` file, with ``pip`` shadowed
so that ``python -m pip`` fails there as in a pip-less environment.
"""

from __future__ import annotations

import os
import subprocess
import sysconfig
import venv
from importlib import metadata
from pathlib import Path

import lamin_sa as ln
from lamin_sa.lineage.environment import installed_distributions, requirements_text
from tests import test_lineage

work = test_lineage.work

SCRIPT = """
import lamin_sa as ln
ln.track()
ln.finish()
"""


def _pipless_python(folder: Path) -> Path:
    venv.EnvBuilder(with_pip=False).create(folder)
    python = folder / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    site = Path(purelib)
    (site / "pip").mkdir()
    (site / "pip" / "__init__.py").write_text("raise ImportError('no pip here')\n")
    # addsitedir also runs the host's .pth files (the editable install)
    host = sysconfig.get_path("purelib")
    (site / "host.pth").write_text(f"import site; site.addsitedir({host!r})\n")
    return python


def test_environment_is_saved_without_pip(work: Path, tmp_path: Path) -> None:
    python = _pipless_python(tmp_path / "pipless")
    check = subprocess.run([str(python), "-m", "pip", "--version"], capture_output=True)
    assert check.returncode != 0  # really no pip
    script = work / "pipless.py"
    script.write_text(SCRIPT)
    proc = subprocess.run(
        [str(python), str(script)],
        cwd=work,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    transform = ln.Transform.get(key="pipless.py")
    (run,) = transform.runs
    assert run.environment is not None
    lines = Path(run.environment.cache()).read_text().splitlines()
    assert f"SQLAlchemy=={metadata.version('sqlalchemy')}" in lines
    assert f"lamin-sa=={ln.__version__}" in lines


def test_requirements_text_lists_this_interpreter() -> None:
    dists = installed_distributions()
    assert dists["SQLAlchemy"] == metadata.version("sqlalchemy")
    lines = requirements_text().splitlines()
    assert lines == [f"{n}=={v}" for n, v in dists.items()]
