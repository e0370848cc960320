"""Shared fixtures: every database test runs on SQLite and, when
LAMIN_SA_TEST_PG_URL is set, again on PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import text

PG_URL = os.environ.get("LAMIN_SA_TEST_PG_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch) -> None:
    # settings and caches of tests never touch the developer's own
    home = tmp_path_factory.mktemp("lamin_home")
    monkeypatch.setenv("LAMIN_SA_HOME", str(home))
    monkeypatch.setenv("LAMIN_SA_CACHE_DIR", str(home / "cache"))


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


@pytest.fixture
def ctx(db_url: str):
    """A database with the core schema, a user, and an active lamin-sa context."""
    import lamin_sa.models as m
    from lamin_sa.db import session as dbs
    from lamin_sa.db.base import metadata

    engine = dbs.make_engine(db_url)
    metadata.create_all(engine)
    session = dbs.session_factory(bind=engine)
    context = dbs.DBContext(session=session)
    dbs.set_global(context)
    user = m.User(handle="testuser1", name="Test User1", uid="testuid1")
    session.add(user)
    session.commit()
    context.user_id = user.id
    try:
        yield context
    finally:
        dbs.set_global(None)
        session.close()
        engine.dispose()
