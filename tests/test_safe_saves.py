"""Nothing lost: crash-proof saves, honest hashes, safe keys, clean limits.

Every test runs on SQLite and (with LAMIN_SA_TEST_PG_URL) PostgreSQL; the
kill loops and crash-window tests also on S3 (moto server on 127.0.0.1).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

import lamin_sa as ln
from lamin_sa.artifact import journal
from lamin_sa.errors import (
    InvalidKeyError,
    RecordExistsError,
    SaveError,
    ValidationError,
)
from lamin_sa.settings import settings
from lamin_sa.storage import hash_dir, hash_file
from tests import test_artifact_fixtures as fx
from tests.s3_server import s3_bucket, s3_server  # noqa: F401
from tests.test_artifact_fixtures import Inst

inst = fx.inst
inst_local = fx.inst_local

REPO = str(Path(__file__).resolve().parents[1])


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _instance_name() -> str:
    from lamin_sa.instance import current_instance

    return current_instance().name


def _pending_rows() -> list:
    from lamin_sa.db.session import current
    from lamin_sa.models.pending import pending_save

    session = current().session
    rows = list(session.execute(select(pending_save)).all())
    session.commit()
    return rows


def _stored_hash(artifact) -> str:
    path = artifact.cache()
    return hash_dir(path)[0] if path.is_dir() else hash_file(path)[0]


def assert_consistent(inst: Inst) -> list:
    """Every row's object exists with its size and hash; no orphans; no journal."""
    from lamin_sa.artifact._state import storage_key

    arts = list(ln.Artifact.filter(visibility=None))
    for a in arts:
        assert inst.exists(storage_key(a)), f"missing object of {a.uid}"
        path = a.cache()
        if path.is_dir():
            h, _, size, n = hash_dir(path)
            assert (h, size, n) == (a.hash, a.size, a.n_objects)
        else:
            assert path.stat().st_size == a.size
            assert hash_file(path)[0] == a.hash
    expected = set()
    for a in arts:
        key = storage_key(a)
        if a.n_objects is None:
            expected.add(key)
        else:
            expected |= {o for o in inst.objects() if o.startswith(key + "/")}
    assert set(inst.objects()) == expected, "orphaned or temporary objects left"
    # this process's finished saves leave their journal rows until its next
    # write or exit; nothing else may be left
    assert all(not inst.exists(r.tmp_key) for r in _pending_rows())
    journal.flush()
    assert _pending_rows() == []
    return arts


# ------------------------------------------------------------- 1. short writes


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs (root only); skipped where it cannot be mounted."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
        capture_output=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_full_disk_raises_and_stores_nothing(inst_local: Inst, full_disk: Path) -> None:
    import numpy as np
    import pandas as pd

    ln.settings.storage = full_disk
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.random(400_000)})  # ~3 MB of parquet
    with pytest.raises(SaveError):
        ln.Artifact.from_df(df, description="too big").save()
    big = inst_local.tmp / "big.bin"
    big.write_bytes(os.urandom(3 * 2**20))
    with pytest.raises(SaveError):
        ln.Artifact(big, description="too big file").save()
    folder = inst_local.tmp / "folder"
    folder.mkdir()
    (folder / "small.txt").write_text("small")
    (folder / "big.bin").write_bytes(os.urandom(3 * 2**20))
    with pytest.raises(SaveError):
        ln.Artifact(folder, description="too big folder").save()
    assert ln.Artifact.filter(visibility=None).count() == 0
    leftovers = [
        p for p in full_disk.rglob("*") if p.is_file() and p.name != "_is_initialized"
    ]
    assert leftovers == []
    small = inst_local.tmp / "small.txt"
    small.write_text("fits")
    a = ln.Artifact(small, description="fits").save()
    assert a.cache().read_text() == "fits"


