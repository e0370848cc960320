"""The built wheel works without a checkout: it ships the migration scripts.

A wheel is built from the repository and installed (without dependencies) into a
fresh virtual environment; the dependencies come from the running environment
through a ``.pth`` file placed after the new environment's own site-packages, so
lamin_sa itself can only come from the wheel. Commands run from a folder outside
the checkout. To exercise another command, add a test that calls
``installed.python(...)`` or ``installed.run("lamin-sa", ...)``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Installed:
    """A virtual environment holding the wheel, and a working folder outside ROOT."""

    wheel: Path
    venv: Path
    workdir: Path

    @property
    def bin(self) -> Path:
        return self.venv / ("Scripts" if os.name == "nt" else "bin")

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env["VIRTUAL_ENV"] = str(self.venv)
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        return env

    def run(self, *argv: str, timeout: float = 300) -> subprocess.CompletedProcess:
        """Run a command of the environment (``lamin-sa``, ``python``) in workdir."""
        exe = self.bin / argv[0]
        proc = subprocess.run(
            [str(exe), *argv[1:]],
            cwd=self.workdir,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert proc.returncode == 0, f"{argv} failed:\n{proc.stdout}\n{proc.stderr}"
        return proc

    def python(self, code: str) -> subprocess.CompletedProcess:
        """Run Python code with the environment's interpreter."""
        return self.run("python", "-c", textwrap.dedent(code))


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("wheel")
    dist = base / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "-o", str(dist)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    (wheel,) = dist.glob("lamin_sa-*.whl")
    venv = base / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)],
        check=True,
        capture_output=True,
    )
    vpython = str(venv / ("Scripts" if os.name == "nt" else "bin") / "python")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "--python", vpython, "install", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
        text=True,
    )
    site = subprocess.run(
        [vpython, "-c", "import site; print(site.getsitepackages()[0])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # the running environment's packages, after the venv's own (lamin_sa wins)
    deps = sysconfig.get_paths()["purelib"]
    (Path(site) / "_lamin_sa_test_deps.pth").write_text(deps + "\n")
    workdir = base / "work"
    workdir.mkdir()
    return Installed(wheel=wheel, venv=venv, workdir=workdir)


def test_wheel_ships_the_migration_environment(installed: Installed) -> None:
    names = zipfile.ZipFile(installed.wheel).namelist()
    assert "lamin_sa/_alembic/env.py" in names
    assert "lamin_sa/_alembic/script.py.mako" in names
    shipped = {n for n in names if n.startswith("lamin_sa/_alembic/versions/core/")}
    in_checkout = {
        f"lamin_sa/_alembic/versions/core/{p.name}"
        for p in (ROOT / "alembic" / "versions" / "core").glob("*.py")
    }
    assert in_checkout and shipped >= in_checkout
    assert not [n for n in names if n.startswith("alembic/")]


def test_installed_wheel_creates_and_reports_a_schema(installed: Installed) -> None:
    db = installed.workdir / "instance.db"
    proc = installed.python(
        f"""
        import json, pathlib
        import lamin_sa
        from lamin_sa import migrate
        from lamin_sa.db.session import make_engine

        engine = make_engine("sqlite:///{db}")
        with engine.connect() as conn:
            migrate.upgrade(conn)
            states = migrate.status(conn)
            migrate.check(conn)
        engine.dispose()
        print(json.dumps({{
            "lamin_sa": str(pathlib.Path(lamin_sa.__file__).resolve()),
            "alembic_dir": str(migrate.alembic_dir()),
            "core": states["core"].state,
            "history": [r.revision for r in migrate.history("core")],
        }}))
        """
    )
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    package = Path(out["lamin_sa"]).parent
    assert not package.is_relative_to(ROOT)
    assert package.is_relative_to(installed.venv)
    assert Path(out["alembic_dir"]) == package / "_alembic"
    assert out["core"] == "up to date"
    assert out["history"]


def test_installed_cli_inits_an_instance(installed: Installed) -> None:
    storage = installed.workdir / "wheel-instance"
    result = installed.run("lamin-sa", "init", "--storage", str(storage))
    assert result.returncode == 0, result.stderr
    assert "connected lamin-sa: wheel-instance" in result.stdout
    assert (storage / ".lamindb" / "lamin.db").exists()
    info = installed.run("lamin-sa", "info")
    assert "schema core: up to date" in info.stdout, info.stderr


def test_wheel_ships_the_source_manifest(installed: Installed) -> None:
    names = zipfile.ZipFile(installed.wheel).namelist()
    assert "lamin_sa/_ontologies/sources.yaml" in names
    out = installed.python(
        """
        import json
        from lamin_sa.ontology import sources
        spec = sources.find_specs("CellType")[0]
        print(json.dumps([str(sources.manifest_path()), spec.name, spec.version]))
        """
    )
    path, name, version = json.loads(out.stdout)
    assert path.endswith("lamin_sa/_ontologies/sources.yaml")
    assert ROOT.as_posix() not in path
    assert (name, version) == ("cl", "2026-03-26")
