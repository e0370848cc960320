"""The connection context: host sessions stay apart from the user's own instances,
auto-connect works from every entry point, mounted modules load on connect."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

import lamin_sa as ln
from lamin_sa import instance as inst
from lamin_sa import migrate
from lamin_sa.config import current_instance_name, set_current_instance
from lamin_sa.db import context
from lamin_sa.db import session as dbs
from lamin_sa.errors import NoDefaultStorage
from lamin_sa.models.core import Artifact, Storage
from tests.conftest import BACKENDS, PG_URL, reset_postgres


@pytest.fixture
def last_used(tmp_path):
    """The user's own SQLite instance, remembered as the last used one."""
    root = tmp_path / "mine"
    ln.init(storage=root)
    inst.close()  # not connected, but auto-connect would pick it
    set_current_instance("mine")
    assert context.current_or_none() is None
    yield root
    inst.close()


@pytest.fixture
def host_engine(db_url):
    engine = create_engine(dbs.normalize_url(db_url))
    with engine.connect() as conn:
        migrate.upgrade(conn, modules=["core"])
    yield engine
    engine.dispose()


def _files(root: Path) -> list[str]:
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and "lamin.db" not in p.name and p.name != "_is_initialized"
    )


def test_host_session_artifact_never_touches_the_last_used_instance(
    tmp_path, last_used, host_engine
):
    before = _files(last_used)
    src = tmp_path / "data.txt"
    src.write_text("host bytes")
    host_store = tmp_path / "host-store"
    with Session(host_engine) as session:
        with ln.use_session(session, storage=host_store, user="host-app") as ctx:
            artifact = Artifact(src, key="in/data.txt").save()
            session.commit()
            assert ctx.instance is None and ctx.storage_root == host_store.as_posix()
            assert ln.settings.storage == host_store.as_posix()
            # read back inside the block: the bytes are in the host's storage
            assert Path(artifact.cache()).read_text() == "host bytes"
    # no auto-connect happened, the user's last instance is still remembered
    assert context.current_or_none() is None
    assert inst.connected_instance() is None
    assert current_instance_name() == "mine"
    assert _files(last_used) == before
    stored = [p for p in host_store.rglob("*") if p.is_file() and "lamindb" in str(p)]
    assert any(p.read_text() == "host bytes" for p in stored)
    with host_engine.connect() as conn:
        roots = list(conn.scalars(select(Storage.root)))
        assert roots == [host_store.as_posix()]
        assert conn.scalar(select(func.count()).select_from(Artifact)) == 1
    # the user's instance has no artifact and no foreign storage row
    ln.connect("mine")
    assert Artifact.filter().count() == 0
    assert Storage.filter().list("root") == [last_used.as_posix()]


def test_host_session_without_storage_says_so(tmp_path, last_used, host_engine):
    src = tmp_path / "data.txt"
    src.write_text("x")
    with Session(host_engine) as session, ln.use_session(session):
        with pytest.raises(NoDefaultStorage, match=r"use_session\(session, storage="):
            Artifact(src, description="x").save()
        session.rollback()
    assert context.current_or_none() is None
    assert current_instance_name() == "mine"
    with host_engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Storage)) == 0


def test_deleting_in_a_host_session_removes_the_object(tmp_path, host_engine):
    src = tmp_path / "gone.txt"
    src.write_text("bye")
    host_store = tmp_path / "store"
    with Session(host_engine) as session:
        with ln.use_session(session, storage=host_store):
            artifact = Artifact(src, description="gone").save()
            session.commit()
            path = Path(artifact.path)
            assert path.exists()
            artifact.delete(permanent=True)
            session.commit()
            assert not path.exists()


@pytest.mark.parametrize("backend", BACKENDS)
def test_direct_model_import_autoconnects_in_a_fresh_process(tmp_path, backend):
    db = []
    if backend == "postgresql":
        reset_postgres(PG_URL)
        db = ["--db", PG_URL]
    env = dict(os.environ)
    subprocess.run(
        [_script(), "init", "--storage", str(tmp_path / "fresh"), *db],
        env=env,
        check=True,
        capture_output=True,
    )
    code = (
        "from lamin_sa.models.core import ULabel\n"
        "ULabel(name='direct').save()\n"
        "print(ULabel.filter().count())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1"


def _script() -> str:
    return str(Path(sys.executable).with_name("lamin-sa"))


def test_connect_loads_mounted_modules_and_skips_a_broken_one(
    tmp_path, caplog, monkeypatch
):
    from lamin_sa import modules

    loaded: list[str] = []
    state = {"broken": False}

    def good() -> None:
        loaded.append("good")

    def broken() -> None:
        # mounted while it worked; an upgrade of its package then broke it
        if state["broken"]:
            raise ImportError("the plugin's models are broken")

    # two modules without revisions: mounting only records them in core_module
    registry = modules.registered_modules()
    registry["goodmod"] = modules.Module("goodmod", "goodmod_", "goodmod", (), good)
    registry["badmod"] = modules.Module("badmod", "badmod_", "badmod", (), broken)
    monkeypatch.setattr(modules, "_registry", registry)
    ln.init(storage=tmp_path / "mods", modules=["goodmod", "badmod"])
    inst.close()
    loaded.clear()
    state["broken"] = True
    with caplog.at_level(logging.WARNING, logger="lamin_sa"):
        settings = ln.connect("mods")
    try:
        assert loaded == ["good"]
        assert set(settings.modules) == {"core", "goodmod", "badmod"}
        assert "could not load the models of module 'badmod'" in caplog.text
        assert ln.ULabel(name="still works").save().id is not None
    finally:
        inst.close()
