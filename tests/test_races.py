"""Several processes writing the same things at the same instant (SQLite and
PostgreSQL): get-or-create, links, bulk saves in opposite orders, identical
content and new versions of one family all stay consistent and raise nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import lamin_sa as ln
from tests import test_artifact_fixtures as fx
from tests.test_artifact_fixtures import Inst

inst_local = fx.inst_local

WORKERS = 4
REPO = str(Path(__file__).resolve().parents[1])

_WORKER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path

    import lamin_sa as ln
    from lamin_sa.instance import connect

    name, op, index, workers, folder = sys.argv[1:6]
    index, folder = int(index), Path(folder)
    connect(name)
    out = {}
    # warm up (imports, first queries) before the common start instant
    ln.ULabel.filter().count()
    ln.Artifact.filter().count()
    if op == "bytes":
        f = folder / f"same-{index}.txt"
        f.write_text("identical content")
    if op == "version":
        base = ln.Artifact.get(description="base")
        f = folder / f"v-{index}.txt"
        f.write_text(f"version by {index}")
    # a barrier: go when every worker is connected and warm
    (folder / f"ready-{op}-{index}").touch()
    while len(list(folder.glob(f"ready-{op}-*"))) < int(workers):
        time.sleep(0.001)
    if op == "ulabel":
        out["id"] = ln.ULabel(name="same name").save().id
    elif op == "link":
        artifact = ln.Artifact.get(description="host")
        artifact.ulabels.add(ln.ULabel.get(name="linked"))
    elif op == "bulk":
        names = [f"bulk-{i}" for i in range(200)]
        for round_ in range(3):
            order = names if (index + round_) % 2 else names[::-1]
            ln.save([ln.ULabel(name=n) for n in order])
    elif op == "bytes":
        a = ln.Artifact(f, description=f"by {index}")
        a.save()
        out["uid"] = a.uid
    elif op == "version":
        out["uid"] = ln.Artifact(f, revises=base).save().uid
    print(json.dumps(out))
    """
)


def _race(inst: Inst, op: str) -> list[dict]:
    from lamin_sa.instance import current_instance

    script = inst.tmp / "race_worker.py"
    script.write_text(_WORKER)
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(script),
                current_instance().name,
                op,
                str(i),
                str(WORKERS),
                str(inst.tmp),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(WORKERS)
    ]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def test_same_ulabel_name_at_once(inst_local: Inst) -> None:
    results = _race(inst_local, "ulabel")
    assert ln.ULabel.filter(name="same name").count() == 1
    assert len({r["id"] for r in results}) == 1


def test_same_link_at_once(inst_local: Inst) -> None:
    f = inst_local.tmp / "host.txt"
    f.write_text("host")
    artifact = ln.Artifact(f, description="host").save()
    label = ln.ULabel(name="linked").save()
    _race(inst_local, "link")
    assert [u.name for u in artifact.ulabels.all()] == [label.name]


def test_bulk_saves_in_opposite_orders(inst_local: Inst) -> None:
    _race(inst_local, "bulk")
    assert ln.ULabel.filter(name__startswith="bulk-").count() == 200


def test_identical_content_at_once(inst_local: Inst) -> None:
    results = _race(inst_local, "bytes")
    arts = list(ln.Artifact.filter(visibility=None))
    assert len(arts) == 1, [(a.uid, a.description) for a in arts]
    assert {r["uid"] for r in results} == {arts[0].uid}  # everyone got that one
    assert arts[0].cache().read_text() == "identical content"
    objects = [o for o in inst_local.objects() if not o.startswith(".lamindb/_tmp")]
    assert objects == [f".lamindb/{arts[0].uid}.txt"]


def test_new_versions_at_once(inst_local: Inst) -> None:
    f = inst_local.tmp / "base.txt"
    f.write_text("base")
    base = ln.Artifact(f, description="base").save()
    results = _race(inst_local, "version")
    from lamin_sa.db.session import current

    current().session.expire_all()  # `base` in this session predates the race
    family = list(ln.Artifact.filter(uid__startswith=base.uid[:16]))
    assert len(family) == WORKERS + 1
    assert {r["uid"] for r in results} <= {a.uid for a in family}
    assert sum(a.is_latest for a in family) == 1, [
        (a.uid, a.version, a.is_latest, a.description) for a in family
    ]


def test_new_versions_at_once_get_distinct_versions(inst_local: Inst) -> None:
    """Four writers revising one artifact at the same instant: 2, 3, 4, 5."""
    f = inst_local.tmp / "base.txt"
    f.write_text("base")
    base = ln.Artifact(f, description="base").save()
    _race(inst_local, "version")
    from lamin_sa.db.session import current

    current().session.expire_all()
    family = list(ln.Artifact.filter(uid__startswith=base.uid[:16]))
    versions = sorted(a.version for a in family)
    assert versions == ["1", "2", "3", "4", "5"], [
        (a.uid, a.version, a.description) for a in family
    ]
    assert sum(a.is_latest for a in family) == 1


def test_two_new_versions_in_one_save(inst_local: Inst) -> None:
    f, g, h = (inst_local.tmp / n for n in ("b.txt", "v1.txt", "v2.txt"))
    f.write_text("base")
    g.write_text("one")
    h.write_text("two")
    base = ln.Artifact(f, description="base").save()
    a, b = ln.Artifact(g, revises=base), ln.Artifact(h, revises=base)
    assert a.version == b.version == "2"  # derived at construction
    ln.save([a, b])
    assert sorted([a.version, b.version]) == ["2", "3"]
