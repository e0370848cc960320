"""examples/quickstart.py runs end to end, from any checkout.

Two copies of the examples folder run in fresh processes that share one settings
home (as two checkouts on one machine do); the first copy runs again afterwards
(re-running reuses records).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(folder: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "quickstart.py"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "quickstart done" in result.stdout
    return result.stdout


def test_quickstart_runs_from_two_checkouts(tmp_path):
    shared_home = tmp_path / "home"
    env = {**os.environ, "LAMIN_SA_HOME": str(shared_home)}
    env.pop("LAMIN_SA_CACHE_DIR", None)  # the demo's cache goes under its home
    copies = []
    for name in ("checkout1", "checkout2"):
        copy = tmp_path / name / "examples"
        shutil.copytree(
            ROOT / "examples",
            copy,
            ignore=shutil.ignore_patterns("lamin-intro", ".lamin-home", "*.ipynb"),
        )
        copies.append(copy)
    _run(copies[0], env)
    _run(copies[1], env)
    out = _run(copies[0], env)  # re-running is safe
    for copy in copies:
        assert (copy / "lamin-intro" / ".lamindb" / "lamin.db").exists()
        registered = json.loads(
            (copy / ".lamin-home" / "instances" / "lamin-intro.json").read_text()
        )
        assert registered["storage_root"] == (copy / "lamin-intro").as_posix()
        assert (copy / ".lamin-home" / "cache").is_dir()
    # the user's own settings home is untouched by the demo
    assert not (shared_home / "instances").exists()
    assert "Provenance:" in out and "Features:" in out and "Labels:" in out
    assert "🔗 perturbation (4, cat[ULabel]): 'DMSO', 'IFNG'" in out
    assert any(copies[0].glob("lineage.*"))
    if os.environ.get("LAMIN_SA_ONTOLOGY_DIR"):
        # the seed's "Biological registries" section, on the real public sources
        assert "Source: cl, 2026-03-26" in out
        assert "CL:0000798          gamma-delta T cell      100.0" in out
        assert "validated in public source: [ True  True  True  True]" in out
        assert "validated in registry: [ True  True  True  True]" in out
        # genes as typed features of an AnnData artifact (describe prints)
        assert "  var: FeatureSet(" in out and "registry='bionty.Gene')" in out
        assert "    'CD8A', 'CD4', 'CD14'" in out
        assert "neuron's parents: ['electrically responsive cell'," in out
        assert any(copies[0].glob("neuron.*"))
