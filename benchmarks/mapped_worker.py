"""One mapped-collection measurement in a fresh process (any venv).

``python mapped_worker.py '<json>'`` with keys ``loader`` ("lamin_sa" or
"lamindb"), ``paths``, ``mode`` ("single" or "loader"), ``workers``,
``batch_size``, ``seconds``. Prints one JSON line: samples/s and peak RSS of
this process and of its (DataLoader worker) children. Needs nothing from
lamin-sa unless ``loader`` is "lamin_sa", so LaminDB runs from its own venv.
"""

from __future__ import annotations

import json
import resource
import sys
import time

import numpy as np


def _dataset(loader: str, paths: list[str], workers: int) -> tuple[object, dict]:
    if loader == "lamin_sa":
        from lamin_sa.data.mapped import MappedCollection

        ds = MappedCollection(paths, obs_keys=["cell_type"])
        return ds, {"collate_fn": ds.collate_fn}
    if loader == "lamindb":
        from lamindb.core import MappedCollection as LaminDBMapped

        # LaminDB's documented set-up for worker processes: parallel=True
        ds = LaminDBMapped(paths, obs_keys=["cell_type"], parallel=workers > 0)
        return ds, {"worker_init_fn": ds.torch_worker_init_fn}
    raise SystemExit(f"unknown loader {loader}")


def _single(ds: object, seconds: float) -> tuple[int, float]:
    rng = np.random.default_rng(0)
    n = len(ds)  # type: ignore[arg-type]
    indices = rng.integers(0, n, size=1_000_000).tolist()
    for i in indices[:20]:  # warm-up: open handles, page in metadata
        ds[i]  # type: ignore[index]
    done = 0
    start = time.perf_counter()
    for i in indices[20:]:
        ds[i]  # type: ignore[index]
        done += 1
        if done % 50 == 0 and time.perf_counter() - start > seconds:
            break
    return done, time.perf_counter() - start


def _loader(
    ds: object, extra: dict, workers: int, batch_size: int, seconds: float
) -> tuple[int, float]:
    import torch
    from torch.utils.data import DataLoader

    torch.manual_seed(0)
    loader = DataLoader(
        ds,  # type: ignore[arg-type]
        batch_size=batch_size,
        shuffle=True,
        num_workers=workers,
        **extra,
    )
    # timed from the start, worker start-up and the first batch included, so
    # batches prefetched before the clock starts cannot inflate the rate
    done = batches = 0
    start = time.perf_counter()
    it = iter(loader)
    for batch in it:
        done += batch["X"].shape[0]
        batches += 1
        if batches >= 10 and time.perf_counter() - start > seconds:
            break
    elapsed = time.perf_counter() - start
    del it  # shuts the workers down so their peak RSS is counted
    return done, elapsed


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    args = json.loads(sys.argv[1])
    ds, extra = _dataset(args["loader"], args["paths"], args["workers"])
    if args["mode"] == "loader":
        import torch.utils.data  # noqa: F401  (its import is not loading time)
    cpu0 = _cpu(resource.RUSAGE_SELF)
    if args["mode"] == "single":
        done, elapsed = _single(ds, args["seconds"])
    else:
        done, elapsed = _loader(
            ds, extra, args["workers"], args["batch_size"], args["seconds"]
        )
    cpu = _cpu(resource.RUSAGE_SELF) - cpu0 + _cpu(resource.RUSAGE_CHILDREN)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "samples": done,
                "seconds": elapsed,
                "samples_per_s": done / elapsed,
                "cpu_ms_per_1k": 1e6 * cpu / max(done, 1),
                "peak_rss_mb": own,
                "peak_worker_rss_mb": children,
            }
        )
    )


if __name__ == "__main__":
    main()