def test_local_sink_completes_short_writes(tmp_path: Path) -> None:
    from lamin_sa.storage.upload import _LocalSink

    class Trickle:
        """A file that takes at most 3 bytes per write, like a nearly full disk."""

        def __init__(self, f):
            self.f = f

        def write(self, data):
            return self.f.write(bytes(data[:3]))

        def close(self):
            self.f.close()

    sink = _LocalSink(tmp_path / "out.bin")
    sink.file = Trickle(sink.file)
    sink.write(b"0123456789")
    sink.close()
    assert (tmp_path / "out.bin").read_bytes() == b"0123456789"

    class Full(Trickle):
        def write(self, data):
            return 0

    sink = _LocalSink(tmp_path / "full.bin")
    sink.file = Full(sink.file)
    with pytest.raises(ln.errors.StorageError, match="disk full"):
        sink.write(b"abc")
    sink.abort()
    assert not (tmp_path / "full.bin").exists()


# ------------------------------------------------------------- 2. stale hashes


def test_file_changed_before_save_stores_the_hash_of_the_stored_bytes(
    inst: Inst, caplog
) -> None:
    f = inst.tmp / "data.txt"
    f.write_text("original content")
    original_hash = hash_file(f)[0]
    a = ln.Artifact(f, description="changes")
    time.sleep(0.01)
    f.write_text("changed content!")  # same size, new bytes and mtime
    a.save()
    assert "changed since" in caplog.text
    assert a.hash == hash_file(f)[0] != original_hash
    assert _stored_hash(a) == a.hash
    # dedup never hands the changed bytes to whoever saves the original content
    g = inst.tmp / "orig.txt"
    g.write_text("original content")
    b = ln.Artifact(g, description="original")
    assert b is not a and b.hash == original_hash
    b.save()
    assert b.cache().read_text() == "original content"


def test_prestaged_copy_of_a_changed_file_is_not_trusted(
    inst_local: Inst, monkeypatch, caplog
) -> None:
    from lamin_sa.artifact import prepare

    monkeypatch.setattr(prepare, "PRESTAGE_MIN_BYTES", 1)
    f = inst_local.tmp / "big.bin"
    f.write_bytes(b"a" * 100_000)
    a = ln.Artifact(f, description="prestaged")
    time.sleep(0.01)
    f.write_bytes(b"b" * 100_000)
    a.save()
    assert a.hash == hash_file(f)[0]
    assert _stored_hash(a) == a.hash
    assert a.cache().read_bytes() == b"b" * 100_000
    assert_consistent(inst_local)


# ------------------------------------------------------------- 3. crash window

_CRASH_WORKER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path

    import lamin_sa as ln
    from lamin_sa.artifact import store
    from lamin_sa.instance import connect

    name, folder, what = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    connect(name)
    folder.mkdir(parents=True, exist_ok=True)

    def crash(staged):
        os.kill(os.getpid(), signal.SIGKILL)  # rows committed, objects not moved

    if what == "replace":
        old = ln.Artifact.get(description="to replace")
        new = folder / "new.txt"
        new.write_text("new bytes")
        old.replace(new)
        store._commit_one = crash
        old.save()
    else:
        arts = []
        for i in range(5):
            f = folder / f"{i}.txt"
            f.write_text(f"crash {i}")
            arts.append(ln.Artifact(f, description=f"crash {i}"))
        d = folder / "dir"
        d.mkdir()
        (d / "a.txt").write_text("in a folder")
        arts.append(ln.Artifact(d, description="crash dir"))
        store._commit_one = crash
        ln.save(arts)
    print("not reached")
    """
)


def _run_crash_worker(inst: Inst, what: str) -> None:
    script = inst.tmp / "crash_worker.py"
    script.write_text(_CRASH_WORKER)
    proc = subprocess.run(
        [sys.executable, str(script), _instance_name(), str(inst.tmp / what), what],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-3000:]


def test_crash_after_row_commit_is_rolled_forward_on_connect(
    inst: Inst, caplog
) -> None:
    _run_crash_worker(inst, "files")
    assert len(_pending_rows()) == 6  # rows committed, objects still temporary
    # a reader finds the object missing and finishes that save on the spot
    early = ln.Artifact.get(description="crash 1")
    assert early.cache().read_text() == "crash 1"
    ln.connect(_instance_name())
    assert "finished interrupted saves" in caplog.text
    arts = assert_consistent(inst)
    assert len(arts) == 6
    assert {a.description for a in arts} >= {"crash 0", "crash dir"}
    # the same file again returns the now complete artifact
    again = ln.Artifact(inst.tmp / "files" / "0.txt", description="again")
    assert again.uid in {a.uid for a in arts} and again.id is not None
    assert again.cache().read_text() == "crash 0"


_DONE_WORKER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path

    import lamin_sa as ln
    from lamin_sa.instance import connect

    name, folder, what = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    connect(name)
    folder.mkdir(parents=True, exist_ok=True)
    if what == "replace":
        old = ln.Artifact.get(description="to replace")
        new = folder / "new.txt"
        new.write_text("new bytes, longer")
        old.replace(new)
        old.save()
    else:
        f = folder / "done.txt"
        f.write_text("saved, then killed")
        ln.Artifact(f, description="done").save()
        d = folder / "dir"
        d.mkdir()
        (d / "a.txt").write_text("a finished folder")
        ln.Artifact(d, description="done dir").save()
    os.kill(os.getpid(), signal.SIGKILL)  # after the moves, before any clear
    """
)


