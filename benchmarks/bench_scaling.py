"""Scaling rows: saves and links at N = 1k, 10k (and 100k) in µs per item.

Linear code costs the same per item at every N. ``run(record, tmp)`` is called by
``benchmarks/run.py``; alone: ``python -m benchmarks.bench_scaling``.

``LAMIN_SA_BENCH_SCALE_MAX`` (default 10000; ``make bench-long`` sets 100000) is the
largest N. A row that runs past ``LAMIN_SA_BENCH_SCALE_BUDGET`` seconds (default
240) stops there and reports the items it did, so a quadratic path shows up as a
rising µs/item instead of a run that never ends.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

Record = Callable[[str, float, str, str, bool], None]

SIZES = (1_000, 10_000, 100_000)
BATCH = 1_000


def _sizes() -> list[int]:
    top = int(os.environ.get("LAMIN_SA_BENCH_SCALE_MAX", "10000"))
    return [n for n in SIZES if n <= top]


def _budget() -> float:
    return float(os.environ.get("LAMIN_SA_BENCH_SCALE_BUDGET", "240"))


def _frame(seed: int) -> object:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "a": rng.integers(0, 1_000_000, 100),
            "b": rng.random(100),
            "c": rng.random(100),
            "d": rng.integers(0, 20_000, 100).astype(str),
            "e": rng.integers(0, 2, 100).astype(bool),
        }
    )


def _report(record: Record, name: str, n: int, done: int, dt: float) -> None:
    label = f"{name}, N={n:,}"
    if done < n:
        label += f" (stopped after {done:,} items at the time budget)"
    record(label, dt / max(done, 1) * 1e6, "µs/item", "flat in N", done == n)


def _saves(record: Record, n: int, seed0: int) -> None:
    import lamin_sa as ln

    budget = _budget()
    done, timed = 0, 0.0
    while done < n and timed < budget:
        # frames are made per batch, outside the timed loop
        frames = [_frame(seed0 + done + i) for i in range(min(BATCH, n - done))]
        t = time.perf_counter()
        for df in frames:
            ln.Artifact.from_df(df, description="s").save()
        timed += time.perf_counter() - t
        done += len(frames)
    _report(record, "save one DataFrame artifact (100×5)", n, done, timed)


def _links_one_by_one(record: Record, labels: list[object], n: int) -> None:
    import lamin_sa as ln

    art = ln.Artifact.from_df(_frame(10**9 + n), description=f"one-by-one {n}").save()
    budget = _budget()
    done, t = 0, time.perf_counter()
    for label in labels[:n]:
        art.ulabels.add(label)
        done += 1
        if done % 100 == 0 and time.perf_counter() - t > budget:
            break
    _report(
        record,
        "artifact.ulabels.add(label) on one artifact",
        n,
        done,
        time.perf_counter() - t,
    )


def _links_batched(record: Record, labels: list[object], n: int) -> None:
    import lamin_sa as ln

    art = ln.Artifact.from_df(_frame(2 * 10**9 + n), description=f"batched {n}").save()
    budget = _budget()
    done, t = 0, time.perf_counter()
    last = 0.0
    while done < n and time.perf_counter() - t < budget:
        tb = time.perf_counter()
        art.ulabels.add(*labels[done : done + BATCH])
        last = time.perf_counter() - tb
        done += BATCH
    _report(
        record,
        "artifact.ulabels.add(*1,000 labels) batches",
        n,
        done,
        time.perf_counter() - t,
    )
    record(
        f"  last batch of 1,000 at {done:,} links",
        last / BATCH * 1e6,
        "µs/item",
        "flat in N",
        True,
    )


def run(record: Record, tmp: Path) -> None:
    """Each N in a fresh instance under ``tmp``."""
    import lamin_sa as ln

    for n in _sizes():
        ln.init(storage=tmp / f"bench-scaling-{n}")
        # time the work, not a "no run linked" warning per save
        verbosity, ln.settings.verbosity = ln.settings.verbosity, "error"
        try:
            labels = [ln.ULabel(name=f"scale {i}") for i in range(n)]
            ln.save(labels)
            _saves(record, n, seed0=n * 10)
            _links_one_by_one(record, labels, n)
            _links_batched(record, labels, n)
        finally:
            ln.settings.verbosity = verbosity
            ln.close()


if __name__ == "__main__":
    tmp = Path(tempfile.mkdtemp(prefix="lamin-bench-scale-"))
    os.environ.setdefault("LAMIN_SA_HOME", str(tmp / "home"))
    os.environ.setdefault("LAMIN_SA_CACHE_DIR", str(tmp / "cache"))

    def _print(name: str, value: float, unit: str, target: str, ok: bool) -> None:
        print(f"{name:<80} {value:>10.1f} {unit:<8} {target}", flush=True)

    run(_print, tmp)
    shutil.rmtree(tmp, ignore_errors=True)
