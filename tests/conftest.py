"""Shared fixtures: every database test runs on SQLite and, when
LAMIN_SA_TEST_PG_URL is set, again on PostgreSQL."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text


def _worker_database(url: str | None) -> str | None:
    """Under pytest-xdist every worker gets a PostgreSQL database of its own.

    Tests reset the public schema of their database, so workers must not share
    one. The URL is exported again, so that subprocesses of a test use it too.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"{base.database}_{worker}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).first()
        if found is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    own = base.set(database=name).render_as_string(hide_password=False)
    os.environ["LAMIN_SA_TEST_PG_URL"] = own
    return own


PG_URL = _worker_database(os.environ.get("LAMIN_SA_TEST_PG_URL"))
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch) -> None:
    # settings and caches of tests never touch the developer's own
    home = tmp_path_factory.mktemp("lamin_home")
    monkeypatch.setenv("LAMIN_SA_HOME", str(home))
    monkeypatch.setenv("LAMIN_SA_CACHE_DIR", str(home / "cache"))


@pytest.fixture(autouse=True)
def _restore_verbosity() -> Iterator[None]:
    # a test that sets ln.settings.verbosity must not change what later tests log
    import logging

    from lamin_sa.config import switches

    before = switches._verbosity
    level = logging.getLogger("lamin_sa").level
    yield
    switches._verbosity = before
    logging.getLogger("lamin_sa").setLevel(level)


def reset_postgres(url: str) -> None:
    """Drop everything in the test database's public schema."""
    from lamin_sa.db.session import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A fresh, empty database URL on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
    else:
        assert PG_URL is not None
        reset_postgres(PG_URL)
        yield PG_URL


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite file migrated once; each test gets a copy."""
    from lamin_sa import migrate
    from lamin_sa.db.session import make_engine

    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        migrate.upgrade(conn, modules=["core"])
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return str(path)


def _migrated_postgres(url: str) -> None:
    """Bring the Postgres test database to an empty, migrated core schema."""
    from lamin_sa import migrate
    from lamin_sa.db.session import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            tables = migrate.lamin_tables() & set(conn.dialect.get_table_names(conn))
            conn.rollback()
            if migrate.status(conn)["core"].state != "up to date":
                conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
                conn.commit()
                migrate.upgrade(conn, modules=["core"])
            else:
                keep = {"core_module"}
                names = ", ".join(sorted(t for t in tables if t not in keep))
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
                conn.commit()
    finally:
        engine.dispose()


def migrated_url(backend: str, folder, sqlite_template: str) -> str:
    """A database URL with an empty, migrated core schema on ``backend``."""
    import shutil

    if backend == "sqlite":
        path = folder / "test.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    assert PG_URL is not None
    _migrated_postgres(PG_URL)
    return PG_URL


@contextlib.contextmanager
def open_context(url: str) -> Iterator[Any]:
    """An active lamin-sa context on ``url`` with the user ``testuser1``."""
    import lamin_sa.models as m
    from lamin_sa.db import session as dbs

    engine = dbs.make_engine(url)
    # the session an instance's own context has (one kept connection on SQLite)
    session = dbs.open_session(engine)
    context = dbs.DBContext(session=session, engine=engine)
    dbs.set_global(context)
    user = m.User(handle="testuser1", name="Test User1", uid="testuid1")
    session.add(user)
    session.commit()
    context.user_id = user.id
    try:
        yield context
    finally:
        dbs.set_global(None)
        dbs.close_session(session)
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def ctx(request: pytest.FixtureRequest, tmp_path, sqlite_template: str):
    """A migrated core schema, a user, and an active lamin-sa context."""
    with open_context(migrated_url(request.param, tmp_path, sqlite_template)) as c:
        yield c
