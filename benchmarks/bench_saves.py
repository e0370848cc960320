"""Artifact save benchmarks: one-by-one DataFrame saves and one bulk save (SQLite).

``run(record, tmp)`` is called by ``benchmarks/run.py``. ``python -m
benchmarks.bench_saves --json`` prints the figures as JSON, which
``benchmarks/compare_versions.py --bench saves`` uses to time two versions of
lamin-sa interleaved in one run. Only public API that every version has is used.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

Record = Callable[[str, float, str, str, bool], None]

ONE_BY_ONE = 200
BULK = 1000


def measure(tmp: Path) -> dict[str, float]:
    """Milliseconds per saved artifact, wall and CPU (``[cpu]``), lower is better."""
    import numpy as np
    import pandas as pd

    import lamin_sa as ln

    ln.init(storage=tmp / "bench-saves")
    rng = np.random.default_rng(7)
    frames = [
        pd.DataFrame(rng.random((100, 5)), columns=list("abcde"))
        for _ in range(ONE_BY_ONE + 10)
    ]
    for i in range(10):  # warm caches and the first-save paths
        ln.Artifact.from_df(frames[i], description=f"warm {i}").save()
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(10, ONE_BY_ONE + 10):
        ln.Artifact.from_df(frames[i], description=f"one {i}").save()
    one_cpu = (time.process_time() - cpu) / ONE_BY_ONE * 1e3
    one_wall = (time.perf_counter() - wall) / ONE_BY_ONE * 1e3
    small = [
        pd.DataFrame({"a": [i, i + 1, i + 2], "b": ["x", "y", "z"]})
        for i in range(BULK)
    ]
    wall, cpu = time.perf_counter(), time.process_time()
    ln.save(
        [ln.Artifact.from_df(df, description=f"df {i}") for i, df in enumerate(small)]
    )
    bulk_cpu = (time.process_time() - cpu) / BULK * 1e3
    bulk_wall = (time.perf_counter() - wall) / BULK * 1e3
    ln.close()
    return {
        "from_df(100x5).save(), one by one": one_wall,
        f"ln.save({BULK} small from_df), per artifact": bulk_wall,
        "from_df(100x5).save(), one by one [cpu]": one_cpu,
        f"ln.save({BULK} small from_df), per artifact [cpu]": bulk_cpu,
    }


def run(record: Record, tmp: Path) -> None:
    for name, ms in measure(tmp).items():
        record(f"saves: {name}", ms, "ms per artifact", "-", True)


if __name__ == "__main__":
    from benchmarks.common import standalone

    standalone(measure, "saves")