@pytest.mark.parametrize("what", ["files", "replace"])
def test_kill_after_the_move_is_settled_silently(inst: Inst, caplog, what: str) -> None:
    if what == "replace":
        f = inst.tmp / "old.txt"
        f.write_text("old bytes")
        a = ln.Artifact(f, description="to replace").save()
        journal.flush()
    script = inst.tmp / "done_worker.py"
    script.write_text(_DONE_WORKER)
    proc = subprocess.run(
        [sys.executable, str(script), _instance_name(), str(inst.tmp / what), what],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-3000:]
    rows = _pending_rows()
    # the last save's rows remain ("done"); the earlier one went with it
    assert len(rows) == 1
    assert not inst.exists(rows[0].tmp_key) and inst.exists(rows[0].final_key)
    caplog.clear()
    with caplog.at_level("INFO", logger="lamin_sa"):
        ln.connect(_instance_name())
    assert "interrupted" not in caplog.text and "unfinished" not in caplog.text
    assert "rolled back" not in caplog.text
    assert _pending_rows() == []
    arts = assert_consistent(inst)
    if what == "replace":
        (b,) = arts
        assert b.uid == a.uid and b.cache().read_text() == "new bytes, longer"
    else:
        assert {x.description for x in arts} == {"done", "done dir"}
    assert str(journal.repair()).startswith("0 save(s) completed, 0 rolled back")


def test_finished_rows_are_cleared_by_the_next_save(inst: Inst) -> None:
    f, g = inst.tmp / "one.txt", inst.tmp / "two.txt"
    f.write_text("one")
    g.write_text("two")
    ln.Artifact(f, description="one").save()
    (first,) = _pending_rows()
    ln.Artifact(g, description="two").save()
    (second,) = _pending_rows()  # the first went in the second's commit
    assert second.id != first.id
    report = journal.check_pending()  # this process's finished row: just deleted
    assert report is not None and str(report).startswith("0 save(s) completed, 0")
    assert not report.in_progress and _pending_rows() == []
    journal.flush()  # nothing left to do


def test_close_deletes_the_finished_rows(inst: Inst) -> None:
    f = inst.tmp / "one.txt"
    f.write_text("one")
    ln.Artifact(f, description="one").save()
    assert len(_pending_rows()) == 1  # "done", waiting for the next save
    name = _instance_name()
    ln.close()
    ln.connect(name)
    assert _pending_rows() == []
    from lamin_sa.db.session import current

    assert not journal.waiting(current())


def test_stale_row_of_a_replaced_artifact_is_dropped(inst_local: Inst) -> None:
    """A leftover row never reverts data replaced after it by another save."""
    from lamin_sa.models.pending import pending_save

    f = inst_local.tmp / "v1.txt"
    f.write_text("v1")
    a = ln.Artifact(f, description="stale").save()
    (row,) = _pending_rows()
    g = inst_local.tmp / "v2.txt"
    g.write_text("version two is longer")
    a.replace(g)
    a.save()
    journal.flush()
    # the first save's row, as a process killed after its move would leave it
    values = {k: v for k, v in row._mapping.items() if k != "id"}
    values["owner"] = _dead_tag()
    from lamin_sa.db.session import write_transaction

    with write_transaction() as session:
        session.execute(pending_save.insert().values(**values))
    report = journal.repair()
    assert not report.rolled_back and not report.rolled_forward
    assert _pending_rows() == []
    assert ln.Artifact.get(a.uid).cache().read_text() == "version two is longer"
    assert_consistent(inst_local)


