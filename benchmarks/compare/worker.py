"""A long-lived benchmark worker: one backend, driven over stdin/stdout JSON lines.

Run by ``benchmarks/compare/driver.py`` with the backend's own interpreter::

    python benchmarks/compare/worker.py lamin_sa|lamindb WORKDIR

Each request is one JSON line ``{"op": NAME, "rep": I}``; each answer one line
``{"ok": true, "value": SECONDS, ...}`` or ``{"ok": false, "error": TEXT}``. The
protocol uses a private copy of the original stdout; the process's own stdout is
pointed at stderr so that library output never corrupts it.

This file imports nothing from lamin-sa at module level: it runs in LaminDB's venv
too. The timed region of every operation is the same for both backends; only the
calls inside :mod:`backend_lamin_sa` and :mod:`backend_lamindb` differ.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

N_SAVE = 1_000
N_LINK = 1_000
N_QUERY_ARTIFACTS = 1_000
N_LABELS = 10_000
N_VALUES = 100_000
SEARCH_QUERIES = ["label 1234", "label 99", "lable 4321", "labl 77", "unknown thing"]
FIRST_LAST = 50 * 1024 * 1024  # what a sha1-fl hash reads of a large file


def _median_call(fn: Callable[[], object], calls: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(calls):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _frame(seed: int, rows: int = 100) -> Any:
    """A 100×5 DataFrame whose content (hence hash) depends on ``seed``."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "a": rng.integers(0, 1_000_000, rows),
            "b": rng.random(rows),
            "c": rng.random(rows),
            "d": [f"gene{int(x)}" for x in rng.integers(0, 20_000, rows)],
            "e": rng.integers(0, 2, rows).astype(bool),
        }
    )


def _values(n: int, n_labels: int, seed: int = 0) -> list[str]:
    """``n`` values: 90% stored label names, 10% unknown ones."""
    rng = random.Random(seed)
    return [
        f"unknown {rng.randrange(n)}"
        if i % 10 == 0
        else f"label {rng.randrange(n_labels)}"
        for i in range(n)
    ]


