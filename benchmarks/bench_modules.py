"""Schema-module benchmarks: import time with bionty installed, bulk saves of
bionty records, and recursive ``query_parents``."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.common import median_time

Record = Callable[[str, float, str, str, bool], None]


_IMPORT = (
    "import sys, time; t = time.perf_counter(); import lamin_sa; "
    "dt = time.perf_counter() - t; print(dt, 'lamin_sa.bionty' in sys.modules)"
)


def _bench_import(record: Record) -> None:
    times, loaded = [], False
    for _ in range(9):
        out = subprocess.run(
            [sys.executable, "-c", _IMPORT], check=True, capture_output=True, text=True
        ).stdout.split()
        times.append(float(out[0]))
        loaded = loaded or out[1] == "True"
    dt = statistics.median(times)
    record(
        "import lamin_sa in-process (bionty installed)",
        dt,
        "s (median)",
        "<= 0.05 s",
        dt <= 0.05,
    )
    record(
        "  bionty models loaded by import lamin_sa",
        float(loaded),
        "bool",
        "0",
        not loaded,
    )


def _bench_save(record: Record, tmp: Path) -> None:
    import lamin_sa as ln
    from lamin_sa import bionty as bt

    ln.init(storage=tmp / "bench-bionty", modules=["bionty"])
    wall: dict[str, list[float]] = {"CellType": [], "ULabel": []}
    cpu: dict[str, list[float]] = {"CellType": [], "ULabel": []}
    # interleaved with the core baseline (ULabel) so machine noise hits both;
    # CPU time too: on a shared machine the wall clock mostly measures waiting
    for round_ in range(5):
        for name in ("ULabel", "CellType"):
            if name == "CellType":
                records = [
                    bt.CellType(
                        name=f"t{round_}-{i}", ontology_id=f"CL:{round_}{i:07d}"
                    )
                    for i in range(10_000)
                ]
            else:
                records = [ln.ULabel(name=f"l{round_}-{i}") for i in range(10_000)]
            c, t = time.process_time(), time.perf_counter()
            ln.save(records)
            wall[name].append(10_000 / (time.perf_counter() - t))
            cpu[name].append(10_000 / max(time.process_time() - c, 1e-9))
    celltype = statistics.median(wall["CellType"])
    celltype_cpu = statistics.median(cpu["CellType"])
    record(
        "ln.save 10,000 new CellType (SQLite)",
        celltype,
        "records/s",
        ">= 50,000/s",
        celltype >= 50_000,
    )
    record(
        "  same, by CPU time",
        celltype_cpu,
        "records/s",
        ">= 50,000/s",
        celltype_cpu >= 50_000,
    )
    record(
        "  baseline: 10,000 new ULabel, same run",
        statistics.median(wall["ULabel"]),
        "records/s",
        "-",
        True,
    )
    record(
        "  baseline by CPU time",
        statistics.median(cpu["ULabel"]),
        "records/s",
        "-",
        True,
    )

    terms = [
        bt.CellType(name=f"depth {i}", ontology_id=f"CL:9{i:06d}") for i in range(11)
    ]
    ln.save(terms)
    for child, parent in zip(terms, terms[1:], strict=False):
        child.parents.add(parent)
    leaf = terms[0]
    assert len(list(leaf.query_parents())) == 10
    ms = median_time(lambda: list(leaf.query_parents()), repeat=100) * 1000
    record("query_parents of a depth-10 term", ms, "ms (median)", "<= 2 ms", ms <= 2)
    one = median_time(lambda: list(leaf.parents.all()), repeat=100) * 1000
    record("  baseline: direct parents of the term", one, "ms (median)", "-", True)
    ln.close()


def run(record: Record, tmp: Path) -> None:
    """Run the schema-module benchmarks."""
    _bench_import(record)
    _bench_save(record, tmp)
