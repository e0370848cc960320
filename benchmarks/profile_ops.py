"""Profile lamin-sa's compared operations with cProfile.

``python benchmarks/profile_ops.py [save link df df_include filter validate inspect
search connect] [--top 25]`` prints, per operation, the functions with the most
cumulative and own time. Same data shapes as ``make bench-compare``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "compare"))


def _profile(name: str, fn, top: int, repeat: int = 1) -> None:  # noqa: ANN001
    fn()  # warm
    prof = cProfile.Profile()
    t = time.perf_counter()
    prof.enable()
    for _ in range(repeat):
        fn()
    prof.disable()
    dt = (time.perf_counter() - t) / repeat
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    print(f"===== {name}: {dt * 1e3:.2f} ms per call (under the profiler)")
    print(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("ops", nargs="*")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    ops = set(args.ops) or {
        "save",
        "link",
        "df",
        "df_include",
        "filter",
        "validate",
        "inspect",
        "search",
        "connect",
    }
    tmp = Path(tempfile.mkdtemp(prefix="lamin-prof-"))
    os.environ["LAMIN_SA_HOME"] = str(tmp / "home")
    os.environ["LAMIN_SA_CACHE_DIR"] = str(tmp / "cache")
    import backend_lamin_sa
    from worker import Worker, _frame

    w = Worker(backend_lamin_sa.Backend(), tmp)
    w.setup_instance(0)
    b = w.b
    if ops & {"df", "df_include", "filter"}:
        w.setup_queries(0)
    if ops & {"validate", "inspect", "search", "link"}:
        w.setup_labels(0)
    if "save" in ops:
        frames = [_frame(10_000 + i) for i in range(200)]
        it = iter(range(200))

        def save_some() -> None:
            for _ in range(100):
                b.save_df(frames[next(it)], "p")

        _profile("save x100", save_some, args.top)
    if "link" in ops:
        art = b.save_df(_frame(99), "links")
        labels = w.state["labels"]
        it = iter(range(len(labels)))

        def link_some() -> None:
            for _ in range(500):
                b.link(art, labels[next(it)])

        _profile("link x500", link_some, args.top)
    hit = w.state.get("hit")
    simple = {
        "df": b.df_all,
        "df_include": b.df_include,
        "filter": lambda: b.filter_relational(hit),
        "validate": lambda: b.validate(w.state["values"]),
        "inspect": lambda: b.inspect(w.state["values"]),
        "search": lambda: [b.search(q) for q in ("label 1234", "lable 4321")],
    }
    for name, fn in simple.items():
        if name in ops:
            _profile(name, fn, args.top, repeat=10)
    if "connect" in ops:
        code, _ = b.fresh_connect_code(tmp / "instance")
        prof = tmp / "connect.prof"
        pre = (
            "import cProfile; cProfile.run(" + repr(code) + ", " + repr(str(prof)) + ")"
        )
        subprocess.run([sys.executable, "-c", pre], check=True, env=os.environ)
        out = io.StringIO()
        stats = pstats.Stats(str(prof), stream=out)
        stats.sort_stats("cumulative").print_stats(args.top * 2)
        print("===== connect (fresh process)")
        print(out.getvalue())
    b.close()


if __name__ == "__main__":
    main()
