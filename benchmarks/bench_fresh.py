"""Fresh-process timings of two lamin-sa checkouts, interleaved run by run.

Each run is a new Python process (import + connect + first query; init + save one
DataFrame + exit), alternating between the checkouts so that both see the same
machine load. Reports wall and CPU seconds (min and median) and peak RSS::

    python benchmarks/bench_fresh.py --base /tmp/base-checkout --runs 15

``--base`` is another checkout's root (put on ``PYTHONPATH``); the branch is the
checkout this script lives in. Byte-code caches are written (as for an installed
package) so that neither side pays for compiling its sources.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PEAK = (
    "print(next(l.split()[1] for l in open('/proc/self/status') "
    "if l.startswith('VmHWM')))\n"
)
SETUP = """
import lamin_sa as ln
ln.init(storage={root!r})
ln.save([ln.ULabel(name=f"label {{i}}") for i in range(100)])
"""
CONNECT = (
    "import lamin_sa as ln\n"
    "ln.connect()\n"
    "assert ln.ULabel.filter(name='label 1').first() is not None\n" + PEAK
)
FIRST = (
    "import pandas as pd\n"
    "import lamin_sa as ln\n"
    "ln.init(storage={root!r})\n"
    "df = pd.DataFrame({{'a': [1, 2, 3], 'b': ['x', 'y', 'z']}})\n"
    "ln.Artifact.from_df(df, description='first').save()\n" + PEAK
)


def _run(code: str, env: dict[str, str]) -> tuple[float, float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    # run outside both checkouts: `python -c` puts the working directory first
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),
    )
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode:
        raise SystemExit(out.stderr)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, int(out.stdout.split()[-1]) / 1024


def _which(env: dict[str, str]) -> str:
    code = "import lamin_sa; print(lamin_sa.__file__)"
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),
    ).stdout.strip()


def _env(checkout: Path, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAMIN")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = str(checkout)
    env["LAMIN_SA_HOME"] = str(home / "home")
    env["LAMIN_SA_CACHE_DIR"] = str(home / "cache")
    return env


def _stats(values: list[float]) -> str:
    return f"min {min(values):6.3f}  median {statistics.median(values):6.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", required=True, help="the baseline checkout")
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    sides = {"base": Path(args.base).resolve(), "branch": ROOT}
    tmp = Path(tempfile.mkdtemp(prefix="lamin-fresh-"))
    results: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    try:
        for name, checkout in sides.items():
            subprocess.run(
                [sys.executable, "-m", "compileall", "-q", str(checkout / "lamin_sa")],
                check=True,
                capture_output=True,
            )
            where = tmp / name
            found = _which(_env(checkout, where))
            if not found.startswith(str(checkout)):
                raise SystemExit(f"{name}: imports lamin_sa from {found}")
            _run(SETUP.format(root=str(where / "inst")) + PEAK, _env(checkout, where))
        for i in range(args.runs):
            order = list(sides.items()) if i % 2 == 0 else list(sides.items())[::-1]
            for name, checkout in order:
                where = tmp / name
                results.setdefault(("connect", name), []).append(
                    _run(CONNECT, _env(checkout, where))
                )
                first = tmp / f"{name}-first-{i}"
                results.setdefault(("first_artifact", name), []).append(
                    _run(FIRST.format(root=str(first / "data")), _env(checkout, first))
                )
                shutil.rmtree(first, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{args.runs} runs each, interleaved; seconds; peak RSS in MB")
    for op in ("connect", "first_artifact"):
        for name in sides:
            runs = results[(op, name)]
            walls, cpus, rss = zip(*runs, strict=True)
            print(
                f"{op:<15} {name:<7} wall {_stats(list(walls))}  "
                f"cpu {_stats(list(cpus))}  rss {statistics.median(rss):5.1f}"
            )


if __name__ == "__main__":
    main()
