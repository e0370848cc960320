"""Helpers shared by the benchmark modules."""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def median_time(fn: Callable[[], object], repeat: int = 50, warmup: int = 5) -> float:
    """Median wall time of ``fn`` in seconds, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def standalone(measure: Callable[[Path], dict[str, float]], name: str) -> None:
    """``python -m benchmarks.bench_<name> [--json]``: run ``measure`` in a temp home.

    Prints ``{figure: ms}`` as JSON with ``--json`` (what ``compare_versions.py``
    reads), else one line per figure.
    """
    with tempfile.TemporaryDirectory(prefix=f"lamin-bench-{name}-") as folder:
        os.environ["LAMIN_SA_HOME"] = str(Path(folder) / "home")
        os.environ["LAMIN_SA_CACHE_DIR"] = str(Path(folder) / "cache")
        results = measure(Path(folder))
    if "--json" in sys.argv:
        print(json.dumps(results))
    else:
        for figure, ms in results.items():
            print(f"{ms:9.3f} ms  {figure}")
