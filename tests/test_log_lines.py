"""What a script shows at the default verbosity when it saves artifacts (as the
seed: ``✅ storing artifact '<uid>' at '<path>'``), run in a fresh process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import BACKENDS, PG_URL, reset_postgres

SCRIPT = textwrap.dedent(
    """
    import sys
    import pandas as pd
    import lamin_sa as ln

    ln.init(storage="./data", db=sys.argv[1] or None, name="logs")
    ln.track()
    df = pd.DataFrame({"a": [1, 2]})
    artifact = ln.Artifact.from_df(df, description="one").save()
    print("SAVED", artifact.uid, artifact.path, file=sys.stderr)
    print("BULK", file=sys.stderr)
    ln.save([ln.Artifact.from_df(df.assign(a=[i, i]), description=f"n{i}")
             for i in range(12)])
    print("FINISH", file=sys.stderr)
    ln.finish()
    """
)


@pytest.mark.parametrize("backend", BACKENDS)
def test_storing_artifact_lines_at_default_verbosity(tmp_path, backend) -> None:
    db = ""
    if backend == "postgresql":
        assert PG_URL is not None
        reset_postgres(PG_URL)
        db = PG_URL
    (tmp_path / "save.py").write_text(SCRIPT)
    result = subprocess.run(
        [sys.executable, "save.py", db],
        cwd=tmp_path,
        env={**os.environ, "LAMIN_SA_HOME": str(tmp_path / "home")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    err = result.stderr
    first, rest = err.split("BULK", 1)
    bulk, finish = rest.split("FINISH", 1)
    saved = next(line for line in first.splitlines() if line.startswith("SAVED"))
    _, uid, path = saved.split(" ", 2)
    assert f"✅ storing artifact '{uid}' at '{path}'" in first
    assert path.endswith(f"/data/.lamindb/{uid}.parquet")
    # many artifacts: one line, not one each
    root = (tmp_path / "data").resolve().as_posix()
    assert f"✅ stored 12 artifacts in {root}" in bulk
    assert "storing artifact" not in bulk
    # the run's hidden source code and environment are not announced
    assert "storing artifact" not in finish and "💡 finished Run(" in finish
