"""lamin-sa benchmarks: prints a table and writes benchmarks/results/<date>.json.

Each benchmark names its target (from the issue that asked for it). Run with
`make bench` (`make bench-long` adds the 100k scaling rows); `LAMIN_SA_BENCH_ONLY=
core,scaling` runs some groups only. Timings never go into test assertions.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

RESULTS: list[dict[str, object]] = []

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import median_time  # noqa: E402


def record(name: str, value: float, unit: str, target: str, ok: bool) -> None:
    RESULTS.append(
        {
            "name": name,
            "value": round(value, 4),
            "unit": unit,
            "target": target,
            "ok": ok,
        }
    )


def bench_import() -> None:
    code = "import lamin_sa"
    walls = []
    for _ in range(7):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        walls.append(time.perf_counter() - t)
    base = []
    for _ in range(7):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        base.append(time.perf_counter() - t)
    wall = statistics.median(walls)
    record(
        "import lamin_sa wall (incl. interpreter start)",
        wall,
        "s",
        "<= 0.3 s",
        wall <= 0.3,
    )
    record("  interpreter start alone", statistics.median(base), "s", "-", True)
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import resource, lamin_sa; "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    rss_mb = int(out.stdout.strip()) / 1024
    record("import lamin_sa peak RSS", rss_mb, "MB", "<= 60 MB", rss_mb <= 60)


def bench_core(tmp: Path) -> None:
    from sqlalchemy import insert

    import lamin_sa as ln
    from lamin_sa.db.session import current
    from lamin_sa.db.uid import base62
    from lamin_sa.models.core import Artifact, ArtifactULabel, Storage, ULabel

    ln.init(storage=tmp / "bench-core")
    labels = [ULabel(name=f"label-{i}") for i in range(10_000)]
    t = time.perf_counter()
    ln.save(labels)
    dt = time.perf_counter() - t
    rate = 10_000 / dt
    record(
        "ln.save 10,000 new ULabels (SQLite)",
        rate,
        "records/s",
        ">= 50,000/s",
        rate >= 50_000,
    )

    storage = Storage.get(root=(tmp / "bench-core").resolve().as_posix())
    # 1,000 artifact rows (the query benchmarks need rows, not files)
    session = current().session
    session.execute(
        insert(Artifact),
        [
            {
                "uid": base62(20),
                "storage_id": storage.id,
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
    arts = list(Artifact.filter().order_by("id"))
    # a selective label (on 50 artifacts) and a broad one (on 500)
    selective, broad = labels[0], labels[1]
    links = [ArtifactULabel(artifact=a, ulabel=selective) for a in arts[::20]]
    links += [ArtifactULabel(artifact=a, ulabel=broad) for a in arts[::2]]
    ln.save(links)

    for label, what in ((selective, "selective"), (broad, "broad")):

        def relational(label: object = label) -> list[object]:
            return list(ln.Artifact.filter(ulabels=label, description__icontains="rna"))

        n = len(relational())
        t_rel = median_time(relational) * 1000
        record(
            f"filter(ulabels=label, description__icontains), 1,000 artifacts, "
            f"{what}: {n} rows",
            t_rel,
            "ms (median)",
            "<= 1.6 ms",
            t_rel <= 1.6,
        )

    def frame() -> object:
        return ln.Artifact.df()

    assert len(frame()) == 1_000
    t_df = median_time(frame, repeat=30) * 1000
    record(".df() of 1,000 artifacts", t_df, "ms (median)", "<= 8 ms", t_df <= 8)
    ln.close()


def bench_team_rows() -> None:
    from benchmarks import bench_team

    pg = os.environ.get("LAMIN_SA_BENCH_PG_URL") or os.environ.get(
        "LAMIN_SA_TEST_PG_URL"
    )
    for row in bench_team.run(pg) if pg else []:
        record(**row)  # type: ignore[arg-type]


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="lamin-bench-"))
    os.environ["LAMIN_SA_HOME"] = str(tmp / "home")
    os.environ["LAMIN_SA_CACHE_DIR"] = str(tmp / "cache")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from benchmarks import (
        bench_artifacts,
        bench_mapped,
        bench_modules,
        bench_ontology,
        bench_query,
        bench_saves,
        bench_scaling,
        bench_validate,
    )

    groups = {
        "import": bench_import,
        "core": lambda: bench_core(tmp),
        "query": lambda: bench_query.run(record, tmp / "query"),
        "saves": lambda: bench_saves.run(record, tmp / "saves"),
        "artifacts": lambda: bench_artifacts.run(record, tmp),
        "validate": lambda: bench_validate.run(record, tmp),
        "modules": lambda: bench_modules.run(record, tmp),
        "scaling": lambda: bench_scaling.run(record, tmp),
        "ontology": lambda: bench_ontology.run(record, tmp),
        "mapped": lambda: bench_mapped.run(record, tmp),
        # 8 writers vs 1 on PostgreSQL (LAMIN_SA_BENCH_PG_URL or the test URL)
        "team": lambda: bench_team_rows(),
    }
    # LAMIN_SA_BENCH_ONLY=core,scaling runs a subset
    only = [g for g in os.environ.get("LAMIN_SA_BENCH_ONLY", "").split(",") if g]
    for name, fn in groups.items():
        if not only or name in only:
            fn()
    width = max(len(str(r["name"])) for r in RESULTS)
    print(f"{'benchmark'.ljust(width)}  {'value':>12}  unit              target")
    for r in RESULTS:
        flag = "" if r["ok"] else "  <-- misses target"
        print(
            f"{str(r['name']).ljust(width)}  {r['value']:>12}  "
            f"{str(r['unit']).ljust(16)}  {r['target']}{flag}"
        )
    out_dir = Path(__file__).parent / "results"
    out_dir.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    payload = {
        "when": stamp,
        "python": sys.version.split()[0],
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "results": RESULTS,
    }
    (out_dir / f"{stamp}.json").write_text(json.dumps(payload, indent=2))
    print(f"wrote {out_dir / (stamp + '.json')}")


if __name__ == "__main__":
    main()