class Worker:
    """The operations, timed identically for both backends."""

    def __init__(self, backend: Any, workdir: Path) -> None:
        self.b = backend
        self.workdir = workdir
        self.state: dict[str, Any] = {}
        self._seed = 1_000_000  # artifacts' content seeds; never reused

    def _next_seed(self) -> int:
        self._seed += 1
        return self._seed

    # ---- fixtures (untimed, reported for information) ------------------------

    def setup_instance(self, rep: int) -> dict[str, Any]:
        t = time.perf_counter()
        self.b.init(self.workdir / "instance")
        return {"value": time.perf_counter() - t}

    def setup_queries(self, rep: int) -> dict[str, Any]:
        """1,000 artifacts, 100 tags (2 per artifact) and a label on 10 of them."""
        t = time.perf_counter()
        b = self.b
        tags = b.create_labels([f"tag {i}" for i in range(100)])
        (hit,) = b.create_labels(["hit"])
        for i in range(N_QUERY_ARTIFACTS):
            is_hit = i % 100 == 1  # 10 rna artifacts get the selective label
            kind = "rna" if i % 3 or is_hit else "atac"
            art = b.save_df(_frame(i, rows=3), f"dataset {i} {kind}")
            linked = [tags[i % 100], tags[(i * 7 + 3) % 100]]
            if is_hit:
                linked.append(hit)
            b.link_many(art, linked)
        self.state["hit"] = hit
        n = len(b.filter_relational(hit))
        assert n == 10, n
        assert b.df_len() == N_QUERY_ARTIFACTS
        return {"value": time.perf_counter() - t}

    def setup_labels(self, rep: int) -> dict[str, Any]:
        t = time.perf_counter()
        names = [f"label {i}" for i in range(N_LABELS)]
        self.state["labels"] = self.b.create_labels(names)
        self.state["values"] = _values(N_VALUES, N_LABELS)
        assert int(sum(self.b.validate(self.state["values"]))) == 90_000
        return {"value": time.perf_counter() - t}

    # ---- timed operations -----------------------------------------------------

    def filter(self, rep: int) -> dict[str, Any]:
        hit = self.state["hit"]
        return {"value": _median_call(lambda: self.b.filter_relational(hit), 50)}

    def df(self, rep: int) -> dict[str, Any]:
        return {"value": _median_call(self.b.df_all, 20)}

    def df_include(self, rep: int) -> dict[str, Any]:
        return {"value": _median_call(self.b.df_include, 20)}

    def validate(self, rep: int) -> dict[str, Any]:
        values = self.state["values"]
        return {"value": _median_call(lambda: self.b.validate(values), 5, 1)}

    def inspect(self, rep: int) -> dict[str, Any]:
        values = self.state["values"]
        return {"value": _median_call(lambda: self.b.inspect(values), 5, 1)}

    def search(self, rep: int) -> dict[str, Any]:
        per_query = []
        for q in SEARCH_QUERIES:
            per_query.append(_median_call(lambda q=q: self.b.search(q), 11, 2))
        return {"value": statistics.median(per_query)}

    def link_1000(self, rep: int) -> dict[str, Any]:
        b = self.b
        art = b.save_df(_frame(self._next_seed(), rows=3), f"links {rep}")
        labels = self.state["labels"]
        start = (rep * N_LINK) % (len(labels) - N_LINK)
        chosen = labels[start : start + N_LINK]
        t = time.perf_counter()
        for label in chosen:
            b.link(art, label)
        dt = time.perf_counter() - t
        assert b.count_links(art) == N_LINK
        return {"value": dt}

    def save_1000(self, rep: int) -> dict[str, Any]:
        b = self.b
        frames = [_frame(self._next_seed()) for _ in range(N_SAVE)]
        t = time.perf_counter()
        for i, df in enumerate(frames):
            b.save_df(df, f"save {rep} {i}")
        return {"value": time.perf_counter() - t}

    def _child(self, code: str, env: dict[str, str]) -> dict[str, Any]:
        """Run ``code`` in a fresh interpreter; its last stdout line is its RSS."""
        full_env = {**os.environ, **env}
        t = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", code],
            env=full_env,
            capture_output=True,
            text=True,
            cwd=self.workdir,
        )
        dt = time.perf_counter() - t
        if out.returncode != 0:
            raise RuntimeError(out.stderr[-2000:])
        rss_kb = int(out.stdout.strip().splitlines()[-1])
        return {"value": dt, "rss_mb": rss_kb / 1024}

    def fresh_connect(self, rep: int) -> dict[str, Any]:
        code, env = self.b.fresh_connect_code(self.workdir / "instance")
        return self._with_floor("fresh_connect", self._child(code, env))

    def first_artifact(self, rep: int) -> dict[str, Any]:
        where = self.workdir / f"first-{rep}"
        code, env = self.b.first_artifact_code(where)
        return self._with_floor("first_artifact", self._child(code, env))

    def _with_floor(self, op: str, result: dict[str, Any]) -> dict[str, Any]:
        """Add the time of a process that only imports what ``op`` needs."""
        floor_code = getattr(self.b, "floor_code", None)
        if floor_code is not None:
            result["floor"] = self._child(floor_code(op), {})["value"]
        return result

    def ingest_1gb(self, rep: int) -> dict[str, Any]:
        big = self.workdir / "big.bin"
        size = int(os.environ.get("LAMIN_BENCH_BIG_MB", "1024")) * 1024 * 1024
        if not big.exists():
            block = os.urandom(16 * 1024 * 1024)
            with open(big, "wb") as f:
                for off in range(0, size, len(block)):
                    f.write(block[: min(len(block), size - off)])
        with open(big, "r+b") as f:  # a new tail byte: a new hash, a new artifact
            f.seek(-1, os.SEEK_END)
            f.write(bytes([rep % 256]))
        copy = self.workdir / "big-cp.bin"
        os.sync()
        t = time.perf_counter()
        subprocess.run(["cp", str(big), str(copy)], check=True)
        cp = time.perf_counter() - t
        copy.unlink()
        t = time.perf_counter()
        with open(big, "rb") as f:
            h = hashlib.sha1(f.read(FIRST_LAST))
            f.seek(-FIRST_LAST, os.SEEK_END)
            h.update(f.read(FIRST_LAST))
        hashed = time.perf_counter() - t
        os.sync()
        t = time.perf_counter()
        art = self.b.ingest(big, f"big {rep}")
        dt = time.perf_counter() - t
        self.b.delete_artifact(art)
        return {"value": dt, "cp": cp, "hash": hashed}

    def rss(self, rep: int) -> dict[str, Any]:
        return {"value": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _load_backend(name: str) -> Any:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    if name == "lamin_sa":
        import backend_lamin_sa as mod
    elif name == "lamindb":
        import backend_lamindb as mod
    else:
        raise SystemExit(f"unknown backend {name!r}")
    return mod.Backend()


def main() -> None:
    name, workdir = sys.argv[1], Path(sys.argv[2])
    workdir.mkdir(parents=True, exist_ok=True)
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # libraries that print go to stderr
    sys.stdout = sys.stderr
    worker = Worker(_load_backend(name), workdir)
    proto.write(json.dumps({"ok": True, "ready": name}) + "\n")
    for line in sys.stdin:
        req = json.loads(line)
        if req["op"] == "quit":
            break
        try:
            answer = getattr(worker, req["op"])(req.get("rep", 0))
            answer["ok"] = True
        except Exception as e:  # reported to the driver, which stops the run
            traceback.print_exc()
            answer = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        proto.write(json.dumps(answer) + "\n")
    worker.b.close()


if __name__ == "__main__":
    main()
