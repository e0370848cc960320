"""Artifact benchmarks (issue "Artifacts and storage").

``run(record, tmp)`` is called by ``benchmarks/run.py``; it can also run alone:
``python -m benchmarks.bench_artifacts``. ``LAMIN_SA_BENCH_BIG_MB`` (default
1024) sets the size of the large-file ingest.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

Record = Callable[[str, float, str, str, bool], None]


def _bench_small_dataframes(record: Record) -> None:
    import pandas as pd

    from lamin_sa.artifact import save_artifacts
    from lamin_sa.models.core import Artifact

    n = 1_000
    frames = [
        pd.DataFrame({"a": [i, i + 1, i + 2], "b": ["x", "y", "z"]}) for i in range(n)
    ]
    t = time.perf_counter()
    arts = [Artifact.from_df(df, description=f"df {i}") for i, df in enumerate(frames)]
    t_create = time.perf_counter() - t
    save_artifacts(arts)
    dt = time.perf_counter() - t
    rate = n / dt
    record(
        "1,000 small DataFrame artifacts: from_df + save (local, SQLite)",
        rate,
        "artifacts/s",
        ">= 700/s",
        rate >= 700,
    )
    record(
        "  of which from_df (serialize + hash + dedup query)", t_create, "s", "-", True
    )


def _bench_one_by_one(record: Record) -> None:
    """``from_df(df 100x5).save()`` one at a time: the operation users repeat."""
    import numpy as np
    import pandas as pd

    from lamin_sa.models.core import Artifact

    n = 500
    rng = np.random.default_rng(7)
    frames = [
        pd.DataFrame(rng.random((100, 5)), columns=list("abcde")) for _ in range(n)
    ]
    for i in range(10):  # warm: first statements compile, first files open
        Artifact.from_df(frames[i], description=f"warm {i}").save()
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(10, n):
        Artifact.from_df(frames[i], description=f"one {i}").save()
    count = n - 10
    cpu_ms = (time.process_time() - cpu) / count * 1e3
    wall_ms = (time.perf_counter() - wall) / count * 1e3
    record(
        "from_df(df 100x5).save() one by one (local, SQLite): wall",
        wall_ms,
        "ms/save",
        "<= 0.9 ms",
        wall_ms <= 0.9,
    )
    record("  the same: CPU time", cpu_ms, "ms/save", "-", True)


def _write_big(path: Path, mb: int) -> None:
    block = os.urandom(16 * 1024 * 1024)
    with open(path, "wb") as f:
        written = 0
        while written < mb * 1024 * 1024:
            chunk = block[: min(len(block), mb * 1024 * 1024 - written)]
            f.write(chunk)
            written += len(chunk)


def _bench_big_file(record: Record, tmp: Path) -> None:
    from lamin_sa.models.core import Artifact

    mb = int(os.environ.get("LAMIN_SA_BENCH_BIG_MB", "1024"))
    big = tmp / "big.bin"
    _write_big(big, mb)
    copy = tmp / "big-cp.bin"
    cp_times, ingest_times = [], []
    for i in range(3):
        # flush dirty pages first so neither side pays for the other's writes
        os.sync()
        t = time.perf_counter()
        subprocess.run(["cp", str(big), str(copy)], check=True)
        cp_times.append(time.perf_counter() - t)
        copy.unlink()
        # a fresh tail byte per round: a new hash, so a new artifact
        with open(big, "r+b") as f:
            f.seek(-1, os.SEEK_END)
            f.write(bytes([i]))
        os.sync()
        t = time.perf_counter()
        artifact = Artifact(big, description=f"big {i}").save()
        ingest_times.append(time.perf_counter() - t)
        artifact.delete(permanent=True)
    cp_t, ingest_t = statistics.median(cp_times), statistics.median(ingest_times)
    ratio = ingest_t / cp_t
    record(
        f"ingest a {mb} MB local file (hash + copy + register) vs cp",
        ratio,
        "x cp time",
        "<= 1.1x",
        ratio <= 1.1,
    )
    record(f"  cp {mb} MB (median of 3, after sync)", cp_t, "s", "-", True)
    record(f"  Artifact(path).save() {mb} MB", ingest_t, "s", "-", True)
    big.unlink()


def _bench_folder(record: Record, root: Path) -> None:
    from lamin_sa.models.core import Artifact

    n = 10_000
    folder = root / "many-files"
    for i in range(n):
        sub = folder / f"d{i // 1000}"
        if i % 1000 == 0:
            sub.mkdir(parents=True, exist_ok=True)
        (sub / f"f{i}.txt").write_text(f"file {i}\n")
    t = time.perf_counter()
    artifact = Artifact(folder, description="10k files").save()
    dt = time.perf_counter() - t
    assert artifact.n_objects == n
    record(
        "folder of 10,000 small files in storage: hash + register",
        n / dt,
        "files/s",
        "report",
        True,
    )
    shutil.rmtree(folder)
    folder2 = root.parent / "many-files-outside"
    folder2.mkdir()
    for i in range(n):
        (folder2 / f"f{i}.txt").write_text(f"outside {i}\n")
    t = time.perf_counter()
    artifact = Artifact(folder2, description="10k files copied").save()
    dt = time.perf_counter() - t
    record(
        "folder of 10,000 small files outside storage: hash + copy + register",
        n / dt,
        "files/s",
        "report",
        True,
    )


def run(record: Record, tmp: Path) -> None:
    """Run the artifact benchmarks in a fresh instance under ``tmp``."""
    import lamin_sa as ln

    root = tmp / "bench-artifacts"
    ln.init(storage=root)
    try:
        _bench_small_dataframes(record)
        _bench_one_by_one(record)
        _bench_big_file(record, tmp)
        _bench_folder(record, root)
    finally:
        ln.close()


if __name__ == "__main__":
    tmp = Path(tempfile.mkdtemp(prefix="lamin-bench-art-"))
    os.environ.setdefault("LAMIN_SA_HOME", str(tmp / "home"))
    os.environ.setdefault("LAMIN_SA_CACHE_DIR", str(tmp / "cache"))

    def _print(name: str, value: float, unit: str, target: str, ok: bool) -> None:
        flag = "" if ok else "  <-- misses target"
        print(f"{name:<75} {value:>12.4f} {unit:<14} {target}{flag}")

    run(_print, tmp)
    shutil.rmtree(tmp, ignore_errors=True)
