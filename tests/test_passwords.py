"""Database passwords: the URL given at connect time is used; no credential form
(user-info or query parameters) reaches settings files, info, reprs, logs, errors."""

from __future__ import annotations

import json
import logging
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

import lamin_sa as ln
from lamin_sa import instance as inst
from lamin_sa.config import InstanceSettings, home_dir, redact, strip_credentials
from lamin_sa.errors import AuthenticationFailed
from tests.conftest import PG_URL, reset_postgres

SCRIPT = str(Path(sys.executable).with_name("lamin-sa"))


@pytest.mark.parametrize(
    ("url", "stripped"),
    [
        ("postgresql://alice:s3cret@db:5432/lab", "postgresql://alice@db:5432/lab"),
        ("postgresql://alice@db/lab?password=s3cret", "postgresql://alice@db/lab"),
        (
            "postgresql+psycopg://a:p%40ss@db/lab?sslmode=require&sslpassword=s3cret",
            "postgresql+psycopg://a@db/lab?sslmode=require",
        ),
        (
            "postgresql://db/lab?PASSWORD=s3cret&application_name=x",
            "postgresql://db/lab?application_name=x",
        ),
        ("sqlite:////data/x/.lamindb/lamin.db", "sqlite:////data/x/.lamindb/lamin.db"),
    ],
)
def test_strip_credentials(url, stripped):
    assert strip_credentials(url) == stripped
    assert "s3cret" not in redact(f"could not connect to {url} today")


def test_settings_objects_never_hold_a_password(tmp_path):
    url = "postgresql+psycopg://alice:s3cret@localhost/labdb?sslpassword=s3cret"
    settings = InstanceSettings(name="pw", uid="x" * 12, db=url, storage_root="/d")
    settings.store()
    assert "s3cret" not in (home_dir() / "instances" / "pw.json").read_text()
    assert "s3cret" not in repr(settings) and "s3cret" not in settings.db


@pytest.fixture
def pw_url() -> Iterator[str]:
    """A PostgreSQL role with a password, reached over TCP (scram auth)."""
    if not PG_URL:
        pytest.skip("PostgreSQL only: needs LAMIN_SA_TEST_PG_URL")
    from lamin_sa.db.session import make_engine

    reset_postgres(PG_URL)
    database = make_url(PG_URL).database
    role = f"{database}_pw"
    password = secrets.token_hex(8)
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        exists = conn.scalar(
            text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}
        )
        verb = "ALTER" if exists else "CREATE"
        conn.execute(text(f"{verb} ROLE {role} LOGIN PASSWORD '{password}'"))
        conn.execute(text(f"GRANT CONNECT ON DATABASE {database} TO {role}"))
        conn.execute(text(f"GRANT USAGE, CREATE ON SCHEMA public TO {role}"))
    try:
        yield f"postgresql+psycopg://{role}:{password}@127.0.0.1:5432/{database}"
    finally:
        inst.close()
        with admin.begin() as conn:
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE {role}"))
        admin.dispose()
        reset_postgres(PG_URL)


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SCRIPT, *args], env=env, capture_output=True, text=True, timeout=300
    )


def test_the_password_given_at_connect_is_used_and_never_shown(
    pw_url, tmp_path, caplog
):
    parsed = make_url(pw_url)
    password = parsed.password
    assert password
    name = parsed.database
    with caplog.at_level(logging.DEBUG, logger="lamin_sa"):
        ln.init(storage=tmp_path / "pw", db=pw_url)
        ln.ULabel(name="with password").save()
        inst.close()
        stored = (home_dir() / "instances" / f"{name}.json").read_text()
        assert password not in stored
        # the stored URL has no password: connecting by name is refused clearly
        with pytest.raises(AuthenticationFailed, match="refused user") as err:
            ln.connect(name)
        assert password not in str(err.value)
        # the URL given carries it: it is used (not the stored one)
        ln.connect(pw_url)
        assert ln.ULabel.filter().list("name") == ["with password"]
        inst.close()
        # the same as a query parameter
        query_url = (
            f"postgresql+psycopg://{parsed.username}@127.0.0.1:5432/{name}"
            f"?password={password}&application_name=lamin-test"
        )
        ln.connect(query_url)
        assert ln.ULabel.filter().count() == 1
        shown = [
            repr(ln.settings),
            repr(ln.settings.instance),
            json.dumps(inst.info()),
            (home_dir() / "instances" / f"{name}.json").read_text(),
        ]
        for text_ in shown:
            assert password not in text_ and "password=" not in text_, text_
        assert "application_name=lamin-test" in ln.settings.instance.db
        # a wrong password is one clear error naming neither password
        inst.close()
        wrong = pw_url.replace(password, "not-the-password")
        with pytest.raises(AuthenticationFailed) as err:
            ln.connect(wrong)
        assert "not-the-password" not in str(err.value)
        assert "holds no lamin-sa instance" not in str(err.value)
    assert password not in caplog.text

    # the CLI: connect with a query-parameter password, then info in new processes
    env = {**os.environ, "LAMIN_SA_HOME": str(home_dir())}
    r = _cli("connect", query_url, env=env)
    assert r.returncode == 0, r.stderr
    env["LAMIN_SA_DB_PASSWORD"] = password
    for args in (["info"], ["info", "--json"]):
        r = _cli(*args, env=env)
        assert r.returncode == 0, r.stderr
        assert f"{name}" in r.stdout
        assert password not in r.stdout + r.stderr
        assert "password=" not in r.stdout
    r = _cli("connect", wrong, env={**env, "LAMIN_SA_DB_PASSWORD": ""})
    assert r.returncode == 1 and "refused user" in r.stderr
    assert "not-the-password" not in r.stderr and "Traceback" not in r.stderr
