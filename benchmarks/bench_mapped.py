"""Mapped-collection benchmarks (issue "Collections for machine learning").

Makes synthetic data (default 4 ``.h5ad`` files x 25,000 cells x 20,000 genes,
CSR with ~5 % non-zeros, one categorical obs column, and the same as ``.zarr``)
and measures samples/s for (a) random single indices, (b) a DataLoader with
batch 256, shuffled, 0 and 2 workers, on h5ad and zarr. LaminDB's
MappedCollection reads the same files in the same run, interleaved with
lamin-sa's, from its own venv (``LAMIN_SA_BENCH_LAMINDB_VENV``, default
``/tmp/lamindb-venv``; created with ``pip install lamindb torch==2.13.0`` when
missing, never touching the project's venv; skipped if that fails). scverse's
annbatch is not measured: every release needs Python >= 3.12, this project runs
on 3.11. Each measurement runs in a fresh process, which reports its samples/s,
its CPU time (with its workers') and its peak RSS and its workers'.

``python -m benchmarks.bench_mapped`` runs it alone. Environment:
``LAMIN_SA_BENCH_MAPPED_DIR`` (where the data is made and reused; default
``$TMPDIR/lamin-sa-bench-mapped``),
``LAMIN_SA_BENCH_MAPPED_FILES`` / ``_CELLS`` / ``_GENES`` (scale),
``LAMIN_SA_BENCH_MAPPED_SECONDS`` (time per measurement, default 6),
``LAMIN_SA_BENCH_MAPPED_ROUNDS`` (interleaved rounds, default 2; best kept).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

Record = Callable[[str, float, str, str, bool], None]

WORKER = Path(__file__).with_name("mapped_worker.py")
ROOT = Path(__file__).resolve().parent.parent


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def make_data(folder: Path, n_files: int, n_cells: int, n_genes: int) -> dict:
    """Write the synthetic files once (reused when the spec matches)."""
    import anndata as ad
    import numpy as np
    import pandas as pd
    import scipy.sparse as sp

    spec = {"files": n_files, "cells": n_cells, "genes": n_genes, "density": 0.05}
    marker = folder / "spec.json"
    if marker.exists() and json.loads(marker.read_text()) == spec:
        return spec
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(42)
    var = pd.DataFrame(index=[f"gene{j}" for j in range(n_genes)])
    types = [f"type{k}" for k in range(10)]
    probs = np.array([2.0**-k for k in range(10)])
    t = time.perf_counter()
    for f in range(n_files):
        indptr = [0]
        indices, data = [], []
        for start in range(0, n_cells, 1000):
            mask = rng.random((min(1000, n_cells - start), n_genes), dtype="f4") < 0.05
            rows, cols = np.nonzero(mask)
            indices.append(cols.astype(np.int32))
            counts = np.bincount(rows, minlength=mask.shape[0])
            indptr.extend((indptr[-1] + np.cumsum(counts)).tolist())
            data.append(rng.integers(1, 30, size=len(cols)).astype(np.float32))
        X = sp.csr_matrix(
            (np.concatenate(data), np.concatenate(indices), np.array(indptr)),
            shape=(n_cells, n_genes),
        )
        obs = pd.DataFrame(
            {
                "cell_type": pd.Categorical(
                    rng.choice(types, n_cells, p=probs / probs.sum())
                )
            },
            index=[f"f{f}c{i}" for i in range(n_cells)],
        )
        adata = ad.AnnData(X=X, obs=obs, var=var)
        adata.write_h5ad(folder / f"part{f}.h5ad")
        adata.write_zarr(folder / f"part{f}.zarr")
        del adata, X
    spec["make_seconds"] = round(time.perf_counter() - t, 1)
    marker.write_text(json.dumps({k: spec[k] for k in spec if k != "make_seconds"}))
    return spec


def _lamindb_python() -> str | None:
    """The interpreter of a separate venv with lamindb (made if missing)."""
    venv = Path(os.environ.get("LAMIN_SA_BENCH_LAMINDB_VENV", "/tmp/lamindb-venv"))
    python = venv / "bin" / "python"
    check = [str(python), "-c", "import lamindb.core, torch"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return str(python)
    print(f"  installing lamindb into {venv} (benchmark only)", flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "lamindb", "torch==2.13.0"],
            check=True,
            timeout=1800,
        )
    except (subprocess.SubprocessError, OSError) as error:
        print(f"  LaminDB not measured: {error}")
        return None
    return str(python)


def _measure(python: str, args: dict) -> dict | None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [python, str(WORKER), json.dumps(args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    if proc.returncode != 0:
        print(f"  {args['loader']} {args['mode']} failed: {proc.stderr[-800:]}")
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run(record: Record, tmp: Path) -> list[dict]:
    n_files = _env_int("LAMIN_SA_BENCH_MAPPED_FILES", 4)
    n_cells = _env_int("LAMIN_SA_BENCH_MAPPED_CELLS", 25_000)
    n_genes = _env_int("LAMIN_SA_BENCH_MAPPED_GENES", 20_000)
    seconds = float(os.environ.get("LAMIN_SA_BENCH_MAPPED_SECONDS", 6))
    rounds = _env_int("LAMIN_SA_BENCH_MAPPED_ROUNDS", 2)
    # the data (~1.6 GB at full scale) is made once and reused by later runs
    default = Path(tempfile.gettempdir()) / "lamin-sa-bench-mapped"
    folder = Path(os.environ.get("LAMIN_SA_BENCH_MAPPED_DIR", default))
    spec = make_data(folder, n_files, n_cells, n_genes)
    scale = f"{n_files} files x {n_cells:,} cells x {n_genes:,} genes, 5% nnz"
    if "make_seconds" in spec:
        record(
            f"mapped: make synthetic data ({scale})",
            spec["make_seconds"],
            "s",
            "-",
            True,
        )
    pythons = {"lamin_sa": sys.executable}
    lamindb_python = _lamindb_python()
    if lamindb_python is not None:
        pythons["lamindb"] = lamindb_python
    scenarios = []
    for fmt in ("h5ad", "zarr"):
        paths = [str(folder / f"part{f}.{fmt}") for f in range(n_files)]
        scenarios.append((f"(a) random single indices, {fmt}", paths, "single", 0))
        for workers in (0, 2):
            scenarios.append(
                (
                    f"(b) DataLoader batch 256 shuffled, {workers} workers, {fmt}",
                    paths,
                    "loader",
                    workers,
                )
            )
    rows: list[dict] = []
    for label, paths, mode, workers in scenarios:
        best: dict[str, dict] = {}
        for _ in range(rounds):  # interleaved: ours, theirs, ours, theirs
            for loader, python in pythons.items():
                args = {
                    "loader": loader,
                    "paths": paths,
                    "mode": mode,
                    "workers": workers,
                    "batch_size": 256,
                    "seconds": seconds,
                }
                got = _measure(python, args)
                if got is None:
                    continue
                kept = best.get(loader)
                if kept is None or got["samples_per_s"] > kept["samples_per_s"]:
                    best[loader] = got
        ours = best.get("lamin_sa")
        theirs = best.get("lamindb")
        if ours is None:
            continue
        ratio = ours["samples_per_s"] / theirs["samples_per_s"] if theirs else None
        is_goal = label.startswith(("(a)", "(b)")) and "h5ad" in label
        target = ">= 2x LaminDB" if is_goal else "-"
        ok = ratio is None or not is_goal or ratio >= 2
        record(
            f"mapped {label}: lamin-sa", ours["samples_per_s"], "samples/s", target, ok
        )
        if theirs:
            record(
                "  LaminDB MappedCollection",
                theirs["samples_per_s"],
                "samples/s",
                "-",
                True,
            )
            record("  lamin-sa / LaminDB", ratio, "x", target, ok)
        for name, got in best.items():
            record(
                f"  CPU time {name} (main + workers)",
                got["cpu_ms_per_1k"],
                "ms / 1k samples",
                "-",
                True,
            )
            record(
                f"  peak RSS {name} (main / per worker)",
                got["peak_rss_mb"],
                f"MB / {got['peak_worker_rss_mb']:.0f} MB",
                "-",
                True,
            )
        rows.append({"scenario": label, **{k: v for k, v in best.items()}})
    return rows


if __name__ == "__main__":
    results: list[tuple] = []

    def _print(name: str, value: float, unit: str, target: str, ok: bool) -> None:
        results.append((name, value, unit, target, ok))
        flag = "" if ok else "  <-- misses target"
        print(f"{name:<72} {value:>12.1f} {unit:<18} {target}{flag}", flush=True)

    sys.path.insert(0, str(ROOT))
    out = run(_print, Path(tempfile.mkdtemp(prefix="lamin-bench-mapped-")))
    print(json.dumps(out, indent=1))
