"""A team on one PostgreSQL instance: 8 writers against 1, and reads meanwhile.

Each writer is its own process (as a collaborator's would be) that saves
``PER_WRITER`` small DataFrame artifacts, each with two labels. One writer alone
runs first, then eight at once; throughput is total records over wall time. While
the eight write, a reader process times ``ln.Artifact.filter(...).df()`` of 1,000
stored rows and reports the latency percentiles.

Run: ``LAMIN_SA_BENCH_PG_URL=postgresql+psycopg:///db python benchmarks/bench_team.py``
(``make bench`` runs it when that variable or ``LAMIN_SA_TEST_PG_URL`` is set; the
database is emptied first).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

PER_WRITER = int(os.environ.get("LAMIN_SA_BENCH_TEAM_N", "100"))

WRITER = """
import sys, time
import pandas as pd
import lamin_sa as ln

ln.connect(sys.argv[1])
index, n = int(sys.argv[2]), int(sys.argv[3])
labels = [ln.ULabel(name=f"w{index}-{i}") for i in range(n)] + [
    ln.ULabel(name=f"shared-{i}") for i in range(10)
]
ln.save(labels)
# start together: report ready, wait for the go signal
ready, go = sys.argv[4], sys.argv[5]
open(ready, "w").close()
import os
while not os.path.exists(go):
    time.sleep(0.01)
start = time.perf_counter()
for i in range(n):
    a = ln.Artifact.from_df(pd.DataFrame({"w": [index], "i": [i]}),
                            description=f"w{index} {i}").save()
    a.ulabels.add(labels[i], labels[n + i % 10])
print(time.perf_counter() - start)
"""

READER = """
import sys, time, json
import lamin_sa as ln

ln.connect(sys.argv[1])
stop_file = sys.argv[2]
times = []
import os
while not os.path.exists(stop_file) or len(times) < 5:
    t = time.perf_counter()
    df = ln.Artifact.filter(description__startswith="base ").df()
    times.append(time.perf_counter() - t)
    assert len(df) == 1000, len(df)
print(json.dumps(times))
"""

SEED = """
import sys
import lamin_sa as ln
from sqlalchemy import insert
from lamin_sa.db.session import current, write_transaction
from lamin_sa.db.uid import base62
from lamin_sa.models.core import Artifact, Storage

ln.connect(sys.argv[1])
ctx = current()
storage = Storage.filter().first()
rows = [dict(uid=base62(20), storage_id=storage.id, suffix=".txt",
             description=f"base {i}", size=1, hash=f"h{i}", hash_type="md5",
             visibility=1, key_is_virtual=True, created_by_id=ctx.user_id,
             is_latest=True) for i in range(1000)]
with write_transaction() as s:
    s.execute(insert(Artifact), rows)
"""


def _python(home: Path, code: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "LAMIN_SA_HOME": str(home)}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait(proc: subprocess.Popen[str]) -> str:
    out, err = proc.communicate(timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(err[-2000:])
    return out.strip().splitlines()[-1]


def run(url: str) -> list[dict[str, object]]:
    """Measure and return result rows (name, value, unit, target, ok)."""
    from sqlalchemy import text

    from lamin_sa.db.session import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    results: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        owner = tmp / "owner"
        init = subprocess.run(
            [
                str(Path(sys.executable).with_name("lamin-sa")),
                "init",
                "--storage",
                str(tmp / "data"),
                "--db",
                url,
                "--name",
                "bench-team",
            ],
            env={**os.environ, "LAMIN_SA_HOME": str(owner)},
            capture_output=True,
            text=True,
        )
        if init.returncode != 0:
            raise RuntimeError(init.stderr)
        _wait(_python(owner, SEED + "\nprint('ok')", url))

        def writers(count: int, offset: int) -> float:
            # processes start and connect first; the clock runs from "go" on
            go = tmp / f"go-{offset}"
            ready = [tmp / f"ready-{offset + i}" for i in range(count)]
            procs = [
                _python(
                    tmp / f"user{i % 3}",
                    WRITER,
                    url,
                    str(offset + i),
                    str(PER_WRITER),
                    str(ready[i]),
                    str(go),
                )
                for i in range(count)
            ]
            while not all(r.exists() for r in ready):
                if any(p.poll() not in (None, 0) for p in procs):
                    break
                time.sleep(0.01)
            start = time.perf_counter()
            go.touch()
            for proc in procs:
                _wait(proc)
            return time.perf_counter() - start

        one = writers(1, 0)
        stop = tmp / "stop"
        reader = _python(owner, READER, url, str(stop))
        eight = writers(8, 100)
        stop.touch()
        latencies = sorted(json.loads(_wait(reader)))
    for label, seconds, count in (("1 writer", one, 1), ("8 writers", eight, 8)):
        n = count * PER_WRITER
        results.append(
            dict(
                name=f"team PG: {label}, artifacts/s",
                value=round(n / seconds, 1),
                unit="/s",
                target="report",
                ok=True,
            )
        )
        results.append(
            dict(
                name=f"team PG: {label}, label links/s",
                value=round(2 * n / seconds, 1),
                unit="/s",
                target="report",
                ok=True,
            )
        )
    scaling = (8 / eight) / (1 / one)
    results.append(
        dict(
            name="team PG: throughput 8 writers / 1 writer",
            value=round(scaling, 2),
            unit="x",
            target="report (2 cores)",
            ok=True,
        )
    )
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    results.append(
        dict(
            name="team PG: filter().df() of 1,000 rows during 8 writers, p50",
            value=round(statistics.median(latencies) * 1000, 2),
            unit="ms",
            target="report",
            ok=True,
        )
    )
    results.append(
        dict(
            name=f"team PG: same, p99 ({len(latencies)} reads)",
            value=round(p99 * 1000, 2),
            unit="ms",
            target="report",
            ok=True,
        )
    )
    return results


def main() -> None:
    url = os.environ.get("LAMIN_SA_BENCH_PG_URL") or os.environ.get(
        "LAMIN_SA_TEST_PG_URL"
    )
    if not url:
        print("team benchmark skipped: set LAMIN_SA_BENCH_PG_URL")
        return
    for row in run(url):
        print(f"{row['name']:<62} {row['value']:>10} {row['unit']}")


if __name__ == "__main__":
    main()