def test_crash_during_replace_is_rolled_forward(inst: Inst) -> None:
    f = inst.tmp / "old.txt"
    f.write_text("old bytes")
    a = ln.Artifact(f, description="to replace").save()
    _run_crash_worker(inst, "replace")
    ln.connect(_instance_name())
    (b,) = assert_consistent(inst)
    assert b.uid == a.uid and b.cache().read_text() == "new bytes"


def test_lost_temporary_object_rolls_the_save_back(inst_local: Inst) -> None:
    from lamin_sa.artifact.journal import repair
    from lamin_sa.storage import delete

    _run_crash_worker(inst_local, "files")
    rows = _pending_rows()
    for row in rows[:2]:
        delete(inst_local.root, row.tmp_key)
    report = repair()
    assert len(report.rolled_back) == 2 and len(report.rolled_forward) == 4
    assert len(assert_consistent(inst_local)) == 4


def test_repair_keeps_what_live_saves_need(inst_local: Inst) -> None:
    """A pending save of a live process is left alone; its temp object is kept."""
    from lamin_sa.artifact import store
    from lamin_sa.artifact.journal import check_pending, repair

    f = inst_local.tmp / "live.txt"
    f.write_text("live")
    a = ln.Artifact(f, description="live")

    def interrupted(staged):
        raise KeyboardInterrupt  # this process stays alive, the move never ran

    real = store._commit_one
    store._commit_one = interrupted
    try:
        with pytest.raises(KeyboardInterrupt):
            a.save()
    finally:
        store._commit_one = real
    (row,) = _pending_rows()
    report = check_pending()
    assert report is not None and report.in_progress == 1
    report = repair(tmp_older_than=0)
    assert report.in_progress == 1 and inst_local.exists(row.tmp_key)
    report = repair(force=True, tmp_older_than=0)
    assert report.rolled_forward == [a.uid]
    assert_consistent(inst_local)


def test_owner_and_repair_moving_the_same_object_both_succeed(inst: Inst) -> None:
    from lamin_sa.storage import finish_move, stage

    src = inst.tmp / "both.txt"
    src.write_text("moved once")
    staged = stage(src, inst.root, ".lamindb/both.txt")
    assert finish_move(inst.root, staged.tmp_key, staged.final_key, size=staged.size)
    assert staged.commit().endswith("both.txt")  # the owner sees it in place
    assert not inst.exists(staged.tmp_key) and inst.exists(".lamindb/both.txt")


def test_purge_removes_temp_objects_of_dead_processes(inst: Inst) -> None:
    from lamin_sa.artifact.journal import repair
    from lamin_sa.storage import TMP_PREFIX, put_file

    src = inst.tmp / "junk.bin"
    src.write_bytes(b"junk")
    dead = f"{TMP_PREFIX}{_dead_tag()}-0123456789abcdef.bin"
    put_file(src, inst.root, dead, tmp=False)
    alive = f"{TMP_PREFIX}unknown-owner.bin"
    put_file(src, inst.root, alive, tmp=False)
    report = repair()
    assert report.purged == 1
    assert not inst.exists(dead) and inst.exists(alive)  # recent, owner unknown
    assert repair(tmp_older_than=-1).purged == 1


def _dead_tag() -> str:
    from lamin_sa.storage import process_tag

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    host = process_tag().split(".")[0]
    return f"{host}.{proc.pid}.1"


