"""Filter compiler benchmarks: common query shapes on 1,000 artifacts (SQLite).

``run(record, tmp)`` is called by ``benchmarks/run.py``. ``python -m
benchmarks.bench_query --json`` prints the medians as JSON, which
``benchmarks/compare_versions.py`` uses to time two versions of lamin-sa
interleaved in one run. Only public API that every version has is used.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

Record = Callable[[str, float, str, str, bool], None]


def _setup(tmp: Path) -> dict[str, Any]:
    from sqlalchemy import insert

    import lamin_sa as ln
    import lamin_sa.models as m
    from lamin_sa.db.session import current

    ln.init(storage=tmp / "bench-query")
    labels = [m.ULabel(name=f"label-{i}") for i in range(100)]
    ln.save(labels)
    storage = m.Storage.filter().first()
    session = current().session
    session.execute(
        insert(m.Artifact),
        [
            {
                "uid": f"BenchQuery{i:06d}0000",
                "storage_id": storage.id,
                "key": f"key-{i}",
                "description": f"dataset {i} {'rna' if i % 3 else 'atac'}",
                "suffix": ".parquet",
                "size": i,
                "hash": f"h{i}",
                "created_by_id": current().user_id,
            }
            for i in range(1_000)
        ],
    )
    session.commit()
    arts = list(m.Artifact.filter().order_by("id"))
    links = [m.ArtifactULabel(artifact=a, ulabel=labels[0]) for a in arts[::20]]
    links += [m.ArtifactULabel(artifact=a, ulabel=labels[1]) for a in arts[::2]]
    ln.save(links)
    return {"selective": labels[0], "broad": labels[1]}


def _cases(env: dict[str, Any]) -> list[tuple[str, Callable[[], object]]]:
    import lamin_sa as ln

    A, Q = ln.Artifact, ln.Q
    selective, broad = env["selective"], env["broad"]
    keys = [f"key-{i}" for i in range(0, 1_000, 2)]
    return [
        (
            "filter(ulabels=label, description__icontains), selective",
            lambda: list(A.filter(ulabels=selective, description__icontains="rna")),
        ),
        (
            "filter(ulabels=label, description__icontains), broad",
            lambda: list(A.filter(ulabels=broad, description__icontains="rna")),
        ),
        (
            "filter(description__icontains).count()",
            lambda: A.filter(description__icontains="RNA").count(),
        ),
        (
            "filter(ulabels__name=...).count()",
            lambda: A.filter(ulabels__name="label-0").count(),
        ),
        (
            "filter(Q(ulabels__name=a) | Q(ulabels__name=b)).count()",
            lambda: A.filter(
                Q(ulabels__name="label-0") | Q(ulabels__name="label-1")
            ).count(),
        ),
        (
            "filter(ulabels__name=a, ulabels__name__startswith=b).count()",
            lambda: A.filter(
                ulabels__name="label-0", ulabels__name__startswith="label"
            ).count(),
        ),
        (
            "exclude(ulabels=label).count()",
            lambda: A.exclude(ulabels=broad).count(),
        ),
        ("filter(key__in=500 keys).count()", lambda: A.filter(key__in=keys).count()),
        (
            "compile only: filter(ulabels=, description__icontains=, size__gt=)",
            lambda: (
                A.filter(
                    ulabels=selective, description__icontains="rna", size__gt=3
                ).statement
            ),
        ),
        (".df() of 1,000 artifacts", lambda: A.df()),
    ]


def _median_ms(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds of ``fn`` (CPU: the machine may be shared)."""
    for _ in range(5):
        fn()
    wall, cpu = [], []
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        fn()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return statistics.median(wall) * 1000, statistics.median(cpu) * 1000


def measure(tmp: Path, repeat: int = 50) -> dict[str, float]:
    """Median milliseconds per query shape: wall, and CPU under ``<name> [cpu]``."""
    import lamin_sa as ln

    env = _setup(tmp)
    out = {}
    cpu = {}
    for name, fn in _cases(env):
        out[name], cpu[f"{name} [cpu]"] = _median_ms(fn, repeat)
    ln.close()
    return {**out, **cpu}


def run(record: Record, tmp: Path) -> None:
    for name, ms in measure(tmp).items():
        record(f"query: {name}", ms, "ms (median)", "-", True)


if __name__ == "__main__":
    from benchmarks.common import standalone

    standalone(measure, "query")
