"""``lamin-sa ontology ...`` through the installed script in a fresh process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data" / "ontology"
SCRIPT = Path(sys.executable).with_name("lamin-sa")


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.fixture
def env(tmp_path):
    out = dict(os.environ)
    out["LAMIN_SA_HOME"] = str(tmp_path / "home")
    out["LAMIN_SA_CACHE_DIR"] = str(tmp_path / "cache")
    return out


def test_sources_lists_availability(env, tmp_path):
    folder = tmp_path / "onto"
    folder.mkdir()
    env["LAMIN_SA_ONTOLOGY_DIR"] = str(folder)
    shutil.copy(DATA / "mini.obo", folder / "pato-2025-05-14.obo")  # wrong bytes
    r = _cli("ontology", "sources", "--entity", "Phenotype", env=env)
    assert r.returncode == 0, r.stderr
    lines = [line.split() for line in r.stdout.splitlines()[1:]]
    assert ["Phenotype", "pato", "all", "2025-05-14", "obo", "*", "dir"] in lines
    assert ["Phenotype", "hp", "human", "2025-01-16", "obo", "*", "-"] in lines


def test_parse_reports_issues_with_lines(env):
    env.pop("LAMIN_SA_ONTOLOGY_DIR", None)
    r = _cli("ontology", "parse", "CellType", "--file", str(DATA / "mini.obo"), env=env)
    assert r.returncode == 0, r.stderr
    # CL: prefix filter: the TST terms are not cell types, the report still shows
    assert "0 terms" in r.stdout
    assert "line 30 (TST:0000003): name starts with '!'" in r.stdout
    r = _cli("ontology", "parse", "CellType", "--file", "/nonexistent.obo", env=env)
    assert r.returncode != 0
    assert "no such ontology file" in r.stderr


@pytest.mark.skipif(
    not os.environ.get("LAMIN_SA_ONTOLOGY_DIR"), reason="LAMIN_SA_ONTOLOGY_DIR unset"
)
def test_every_entity_resolves_offline(env):
    r = _cli("ontology", "sources", env=env)
    assert r.returncode == 0, r.stderr
    rows = [line.split() for line in r.stdout.splitlines()[1:]]
    assert rows and all(row[-1] == "dir" for row in rows), r.stdout
    r = _cli("ontology", "parse", "Ethnicity", "--version", "2025-04-01", env=env)
    assert "562 terms" in r.stdout and "!Kung" in r.stdout