def test_unfinished_multipart_uploads_are_aborted(inst: Inst) -> None:
    if inst.kind != "s3":
        pytest.skip("multipart uploads exist on S3 only")
    from lamin_sa.storage import TMP_PREFIX
    from lamin_sa.storage.staging import purge_tmp

    fs = inst.root.fs
    bucket, prefix, _ = fs.split_path(inst.root.join(TMP_PREFIX + "x"))
    dead_key = prefix[:-1] + f"{_dead_tag()}-0123456789abcdef.bin"
    live_key = prefix[:-1] + "someone-else.bin"
    for key in (dead_key, live_key):
        fs.call_s3("create_multipart_upload", Bucket=bucket, Key=key)
    # moto reports a fixed 2010 start date: check the dead-owner rule alone
    assert purge_tmp(inst.root, older_than=float("inf")) == 1
    uploads = fs.call_s3("list_multipart_uploads", Bucket=bucket).get("Uploads", [])
    assert [u["Key"] for u in uploads] == [live_key]
    assert purge_tmp(inst.root, older_than=-60) == 1


_KILL_WORKER = textwrap.dedent(
    """
    import random, sys
    from pathlib import Path

    import lamin_sa as ln
    from lamin_sa.instance import connect

    name, folder, mode, seed = sys.argv[1], Path(sys.argv[2]), sys.argv[3], sys.argv[4]
    connect(name)
    rng = random.Random(int(seed))
    folder.mkdir(parents=True, exist_ok=True)
    print("ready", flush=True)
    last = None
    for i in range(100000):
        tag = f"{seed}-{i}"
        if mode == "folders":
            d = folder / tag
            d.mkdir()
            for j in range(rng.randint(1, 4)):
                (d / f"{j}.txt").write_text(f"{tag}-{j}" * rng.randint(1, 30))
            last = ln.Artifact(d, description=tag).save()
        elif last is not None and i % 4 == 0:
            f = folder / f"{tag}-r.txt"
            f.write_text(f"replaced {tag}" * rng.randint(1, 30))
            last.replace(f)
            last.save()
        else:
            arts = []
            for j in range(rng.choice([1, 1, 20])):
                f = folder / f"{tag}-{j}.txt"
                f.write_text(f"{tag}-{j}" * rng.randint(1, 30))
                arts.append(ln.Artifact(f, description=f"{tag}-{j}"))
            ln.save(arts)
            last = arts[-1]
        if i == 0:
            print("saved", flush=True)
    """
)


def _wait_for(proc: subprocess.Popen, word: str) -> None:
    """Read the worker's next line; fail with its stderr unless it says ``word``."""
    assert proc.stdout is not None
    if word not in proc.stdout.readline():
        proc.kill()
        raise AssertionError(proc.communicate()[1][-3000:])


