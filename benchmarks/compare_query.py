"""Time the query benchmarks of two lamin-sa versions, interleaved in one run.

``python benchmarks/compare_query.py [REV] [--rounds N]`` exports ``REV``
(default ``main``) with ``git archive`` into a temporary folder, then runs
``benchmarks/bench_query.py`` alternately against that export and this checkout,
each in a fresh process, and prints per query the best round's median (the
least disturbed by other load on the machine) and the median over rounds.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _one(source: Path) -> dict[str, float]:
    # ``source`` first on the path, then this checkout for the benchmark code
    code = (
        "import runpy, sys; "
        f"sys.path[:0] = [{str(source)!r}, {str(ROOT)!r}]; "
        "runpy.run_module('benchmarks.bench_query', run_name='__main__')"
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
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    rev = args[0] if args else "main"
    rounds = 7
    if "--rounds" in sys.argv:
        rounds = int(sys.argv[sys.argv.index("--rounds") + 1])
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
                runs[name].append(_one(source))
    names = list(runs["this"][0])
    width = max(len(n) for n in names)
    print(
        f"{'query'.ljust(width)}  {'best ' + rev:>10}  {'best this':>10}  change"
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
