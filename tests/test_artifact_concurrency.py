"""Two processes saving artifacts into one instance at once both succeed
(SQLite and PostgreSQL; local and S3 storage)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import lamin_sa as ln
from tests import test_artifact_fixtures as fx
from tests.s3_server import s3_bucket, s3_server  # noqa: F401
from tests.test_artifact_fixtures import Inst

inst = fx.inst

N = 200

_WORKER = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    import lamin_sa as ln
    from lamin_sa.instance import connect, current_instance

    name, tag, n, folder = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    connect(name)
    src = Path(folder) / tag
    src.mkdir(parents=True)
    for i in range(n):
        f = src / f"{i}.txt"
        f.write_text(f"{tag}-{i}")
        ln.Artifact(f, description=f"{tag}-{i}").save()
    print("done", current_instance().name)
    """
)


def test_two_processes_save_concurrently(inst: Inst, tmp_path: Path) -> None:
    from lamin_sa.instance import current_instance

    name = current_instance().name
    script = tmp_path / "worker.py"
    script.write_text(_WORKER)
    env = dict(os.environ)
    repo = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = repo + os.pathsep + env.get("PYTHONPATH", "")
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), name, tag, str(N), str(tmp_path / "src")],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag in ("p1", "p2")
    ]
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err[-3000:]
        assert "done" in out
    arts = list(ln.Artifact.filter(description__startswith="p"))
    assert len(arts) == 2 * N
    assert len({a.uid for a in arts}) == 2 * N
    for a in arts:
        assert a.cache().read_text() == a.description
    assert len(inst.objects()) == 2 * N
    assert ln.Artifact.filter(is_latest=True).count() == 2 * N
