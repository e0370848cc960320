"""Instances: init, connect, close, reconnect, two side by side, schema checks."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import lamin_sa as ln
from lamin_sa import instance as inst
from lamin_sa.errors import InstanceNotFound, SchemaVersionError
from lamin_sa.settings import home_dir
from tests.conftest import BACKENDS, PG_URL, reset_postgres
from tests.test_migrations import make_newer_code


@pytest.fixture
def newer_code(tmp_path):
    return make_newer_code(tmp_path)


@pytest.fixture
def closed():
    yield
    inst.close()


@pytest.fixture(params=BACKENDS)
def db_arg(request):
    """None (SQLite under the storage root) or a fresh Postgres database URL."""
    if request.param == "sqlite":
        return None
    reset_postgres(PG_URL)
    return PG_URL


def test_init_creates_instance(tmp_path, closed, db_arg):
    root = tmp_path / "My Data"
    settings = ln.init(storage=root, db=db_arg, name="mydata")
    assert settings.name == "mydata"
    assert ln.settings.instance.name == "mydata"
    assert (root / ".lamindb" / "_is_initialized").exists()
    if db_arg is None:
        assert (root / ".lamindb" / "lamin.db").exists()
    storage = ln.Storage.get(root=root.resolve().as_posix())
    assert storage.type == "local" and storage.instance_uid == settings.uid
    user = ln.User.get(handle=ln.settings.user.handle)
    assert ln.ULabel(name="x").save().created_by_id == user.id
    stored = json.loads((home_dir() / "instances" / "mydata.json").read_text())
    assert stored["storage_root"] == root.resolve().as_posix()


def test_default_name_and_reinit_connects(tmp_path, closed):
    root = tmp_path / "Lamin-Intro"
    s1 = ln.init(storage=root)
    assert s1.name == "lamin-intro"
    ln.ULabel(name="kept").save()
    s2 = ln.init(storage=root)
    assert s2.uid == s1.uid
    assert ln.ULabel.filter(name="kept").count() == 1


def test_stale_registration_no_longer_blocks_init(tmp_path, closed, db_arg, caplog):
    import shutil

    first = tmp_path / "first" / "lamin-intro"
    ln.init(storage=first, db=db_arg, name="lamin-intro")
    ln.close()
    shutil.rmtree(first)  # the folder (and a SQLite database in it) is gone
    second = tmp_path / "second" / "lamin-intro"
    if db_arg is not None:
        # a PostgreSQL database may only be unreachable: never dropped silently
        with pytest.raises(ln.errors.LaminSAError, match="already exists with"):
            ln.init(storage=second, name="lamin-intro")
        assert inst.InstanceSettings.load("lamin-intro") is not None
        return
    with caplog.at_level("WARNING", logger="lamin_sa"):
        settings = ln.init(storage=second)
    assert settings.storage_root == second.resolve().as_posix()
    assert "dropped the stale registration of instance 'lamin-intro'" in caplog.text
    assert (second / ".lamindb" / "lamin.db").exists()
    assert ln.ULabel(name="x").save().id == 1


def test_live_registration_still_blocks_init(tmp_path, closed):
    ln.init(storage=tmp_path / "first" / "data")
    ln.close()
    with pytest.raises(ln.errors.LaminSAError, match="already exists with storage"):
        ln.init(storage=tmp_path / "second" / "data")


def test_close_connect_and_autoconnect(tmp_path, closed):
    root = tmp_path / "auto"
    ln.init(storage=root)
    ln.ULabel(name="a").save()
    inst.close()
    assert inst.connected_instance() is None
    # closed: no auto-connect
    with pytest.raises(ln.errors.InstanceNotConnected):
        ln.ULabel.filter().count()
    ln.connect("auto")
    assert ln.ULabel.filter().count() == 1
    # simulate a new Python process: auto-connect to the last used instance
    inst.close(_forget_current=False)
    assert ln.ULabel.filter().count() == 1
    assert inst.connected_instance().name == "auto"


def test_connect_by_storage_path_and_unknown(tmp_path, closed):
    root = tmp_path / "bypath"
    ln.init(storage=root)
    inst.close()
    assert ln.connect(str(root)).name == "bypath"
    with pytest.raises(InstanceNotFound, match="No instance 'nope'"):
        ln.connect("nope")


def test_two_instances_side_by_side(tmp_path, closed):
    ln.init(storage=tmp_path / "one")
    ln.ULabel(name="from-one").save()
    ln.init(storage=tmp_path / "two")
    ln.ULabel(name="from-two").save()
    assert ln.ULabel.filter().list("name") == ["from-two"]
    ln.connect("one")
    assert ln.ULabel.filter().list("name") == ["from-one"]


def test_password_never_stored(tmp_path, closed):
    from lamin_sa.settings import InstanceSettings, strip_password

    url = "postgresql+psycopg://alice:s3cret@localhost:5432/labdb"
    assert "s3cret" not in strip_password(url)
    settings = InstanceSettings(
        name="pw", uid="x" * 12, db=url, storage_root=str(tmp_path)
    )
    settings.store()
    assert "s3cret" not in (home_dir() / "instances" / "pw.json").read_text()
    assert "s3cret" not in repr(settings)


def test_schema_behind_and_ahead_give_one_clear_error(
    tmp_path, closed, newer_code, monkeypatch
):
    from lamin_sa import migrate

    installed = migrate.alembic_dir()
    ln.init(storage=tmp_path / "versions")
    inst.close()
    # the installed code gets a newer core revision: the instance is behind
    monkeypatch.setattr(migrate, "alembic_dir", lambda: newer_code)
    with pytest.raises(SchemaVersionError, match="lamin-sa migrate upgrade"):
        ln.connect("versions")
    from lamin_sa.api import upgrade_instance

    assert upgrade_instance()["core"].startswith("up to date")
    ln.connect("versions")
    inst.close()
    # back to the older code: the instance is ahead of it
    monkeypatch.setattr(migrate, "alembic_dir", lambda: installed)
    with pytest.raises(SchemaVersionError, match="pip install -U lamin-sa"):
        ln.connect("versions")


def test_login_registers_user(tmp_path, closed):
    ln.init(storage=tmp_path / "users")
    ln.login("jdoe", name="Jane Doe")
    assert ln.settings.user.handle == "jdoe"
    label = ln.ULabel(name="by-jane").save()
    assert label.created_by.handle == "jdoe"
    with pytest.raises(ValueError, match="handle"):
        ln.login("no spaces allowed")


def test_delete_instance(tmp_path, closed):
    root = tmp_path / "gone"
    ln.init(storage=root)
    inst.delete("gone")
    assert not (root / ".lamindb" / "lamin.db").exists()
    with pytest.raises(InstanceNotFound):
        inst.delete("gone")


def test_settings_verbosity_and_policies():
    ln.settings.verbosity = "debug"
    assert ln.settings.verbosity == "debug"
    ln.settings.verbosity = "warning"
    with pytest.raises(ValueError, match="verbosity must be one of"):
        ln.settings.verbosity = "loud"
    with pytest.raises(ValueError, match="Choose one of"):
        ln.settings.upon_artifact_create_if_hash_exists = "maybe"
    assert Path(ln.settings.cache_dir).exists()
    assert os.environ["LAMIN_SA_HOME"] in str(home_dir())
