"""One clear line for every failure to reach or use a database: the library raises
a lamin_sa.errors error saying what to do, the CLI prints it and exits 1."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

import lamin_sa as ln
from lamin_sa import instance as inst
from lamin_sa.db.session import make_engine
from lamin_sa.errors import (
    DatabaseCorrupt,
    DatabaseUnreachable,
    DatabaseWriteError,
    ForeignSchemaError,
    LaminSAError,
)
from tests.conftest import BACKENDS, PG_URL, reset_postgres

SCRIPT = str(Path(sys.executable).with_name("lamin-sa"))


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SCRIPT, *args], env=dict(os.environ), capture_output=True, text=True
    )


def assert_one_line(r: subprocess.CompletedProcess[str], *needles: str) -> str:
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("Error: ")
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def closed() -> Iterator[None]:
    yield
    inst.close()


def test_unreachable_server(tmp_path, closed):
    url = "postgresql://someone@127.0.0.1:1/nothing"
    with pytest.raises(DatabaseUnreachable, match="Cannot reach the database server"):
        ln.connect(url)
    line = assert_one_line(cli("connect", url), "Cannot reach", "127.0.0.1:1")
    assert "init" not in line
    r = cli("init", "--storage", str(tmp_path / "x"), "--db", url)
    assert_one_line(r, "Cannot reach the database server 127.0.0.1:1/nothing")


def _garbage_instance(folder: Path) -> Path:
    db = folder / ".lamindb" / "lamin.db"
    db.parent.mkdir(parents=True)
    db.write_bytes(b"this is not a database at all\n" * 200)
    return db


def test_garbage_sqlite_file(tmp_path, closed):
    folder = tmp_path / "broken"
    _garbage_instance(folder)
    with pytest.raises(DatabaseCorrupt, match="not a readable SQLite database"):
        ln.connect(str(folder))
    line = assert_one_line(cli("connect", str(folder)), "not a readable SQLite")
    assert "init" not in line  # re-initializing would not help
    r = cli("init", "--storage", str(folder))
    assert_one_line(r, "lamin.db is not a readable SQLite database")
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("backend", BACKENDS)
def test_foreign_tables_of_the_same_names(tmp_path, closed, backend):
    if backend == "sqlite":
        folder = tmp_path / "foreign"
        (folder / ".lamindb").mkdir(parents=True)
        url = f"sqlite:///{folder / '.lamindb' / 'lamin.db'}"
        init_args = ["--storage", str(folder)]
        target = str(folder)
    else:
        reset_postgres(PG_URL)
        url = PG_URL
        init_args = ["--storage", str(tmp_path / "pg"), "--db", PG_URL]
        target = PG_URL
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE core_user (handle VARCHAR(30))"))
        conn.execute(text("CREATE TABLE core_artifact (path TEXT)"))
    engine.dispose()
    with pytest.raises(ForeignSchemaError, match="lamin-sa did not create"):
        ln.init(storage=init_args[1], db=None if backend == "sqlite" else PG_URL)
    assert_one_line(cli("init", *init_args), "core_artifact, core_user")
    assert_one_line(cli("connect", target), "tables named like lamin-sa's")
    if backend == "postgresql":
        reset_postgres(PG_URL)


@pytest.fixture
def small_disk(tmp_path) -> Iterator[Path]:
    """A 3 MB tmpfs (root only): a real full disk for SQLite."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("needs root to mount a tmpfs")
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)],
        capture_output=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        inst.close()
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(folder: Path) -> Path:
    filler = folder / "filler.bin"
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    return filler


@pytest.fixture
def pg_small_tablespace() -> Iterator[tuple[str, Path]]:
    """A PostgreSQL tablespace on a 3 MB tmpfs (root and a superuser only)."""
    if not PG_URL:
        pytest.skip("PostgreSQL only: needs LAMIN_SA_TEST_PG_URL")
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a tmpfs")
    import pwd

    from sqlalchemy.engine import make_url

    name = f"{make_url(PG_URL).database}_small"
    # outside pytest's 0700 temp dirs: the postgres user must reach it
    mount = Path("/tmp") / name
    mount.mkdir(exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m,mode=0755", "tmpfs", str(mount)],
        capture_output=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.decode().strip()}")
    data = mount / "pg"
    data.mkdir()
    postgres = pwd.getpwnam("postgres")
    os.chown(data, postgres.pw_uid, postgres.pw_gid)
    engine = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f"CREATE TABLESPACE {name} LOCATION '{data}'"))
        yield name, mount
    finally:
        inst.close()
        reset_postgres(PG_URL)
        with engine.connect() as conn:
            conn.execute(text(f"DROP TABLESPACE IF EXISTS {name}"))
        engine.dispose()
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _bulk_save_fails_then_nothing_is_left() -> None:
    # names within the column length (150): only the full disk may fail the save
    labels = [ln.ULabel(name=f"label {i} " + "x" * 120) for i in range(3000)]
    with pytest.raises(DatabaseWriteError, match="free disk space") as err:
        ln.save(labels)
    assert isinstance(err.value, LaminSAError)
    assert len(str(err.value).splitlines()) == 1


def test_label_saves_on_a_full_disk_sqlite(small_disk):
    ln.init(storage=small_disk / "inst")
    ln.ULabel(name="before").save()
    filler = _fill(small_disk)
    _bulk_save_fails_then_nothing_is_left()
    filler.unlink()
    # all or nothing: the failed save left no label behind, the next one works
    assert ln.ULabel.filter().list("name") == ["before"]
    ln.ULabel(name="after").save()
    assert ln.ULabel.filter().count() == 2


def test_label_saves_on_a_full_disk_postgres(tmp_path, pg_small_tablespace):
    tablespace, mount = pg_small_tablespace
    reset_postgres(PG_URL)
    ln.init(storage=tmp_path / "pgfull", db=PG_URL)
    ln.ULabel(name="before").save()
    engine = make_engine(PG_URL)
    with engine.begin() as conn:
        # the label table and its indexes live on the small disk
        conn.execute(text(f"ALTER TABLE core_ulabel SET TABLESPACE {tablespace}"))
        indexes = conn.scalars(
            text("SELECT indexname FROM pg_indexes WHERE tablename = 'core_ulabel'")
        ).all()
        for index in indexes:
            conn.execute(text(f'ALTER INDEX "{index}" SET TABLESPACE {tablespace}'))
    engine.dispose()
    filler = _fill(mount)
    _bulk_save_fails_then_nothing_is_left()
    filler.unlink()
    assert ln.ULabel.filter().list("name") == ["before"]
    ln.ULabel(name="after").save()
    assert ln.ULabel.filter().count() == 2
