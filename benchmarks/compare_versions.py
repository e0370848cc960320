"""Time a benchmark of two lamin-sa versions, interleaved in one run.

``python benchmarks/compare_versions.py [REV] [--rounds N] [--bench query|saves]``
exports ``REV`` (default ``main``) with ``git archive`` into a temporary folder,
then runs ``benchmarks/bench_<bench>.py`` (default ``query``) alternately
against that export and this checkout, each in a fresh process, and prints per
figure the best round's (the least disturbed by other load on the machine) and
the median over rounds. Every figure is milliseconds: lower is better.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _one(source: Path, bench: str) -> dict[str, float]:
    # ``source`` first on the path, then this checkout for the benchmark code
    code = (
        "import runpy, sys; "
        f"sys.path[:0] = [{str(source)!r}, {str(ROOT)!r}]; "
        f"runpy.run_module('benchmarks.bench_{bench}', run_name='__main__')"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, "--json"],
        cwd=tempfile.gettempdir(),
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rev", nargs="?", default="main")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--bench", choices=["query", "saves"], default="query")
    opts = parser.parse_args()
    rev, rounds, bench = opts.rev, opts.rounds, opts.bench
    with tempfile.TemporaryDirectory(prefix="lamin-base-") as folder:
        base = Path(folder)
        archive = subprocess.run(
            ["git", "archive", rev], cwd=ROOT, check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
        shutil.rmtree(base / "benchmarks")  # the benchmark code comes from here
        runs: dict[str, list[dict[str, float]]] = {"base": [], "this": []}
        for i in range(rounds):
            # alternate which version goes first, so neither gets a warmer machine
            order = [("base", base), ("this", ROOT)]
            for name, source in order if i % 2 == 0 else order[::-1]:
                runs[name].append(_one(source, bench))
    names = list(runs["this"][0])
    width = max(len(n) for n in names)
    print(
        f"{'figure (ms)'.ljust(width)}  {'best ' + rev:>10}  {'best this':>10}  change"
        f"  {'median ' + rev:>12}  {'median this':>12}"
    )
    for name in names:
        base_ms = [r[name] for r in runs["base"]]
        this_ms = [r[name] for r in runs["this"]]
        b, t = min(base_ms), min(this_ms)
        print(
            f"{name.ljust(width)}  {b:10.3f}  {t:10.3f}  {100 * (t - b) / b:+5.1f}%"
            f"  {statistics.median(base_ms):12.3f}  {statistics.median(this_ms):12.3f}"
        )


if __name__ == "__main__":
    main()
