"""A third-party schema module as a real package: built in a temp dir,
pip-installed into the test venv, registered through its entry point, migrated
with ``lamin-sa migrate revision/upgrade`` on a live instance with data, changed
in a second revision, and used in filters and Annotate. Every step runs in a
fresh process, as a user would run it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

# installs a package into the shared venv: other tests must not see it meanwhile
pytestmark = pytest.mark.serial

CLI = str(Path(sys.executable).with_name("lamin-sa"))
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]

MODELS = '''
"""tp_lab registries."""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lamin_sa.models import links as L
from lamin_sa.models.core import Artifact


class Sample(L.CanValidate, L.TracksRun, L.TracksUpdates, L.Record):
    __tablename__ = "tp_lab_sample"
    _len_uid = 8
    _required = ("name",)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(8), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(100), unique=True, index=True)
    # EXTRA


ArtifactSample = L.link_model(
    Artifact, Sample, host_accessor="samples", target_accessor="artifacts",
    feature=True,
)
'''


def _package(root: Path) -> Path:
    pkg = root / "tp-lab"
    (pkg / "tp_lab" / "migrations").mkdir(parents=True)
    (pkg / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [build-system]
            requires = ["hatchling"]
            build-backend = "hatchling.build"

            [project]
            name = "tp-lab"
            version = "0.1.0"

            [project.entry-points."lamin_sa.modules"]
            tp_lab = "tp_lab._module:module"
            broken_lab = "tp_lab._broken:module"

            [tool.hatch.build.targets.wheel]
            packages = ["tp_lab"]
            """
        )
    )
    (pkg / "tp_lab" / "__init__.py").write_text('"""A lab\'s own registries."""\n')
    (pkg / "tp_lab" / "_module.py").write_text(
        "from lamin_sa.modules import Module\n\n"
        'module = Module.for_package("tp_lab", "tp_lab")\n'
    )
    (pkg / "tp_lab" / "_broken.py").write_text('raise RuntimeError("broken plugin")\n')
    (pkg / "tp_lab" / "models.py").write_text(MODELS)
    return pkg


@pytest.fixture
def tp_lab(tmp_path: Path) -> Iterator[Path]:
    pkg = _package(tmp_path)
    subprocess.run(
        [*PIP, "install", "--no-deps", "--no-build-isolation", "-e", str(pkg)],
        check=True,
    )
    try:
        yield pkg
    finally:
        subprocess.run([*PIP, "uninstall", "-y", "tp-lab"], check=True)


def _cli(*args: str, cwd: Path) -> str:
    result = subprocess.run(
        [CLI, *args], cwd=cwd, capture_output=True, text=True, env=os.environ.copy()
    )
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout


def _py(code: str, cwd: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_pip_installed_module_mounts_migrates_and_works(
    tp_lab: Path, db_url: str, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    versions = tp_lab / "tp_lab" / "migrations"
    # the entry point registers the module without importing its models; a
    # broken entry point is logged and skipped
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, logging; logging.basicConfig(); "
            "from lamin_sa.modules import registered_modules; "
            "reg = registered_modules(); "
            "print(reg['tp_lab'].versions_dir, 'tp_lab.models' in sys.modules, "
            "'broken_lab' in reg)",
        ],
        cwd=work,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(versions), "False", "False"]
    assert "could not load lamin-sa module 'broken_lab'" in result.stderr
    assert "wrote" in _cli(
        "migrate", "revision", "--module", "tp_lab", "-m", "tp_lab tables", cwd=work
    )
    (first,) = versions.glob("*.py")
    source = first.read_text()
    assert "tp_lab_sample" in source and "create_table('core_" not in source
    assert "bionty_" not in source

    # a live instance with data, then the module is mounted on it
    args = ["init", "--storage", str(tmp_path / "root")]
    if not db_url.startswith("sqlite"):
        args += ["--db", db_url]
    _cli(*args, cwd=work)
    _py(
        """
        import lamin_sa as ln
        ln.connect()
        ln.ULabel(name="existing").save()
        """,
        work,
    )
    assert "tp_lab: up to date" in _cli(
        "migrate", "upgrade", "--module", "tp_lab", cwd=work
    )
    out = _py(
        """
        import pandas as pd
        import lamin_sa as ln
        from tp_lab.models import Sample
        ln.connect()
        assert ln.ULabel.get(name="existing")
        Sample(name="s1").save(); Sample(name="s2").save()
        ln.Feature(name="sample", dtype="cat[tp_lab.Sample]").save()
        df = pd.DataFrame({"sample": ["s1", "s2", "s1"]})
        annotate = ln.Annotate.from_df(df, categoricals={"sample": Sample.name})
        assert annotate.validate()
        artifact = annotate.save_artifact(description="samples")
        print(sorted(s.name for s in artifact.samples))
        print(ln.Artifact.filter(samples__name="s2").one().uid == artifact.uid)
        """,
        work,
    )
    assert out.split("\n")[:2] == ["['s1', 's2']", "True"]

    # a second revision: a new column, autogenerated into the package's folder
    models = tp_lab / "tp_lab" / "models.py"
    models.write_text(
        models.read_text().replace(
            "# EXTRA",
            "batch: Mapped[str | None] = mapped_column(String(30), index=True)",
        )
    )
    assert "wrote" in _cli(
        "migrate", "revision", "--module", "tp_lab", "-m", "add batch", cwd=work
    )
    second = [p for p in versions.glob("*.py") if p != first]
    assert len(second) == 1
    assert "add_column" in second[0].read_text()
    assert "tp_lab: up to date" in _cli("migrate", "upgrade", cwd=work)
    out = _py(
        """
        import lamin_sa as ln
        from tp_lab.models import Sample
        ln.connect()
        Sample(name="s3", batch="b1").save()
        print(Sample.filter(batch="b1").list("name"), Sample.filter().count())
        """,
        work,
    )
    assert out.strip() == "['s3'] 3"