def _start_worker(script: Path, *args: object) -> subprocess.Popen:
    """Run ``script`` with ``args`` in a fresh process, once it printed "ready"."""
    proc = subprocess.Popen(
        [sys.executable, str(script), *map(str, args)],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for(proc, "ready")
    return proc


def _kill_loop(
    inst: Inst, mode: str, kills: int, seed: int, wait: tuple[float, float]
) -> None:
    from lamin_sa.artifact.journal import repair

    rng = random.Random(seed)
    script = inst.tmp / "kill_worker.py"
    script.write_text(_KILL_WORKER)
    name = _instance_name()
    for k in range(kills):
        proc = _start_worker(script, name, inst.tmp / "src", mode, k)
        if k == kills - 1:
            # on a loaded machine every random kill may come before the first
            # save: the last one waits for it, so the checks have rows to check
            _wait_for(proc, "saved")
        time.sleep(rng.uniform(*wait))
        proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate(timeout=60)
        # a worker that failed on its own (not killed) would hide a broken save
        assert proc.returncode == -signal.SIGKILL, err[-3000:]
        ln.connect(name)  # rolls the killed process's pending saves forward
    repair()  # removes the killed processes' temporary objects
    arts = assert_consistent(inst)
    assert arts, "the worker saved nothing before being killed"
    f = inst.tmp / "after.txt"
    f.write_text("a save works after the kills")
    assert (
        ln.Artifact(f, description="after")
        .save()
        .cache()
        .read_text()
        .startswith("a save")
    )


_REPLACE_THEN_READ = textwrap.dedent(
    """
    import sys, time
    import lamin_sa as ln
    from lamin_sa.instance import connect

    connect(sys.argv[1])
    a = ln.Artifact.get(sys.argv[2])
    a.replace(sys.argv[3])
    # reads between replace() and save() must not store the new fields
    ln.Artifact.filter(description="none").count()
    ln.ULabel.filter().list("name")
    print("ready", flush=True)
    time.sleep(60)
    a.save()
    """
)


def test_a_kill_between_replace_and_save_keeps_the_old_artifact(
    inst_local: Inst,
) -> None:
    f = inst_local.tmp / "old.txt"
    f.write_text("the old content")
    a = ln.Artifact(f, description="kept").save()
    g = inst_local.tmp / "new.txt"
    g.write_text("a new and longer content")
    script = inst_local.tmp / "replace_then_read.py"
    script.write_text(_REPLACE_THEN_READ)
    proc = _start_worker(script, _instance_name(), a.uid, g)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    ln.connect(_instance_name())
    from lamin_sa.db.session import current
    from lamin_sa.models.core import Artifact

    t = Artifact.__table__
    with current().engine.connect() as conn:  # the stored row
        stored = conn.execute(select(t.c.size, t.c.hash).where(t.c.uid == a.uid)).one()
    assert tuple(stored) == (len("the old content"), a.hash)
    assert a.cache().read_text() == "the old content"
    assert_consistent(inst_local)


def test_kill_loop_files(inst_local: Inst) -> None:
    _kill_loop(inst_local, "files", kills=6, seed=1, wait=(0.05, 1.2))


def test_kill_loop_folders(inst_local: Inst) -> None:
    _kill_loop(inst_local, "folders", kills=5, seed=2, wait=(0.05, 1.2))


def test_kill_loop_s3(inst: Inst) -> None:
    if inst.kind != "s3":
        pytest.skip("the local kill loops run in test_kill_loop_files/folders")
    _kill_loop(inst, "files", kills=5, seed=3, wait=(0.5, 3.0))


def test_cli_repair(inst_local: Inst) -> None:
    exe = Path(sys.executable).with_name("lamin-sa")
    proc = subprocess.run(
        [str(exe), "repair"], env=_env(), capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "0 save(s) completed, 0 rolled back" in proc.stdout


# ------------------------------------------------------------- 4./5. keys


def test_symlinked_real_keys_are_refused(inst_local: Inst) -> None:
    settings.artifact_use_virtual_keys = False
    root = Path(inst_local.root.root)
    outside = inst_local.tmp / "outside"
    outside.mkdir()
    (root / "escape").symlink_to(outside)
    (root / "inner").symlink_to(root / ".lamindb")
    db_file = root / ".lamindb" / "lamin.db"
    f = inst_local.tmp / "x.txt"
    f.write_text("x")
    with pytest.raises(InvalidKeyError, match="outside the storage root"):
        ln.Artifact(f, key="escape/x.txt")
    with pytest.raises(InvalidKeyError, match="into '.lamindb/'"):
        ln.Artifact(f, key="inner/lamin.db")
    (root / "link.txt").symlink_to(outside / "target.txt")
    with pytest.raises(InvalidKeyError, match="symlink"):
        ln.Artifact(f, key="link.txt")
    assert list(outside.iterdir()) == []
    if db_file.exists():
        assert db_file.read_bytes()[:15] == b"SQLite format 3"
    # a symlink created between constructor and save is caught on save
    a = ln.Artifact(f, key="later/x.txt")
    (root / "later").symlink_to(outside)
    with pytest.raises((SaveError, InvalidKeyError)):
        a.save()
    assert list(outside.iterdir()) == []
    assert ln.Artifact.filter().count() == 0


def test_same_real_key_twice_is_refused(inst: Inst) -> None:
    settings.artifact_use_virtual_keys = False
    f1, f2 = inst.tmp / "one.txt", inst.tmp / "two.txt"
    f1.write_text("first")
    f2.write_text("second")
    a = ln.Artifact(f1, key="shared/data.txt").save()
    with pytest.raises(RecordExistsError, match="replace"):
        ln.Artifact(f2, key="shared/data.txt")
    with pytest.raises(RecordExistsError, match="overwrite"):
        ln.Artifact(f2, revises=a)
    assert a.cache().read_text() == "first"
    a.replace(f2)
    a.save()  # replacing one's own data at the key is fine
    assert a.cache().read_text() == "second"
    assert ln.Artifact.filter().count() == 1


def test_s3_version_id_keys_are_refused(inst: Inst) -> None:
    if inst.kind != "s3":
        pytest.skip("only S3 paths reserve ?versionId=")
    settings.artifact_use_virtual_keys = False
    f = inst.tmp / "v.txt"
    f.write_text("v")
    with pytest.raises(InvalidKeyError, match="versionId"):
        ln.Artifact(f, key="a.txt?versionId=abc")


@pytest.mark.parametrize("virtual", [True, False])
def test_long_and_colon_keys(inst: Inst, virtual: bool) -> None:
    settings.artifact_use_virtual_keys = virtual
    for n in (239, 250, 255):
        key = "k" * (n - 4) + ".txt"
        f = inst.tmp / f"long{n}.txt"
        f.write_text(f"long {n} {virtual}")
        a = ln.Artifact(f, key=key).save()
        assert a.key == key and a.cache().read_text() == f"long {n} {virtual}"
    f = inst.tmp / "colon.txt"
    f.write_text(f"colon {virtual}")
    a = ln.Artifact(f, key="a:b.txt").save()
    assert a.key == "a:b.txt" and a.cache().read_text() == f"colon {virtual}"
    assert_consistent(inst) if virtual else None


# ------------------------------------------------------------- 9./10. fields


def test_lengths_and_blank_names_are_refused_before_the_database(
    inst_local: Inst,
) -> None:
    with pytest.raises(ValidationError, match="limit is"):
        ln.ULabel(name="x" * 300).save()
    for blank in ("", "   ", "\t"):
        with pytest.raises(ValidationError, match="empty"):
            ln.ULabel(name=blank).save()
    with pytest.raises(ValidationError, match="limit is"):
        ln.save([ln.ULabel(name="ok"), ln.ULabel(name="y" * 151)])
    assert ln.ULabel.filter().count() == 0
    f = inst_local.tmp / "d.txt"
    f.write_text("d")
    with pytest.raises(ValidationError, match="description"):
        ln.Artifact(f, description="d" * 256).save()
    assert ln.Artifact.filter().count() == 0
    assert ln.ULabel(name="y" * 150).save().id is not None  # the limit itself


def test_dedup_never_erases_metadata(inst: Inst, caplog) -> None:
    f = inst.tmp / "same.txt"
    f.write_text("same bytes")
    a = ln.Artifact(f, description="important").save()
    caplog.clear()
    b = ln.Artifact(f, key="raw/same.txt").save()
    assert b.uid == a.uid
    assert "to None" not in caplog.text
    stored = ln.Artifact.get(a.uid)
    assert stored.description == "important" and stored.key == "raw/same.txt"
    caplog.clear()
    ln.Artifact(f, description="updated").save()
    assert caplog.text.count("updating description") == 1
    assert ln.Artifact.get(a.uid).description == "updated"


def test_same_content_twice_in_one_save_stores_one_artifact(inst: Inst, caplog) -> None:
    import pandas as pd

    f, g = inst.tmp / "first.txt", inst.tmp / "second.txt"
    f.write_text("the same bytes")
    g.write_text("the same bytes")
    df = pd.DataFrame({"x": [1, 2, 3]})
    a, b = ln.Artifact(f, description="first"), ln.Artifact(g, description="second")
    c = ln.Artifact.from_df(df, description="frame one")
    d = ln.Artifact.from_df(df.copy(), description="frame two")
    caplog.clear()
    ln.save([a, b, c, d])
    assert caplog.text.count("returning existing artifact with same hash") == 2
    assert a.uid in caplog.text and c.uid in caplog.text
    assert (b.id, b.uid, b.description) == (a.id, a.uid, "first")
    assert (d.id, d.uid) == (c.id, c.uid)
    arts = assert_consistent(inst)  # one object each, no temporary copies left
    assert sorted(x.description for x in arts) == ["first", "frame one"]
    assert "first" in str(b)
    b.description = "renamed through the twin"
    b.save()
    assert ln.Artifact.get(a.uid).description == "renamed through the twin"
    # a separate save of the same content resolves the same way
    again = ln.Artifact(g, key="again.txt")
    assert again.uid == a.uid
