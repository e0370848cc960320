"""examples/quickstart.py runs end to end (twice: re-running reuses records)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_quickstart_runs_twice(tmp_path):
    env = {**os.environ, "LAMIN_SA_HOME": str(tmp_path / "home")}
    for _ in range(2):
        result = subprocess.run(
            [sys.executable, str(ROOT / "examples" / "quickstart.py")],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        assert "quickstart done" in result.stdout
    out = result.stdout
    assert "Provenance:" in out and "Features:" in out and "Labels:" in out
    assert "🔗 perturbation (4, cat[ULabel]): 'DMSO', 'IFNG'" in out
    assert (tmp_path / "lamin-intro" / ".lamindb" / "lamin.db").exists()
    assert any(tmp_path.glob("lineage.*"))
    if os.environ.get("LAMIN_SA_ONTOLOGY_DIR"):
        # the seed's "Biological registries" section, on the real public sources
        assert "Source: cl, 2026-03-26" in out
        assert "CL:0000798          gamma-delta T cell      100.0" in out
        assert "validated in public source: [ True  True  True  True]" in out
        assert "validated in registry: [ True  True  True  True]" in out
        assert "neuron's parents: ['electrically responsive cell'," in out
        assert any(tmp_path.glob("neuron.*"))
