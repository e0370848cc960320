"""``make bench-compare``: lamin-sa and LaminDB side by side, interleaved.

Starts one long-lived worker per backend (``worker.py``, each in its own venv),
sends them the same operations in the same order, alternating which backend goes
first at every repetition, and prints per operation the median and min–max of each
backend, the ratio of medians (LaminDB / lamin-sa) with its per-repetition range,
and the goal from the performance issue. The machine may be shared: only ratios
from one run mean anything. Writes ``benchmarks/results/compare-<stamp>.{json,md}``.

Usage::

    python benchmarks/compare/driver.py --lamindb-python .venv-lamindb/bin/python \
        [--reps 5] [--slow-reps 3] [--only filter,df] [--big-mb 1024] \
        [--pg-url postgresql+psycopg:///bench]

With ``--pg-url`` (or ``LAMIN_SA_BENCH_PG_URL``) a third worker runs lamin-sa on
that PostgreSQL database (emptied first), and the table adds its times and the
ratio PostgreSQL / SQLite.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


@dataclass(frozen=True)
class Op:
    """One compared operation: its label, unit scale, goal and repetitions."""

    name: str
    label: str
    goal: float  # the ratio LaminDB / lamin-sa to reach (>=)
    slow: bool = False
    scale: float = 1.0  # seconds -> display unit
    unit: str = "s"
    goal_text: str = ""


OPS = [
    Op("filter", "relational filter, 10 hits of 1,000", 2, scale=1e3, unit="ms"),
    Op("df", ".df() of 1,000 artifacts", 3, scale=1e3, unit="ms"),
    Op("df_include", '.df(include=["ulabels__name"])', 3, scale=1e3, unit="ms"),
    Op("validate", "validate 100k values vs 10k labels", 5, scale=1e3, unit="ms"),
    Op("inspect", "inspect 100k values vs 10k labels", 10, scale=1e3, unit="ms"),
    Op(
        "search",
        "search over 10k labels (median of 5 queries)",
        3,
        scale=1e3,
        unit="ms",
    ),
    Op("link_1000", "link 1,000 labels (artifact.ulabels.add)", 10, True),
    Op(
        "save_1000",
        "save 1,000 DataFrame artifacts one by one (100×5)",
        10,
        True,
        goal_text="≥ 10× (≤ 0.9 ms each)",
    ),
    Op(
        "fresh_connect",
        "import + connect + first query (fresh process)",
        3,
        goal_text="≥ 3× (≤ 0.2 s, ≤ 45 MB)",
    ),
    Op("first_artifact", "time to first artifact (init + save 1 df + exit)", 2.5),
    Op("ingest_1gb", "ingest a 1 GB file (hash + copy + register)", 0, True),
]
SETUP = ["setup_instance", "setup_queries", "setup_labels"]
#: operations the PostgreSQL worker leaves out (each would need a new database)
PG_SKIP = {"first_artifact"}


class WorkerProcess:
    """A backend's worker process and its JSON-lines pipe."""

    def __init__(
        self,
        name: str,
        python: str,
        workdir: Path,
        env: dict[str, str],
        backend: str | None = None,
    ):
        self.name = name
        self.log_path = workdir.parent / f"{name}.log"
        self.log: TextIO = open(self.log_path, "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [python, str(HERE / "worker.py"), backend or name, str(workdir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            env=env,
            cwd=workdir.parent,
        )
        self._read()

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(
                f"{self.name} worker exited; see {self.log_path}:\n"
                + self.log_path.read_text()[-3000:]
            )
        answer = json.loads(line)
        if not answer.get("ok"):
            raise RuntimeError(
                f"{self.name}: {answer.get('error')} (log: {self.log_path})"
            )
        return answer

    def send(self, op: str, rep: int = 0) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"op": op, "rep": rep}) + "\n")
        self.proc.stdin.flush()

    def call(self, op: str, rep: int = 0) -> dict[str, Any]:
        self.send(op, rep)
        return self._read()

    def stop(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
            self.proc.stdin.close()
            self.proc.wait(timeout=120)
        self.log.close()


def _env(backend: str, workdir: Path, big_mb: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAMIN", "VIRT"))}
    # an installed package has its byte-code cached; so must an editable checkout,
    # or each fresh process of the timed rows compiles every lamin_sa module
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["LAMIN_BENCH_BIG_MB"] = str(big_mb)
    env["PYTHONUNBUFFERED"] = "1"
    if backend == "lamin_sa":
        env["LAMIN_SA_HOME"] = str(workdir / "home")
        env["LAMIN_SA_CACHE_DIR"] = str(workdir / "cache")
    else:
        env["LAMIN_SETTINGS_DIR"] = str(workdir / "settings")
        env["LAMIN_CACHE_DIR"] = str(workdir / "cache")
        env["LAMIN_TESTING"] = "true"  # no telemetry, no hub calls where honoured
    return env


def _fmt(values: list[float], scale: float) -> str:
    med = statistics.median(values) * scale
    lo, hi = min(values) * scale, max(values) * scale
    digits = 2 if med < 10 else 1
    return f"{med:.{digits}f} ({lo:.{digits}f}–{hi:.{digits}f})"


def _row(op: Op, res: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    ldb = [r["value"] for r in res["lamindb"]]
    lsa = [r["value"] for r in res["lamin_sa"]]
    per_rep = [a / b for a, b in zip(ldb, lsa, strict=True)]
    ratio = statistics.median(ldb) / statistics.median(lsa)
    row: dict[str, Any] = {
        "op": op.name,
        "label": op.label,
        "unit": op.unit,
        "lamindb": ldb,
        "lamin_sa": lsa,
        "ratio": ratio,
        "ratio_min": min(per_rep),
        "ratio_max": max(per_rep),
        "goal": op.goal,
    }
    pg = [r["value"] for r in res.get("lamin_sa_pg", [])]
    if pg:
        row["lamin_sa_pg"] = pg
        row["pg_over_sqlite"] = statistics.median(pg) / statistics.median(lsa)
    if op.name in ("fresh_connect", "first_artifact"):
        floors = [r["floor"] for r in res["lamin_sa"] if "floor" in r]
        if floors:
            row["floor"] = floors
    if op.name == "ingest_1gb":
        # the physical limit: copying the bytes, plus hashing what a copy reads
        ref = [r["cp"] + r["hash"] for r in res["lamin_sa"]]
        row["cp_plus_hash"] = ref
        row["vs_cp"] = statistics.median(lsa) / statistics.median(ref)
        row["met"] = row["vs_cp"] <= 1.1
        row["goal_text"] = "≤ 1.1× cp + hash"
    elif op.name == "fresh_connect":
        rss = statistics.median(r["rss_mb"] for r in res["lamin_sa"])
        row["rss_mb"] = {
            "lamindb": statistics.median(r["rss_mb"] for r in res["lamindb"]),
            "lamin_sa": rss,
        }
        row["met"] = ratio >= op.goal and statistics.median(lsa) <= 0.2 and rss <= 45
        row["goal_text"] = op.goal_text
    elif op.name == "save_1000":
        row["met"] = ratio >= op.goal or statistics.median(lsa) <= 0.9
        row["goal_text"] = op.goal_text
    else:
        row["met"] = ratio >= op.goal
        row["goal_text"] = f"≥ {op.goal:g}×"
    return row


def _settle_postgres(url: str) -> None:
    """Do now what autovacuum does within a minute of the fixtures' writes.

    Its VACUUM and ANALYZE would otherwise run during the timed operations,
    taking a core of this machine and changing PostgreSQL's plans mid-run (the
    planner has no statistics of tables it has not analyzed yet).
    """
    from sqlalchemy import text

    from lamin_sa.db.session import make_engine

    engine = make_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("VACUUM (ANALYZE)"))
    finally:
        engine.dispose()


def _table(rows: list[dict[str, Any]], ops: dict[str, Op]) -> str:
    with_pg = any("lamin_sa_pg" in row for row in rows)
    pg_head = " lamin-sa on PostgreSQL | PostgreSQL ÷ SQLite |" if with_pg else ""
    lines = [
        "| operation (SQLite, local folder) | LaminDB | lamin-sa | ratio (range) "
        "| goal | met |" + pg_head,
        "|---|---|---|---|---|---|" + ("---|---|" if with_pg else ""),
    ]
    for row in rows:
        op = ops[row["op"]]
        label = f"{row['label']} [{op.unit}]"
        ldb = _fmt(row["lamindb"], op.scale)
        lsa = _fmt(row["lamin_sa"], op.scale)
        ratio = f"{row['ratio']:.2f}× ({row['ratio_min']:.2f}–{row['ratio_max']:.2f})"
        if "rss_mb" in row:
            ldb += f", {row['rss_mb']['lamindb']:.0f} MB"
            lsa += f", {row['rss_mb']['lamin_sa']:.0f} MB"
        if "vs_cp" in row:
            ref = _fmt(row["cp_plus_hash"], op.scale)
            ratio += f"; {row['vs_cp']:.2f}× cp + hash ({ref} s)"
        if "floor" in row:
            # a process importing only the libraries lamin-sa builds on
            lsa += f"; imports alone {_fmt(row['floor'], op.scale)}"
        met = "yes" if row["met"] else "no"
        line = f"| {label} | {ldb} | {lsa} | {ratio} | {row['goal_text']} | {met} |"
        if with_pg and "lamin_sa_pg" in row:
            pg = _fmt(row["lamin_sa_pg"], op.scale)
            line += f" {pg} | {row['pg_over_sqlite']:.2f}× |"
        elif with_pg:
            line += " — | — |"
        lines.append(line)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--lamindb-python", default=str(ROOT / ".venv-lamindb/bin/python")
    )
    parser.add_argument("--lamin-sa-python", default=sys.executable)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--slow-reps", type=int, default=3)
    parser.add_argument("--only", default="", help="comma-separated operation names")
    parser.add_argument("--big-mb", type=int, default=1024)
    parser.add_argument("--out", default=str(HERE.parent / "results"))
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("LAMIN_SA_BENCH_PG_URL", ""),
        help="also run lamin-sa on this PostgreSQL database (emptied first)",
    )
    args = parser.parse_args()

    only = {s for s in args.only.split(",") if s}
    ops = [op for op in OPS if not only or op.name in only]
    tmp = Path(tempfile.mkdtemp(prefix="lamin-compare-"))
    # absolute, not resolved: the workers run in their own folders, and a venv's
    # python must keep its own path to find the venv
    pythons = {
        "lamindb": str(Path(args.lamindb_python).absolute()),
        "lamin_sa": str(Path(args.lamin_sa_python).absolute()),
    }
    workers: dict[str, WorkerProcess] = {}
    results: dict[str, dict[str, list[dict[str, Any]]]] = {}
    setup: dict[str, dict[str, float]] = {}
    try:
        for name in ("lamindb", "lamin_sa"):
            wd = tmp / name
            wd.mkdir()
            workers[name] = WorkerProcess(
                name, pythons[name], wd, _env(name, wd, args.big_mb)
            )
        if args.pg_url:
            sys.path.insert(0, str(ROOT))
            from tests.conftest import reset_postgres

            reset_postgres(args.pg_url)
            wd = tmp / "lamin_sa_pg"
            wd.mkdir()
            env = {**_env("lamin_sa", wd, args.big_mb), "LAMIN_BENCH_DB": args.pg_url}
            workers["lamin_sa_pg"] = WorkerProcess(
                "lamin_sa_pg", pythons["lamin_sa"], wd, env, backend="lamin_sa"
            )
        for step in SETUP:
            # fixtures are untimed: both workers build theirs at once
            for w in workers.values():
                w.send(step)
            for name, w in workers.items():
                setup.setdefault(step, {})[name] = w._read()["value"]
                print(f"  {step:<16} {name:<8} {setup[step][name]:8.2f} s", flush=True)
        if args.pg_url:
            _settle_postgres(args.pg_url)
        for op in ops:
            reps = args.slow_reps if op.slow else args.reps
            # the PostgreSQL worker inits its instance on PostgreSQL; a fresh
            # process's first artifact would need a new database per repetition
            names = [
                n for n in workers if not (n == "lamin_sa_pg" and op.name in PG_SKIP)
            ]
            res: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
            for rep in range(reps):
                # every backend goes first in turn
                order = names[rep % len(names) :] + names[: rep % len(names)]
                for name in order:
                    res[name].append(workers[name].call(op.name, rep))
            results[op.name] = res
            row = _row(op, res)
            pg_text = (
                f" lamin-sa PG {_fmt(row['lamin_sa_pg'], op.scale)}"
                if "lamin_sa_pg" in row
                else ""
            )
            print(
                f"{op.name:<16} lamindb {_fmt(row['lamindb'], op.scale):<24} "
                f"lamin-sa {_fmt(row['lamin_sa'], op.scale):<24} "
                f"ratio {row['ratio']:.2f}x [{op.unit}]{pg_text}",
                flush=True,
            )
        rss = {name: w.call("rss")["value"] for name, w in workers.items()}
    finally:
        for w in workers.values():
            w.stop()
    by_name = {op.name: op for op in OPS}
    rows = [_row(by_name[name], res) for name, res in results.items()]
    table = _table(rows, by_name)
    print()
    print(table)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    versions = {
        name: subprocess.run(
            [py, "-c", f"import importlib.metadata as m; print(m.version({pkg!r}))"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        for name, py, pkg in (
            ("lamindb", pythons["lamindb"], "lamindb"),
            ("lamin_sa", pythons["lamin_sa"], "lamin-sa"),
        )
    }
    payload = {
        "when": stamp,
        "versions": versions,
        "reps": args.reps,
        "slow_reps": args.slow_reps,
        "setup_seconds": setup,
        "worker_peak_rss_mb": rss,
        "rows": rows,
    }
    (out / f"compare-{stamp}.json").write_text(json.dumps(payload, indent=2))
    header = (
        f"lamin-sa {versions['lamin_sa']} vs LaminDB {versions['lamindb']}, "
        f"{stamp}, medians (min–max) of {args.reps} repetitions "
        f"({args.slow_reps} for link/save/ingest), interleaved\n\n"
    )
    (out / f"compare-{stamp}.md").write_text(header + table + "\n")
    print(f"\nwrote {out / ('compare-' + stamp + '.md')}")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
