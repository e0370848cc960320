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
