"""Validation and search benchmarks (issue "Labels, features, validation and
annotation", part A).

``run(record, tmp)`` is called by ``benchmarks/run.py``; it can also run alone:
``python -m benchmarks.bench_validate``. Registries: 10,000 ULabels (validate,
inspect, search), 10,000 Features with two synonyms each (standardize), then
100,000 ULabels (validate 1,000,000 values). All on SQLite.
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path

from benchmarks.common import median_time  # noqa: E402

Record = Callable[[str, float, str, str, bool], None]


def _median_ms(fn: Callable[[], object], repeat: int = 15, warmup: int = 5) -> float:
    return median_time(fn, repeat=repeat, warmup=warmup) * 1000


def _values(names: list[str], n: int, rng: random.Random) -> list[str]:
    """``n`` values: 90% stored names, 10% unknown ones."""
    out = []
    for i in range(n):
        if i % 10 == 0:
            out.append(f"unknown {rng.randrange(n)}")
        else:
            out.append(names[rng.randrange(len(names))])
    return out


def _bench_labels(record: Record, rng: random.Random) -> list[str]:
    import lamin_sa as ln

    names = [f"label {i}" for i in range(10_000)]
    ln.save([ln.ULabel(name=n) for n in names])
    values = _values(names, 100_000, rng)

    flags = ln.ULabel.validate(values, mute=True)
    assert int(flags.sum()) == 90_000
    t = _median_ms(lambda: ln.ULabel.validate(values, mute=True))
    record(
        "ULabel.validate 100,000 values vs 10,000 labels",
        t,
        "ms (median)",
        "<= 25 ms",
        t <= 25,
    )
    # case variants make inspect compute hints for the non-validated values
    mixed = [v.upper() if i % 50 == 1 else v for i, v in enumerate(values)]
    t = _median_ms(lambda: ln.ULabel.inspect(mixed, mute=True))
    record(
        "ULabel.inspect 100,000 values vs 10,000 labels (with case hints)",
        t,
        "ms (median)",
        "<= 50 ms",
        t <= 50,
    )

    queries = ["label 1234", "label 99", "lable 4321", "labl 77", "unknown thing"]
    for q in queries:
        assert ln.ULabel.search(q).first() is not None or q == "unknown thing"
    assert ln.ULabel.search("lable 4321").first().name == "label 4321"
    sql_times, fuzzy_times = [], []
    for q in queries:

        def one(q: str = q) -> object:
            return list(ln.ULabel.search(q))

        (fuzzy_times if "abl" in q or "unknown" in q else sql_times).append(
            _median_ms(one, repeat=21)
        )
    t_all = statistics.median(sql_times + fuzzy_times)
    record(
        "ULabel.search (5 queries, incl. typos) vs 10,000 labels, records fetched",
        t_all,
        "ms (median)",
        "<= 10 ms",
        t_all <= 10,
    )
    record(
        "  of which exact/prefix queries (SQL only)",
        statistics.median(sql_times),
        "ms (median)",
        "-",
        True,
    )
    record(
        "  of which typo queries (SQL + rapidfuzz)",
        statistics.median(fuzzy_times),
        "ms (median)",
        "-",
        True,
    )
    return names


def _bench_standardize(record: Record, rng: random.Random) -> None:
    import lamin_sa as ln

    features = [
        ln.Feature(name=f"feature {i}", dtype="cat", synonyms=f"F{i}|feat-{i}")
        for i in range(10_000)
    ]
    ln.save(features)
    del features  # time the library, not the caller's 10,000 live records
    values = []
    for i in range(100_000):
        k = rng.randrange(10_000)
        values.append(
            (f"feature {k}", f"F{k}", f"FEAT-{k}", f"Feature {k}", f"none {k}")[i % 5]
        )
    out = ln.Feature.standardize(values, mute=True)
    assert out[1].startswith("feature ") and out[4].startswith("none ")
    t = _median_ms(lambda: ln.Feature.standardize(values, mute=True))
    record(
        "Feature.standardize 100,000 values (synonyms, case) vs 10,000 features",
        t,
        "ms (median)",
        "<= 60 ms",
        t <= 60,
    )


def _bench_large(record: Record, names: list[str], rng: random.Random) -> None:
    import lamin_sa as ln

    more = [f"label {i}" for i in range(10_000, 100_000)]
    ln.save([ln.ULabel(name=n) for n in more])
    all_names = names + more
    values = _values(all_names, 1_000_000, rng)
    flags = ln.ULabel.validate(values, mute=True)
    assert int(flags.sum()) == 900_000
    t = _median_ms(lambda: ln.ULabel.validate(values, mute=True), repeat=5, warmup=1)
    record(
        "ULabel.validate 1,000,000 values vs 100,000 labels",
        t,
        "ms (median)",
        "<= 400 ms",
        t <= 400,
    )


def run(record: Record, tmp: Path) -> None:
    """Run the validation benchmarks in a fresh instance under ``tmp``."""
    import lamin_sa as ln

    ln.init(storage=tmp / "bench-validate")
    rng = random.Random(0)
    try:
        names = _bench_labels(record, rng)
        _bench_standardize(record, rng)
        _bench_large(record, names, rng)
    finally:
        ln.close()


if __name__ == "__main__":
    tmp = Path(tempfile.mkdtemp(prefix="lamin-bench-val-"))
    os.environ.setdefault("LAMIN_SA_HOME", str(tmp / "home"))
    os.environ.setdefault("LAMIN_SA_CACHE_DIR", str(tmp / "cache"))

    def _print(name: str, value: float, unit: str, target: str, ok: bool) -> None:
        flag = "" if ok else "  <-- misses target"
        print(f"{name:<75} {value:>10.3f} {unit:<12} {target}{flag}")

    run(_print, tmp)
    shutil.rmtree(tmp, ignore_errors=True)
