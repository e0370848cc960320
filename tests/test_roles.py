"""Database roles on a shared PostgreSQL instance: read-only collaborators.

The collaborator runs in a fresh process with its own settings home, as on another
machine, and connects over TCP with its own role and password.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests import test_artifact_fixtures as fx
from tests.conftest import PG_URL
from tests.test_artifact_fixtures import Inst

inst_local = fx.inst_local

ROLE = "lamin_sa_test_reader"
PASSWORD = "reader-pw-1"


def _admin(sql: str) -> None:
    from lamin_sa.db.session import make_engine

    assert PG_URL is not None
    engine = make_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(sql))
    engine.dispose()


@pytest.fixture
def reader_role():
    exists = (
        f"DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{ROLE}') "
        f"THEN EXECUTE 'DROP OWNED BY {ROLE}'; EXECUTE 'DROP ROLE {ROLE}'; END IF; "
        "END $$"
    )
    _admin(exists)
    _admin(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}'")
    yield ROLE
    _admin(exists)


def _collaborator(tmp_path: Path, code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` as a collaborator connected with the reader role over TCP."""
    assert PG_URL is not None
    database = make_url(PG_URL).database
    url = f"postgresql://{ROLE}@127.0.0.1/{database}"
    env = {
        **os.environ,
        "LAMIN_SA_HOME": str(tmp_path / "collaborator_home"),
        "LAMIN_SA_DB_PASSWORD": PASSWORD,
    }
    env.pop("LAMIN_SA_CACHE_DIR", None)
    script = (
        "import lamin_sa as ln\n" + f"ln.connect({url!r})\n" + textwrap.dedent(code)
    )
    return subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_roles_need_postgresql(inst_local: Inst):
    from lamin_sa.db.session import current
    from lamin_sa.errors import RoleError
    from lamin_sa.roles import grant

    if current().session.get_bind().dialect.name == "postgresql":
        pytest.skip("the SQLite refusal is checked on the SQLite backend")
    with pytest.raises(RoleError, match="need a PostgreSQL instance"):
        grant("alice", "read")


def test_missing_role_is_named(inst_local: Inst):
    from lamin_sa.db.session import current
    from lamin_sa.errors import RoleError
    from lamin_sa.roles import grant

    if current().session.get_bind().dialect.name != "postgresql":
        pytest.skip("roles are PostgreSQL's")
    with pytest.raises(RoleError, match="CREATE ROLE"):
        grant("no_such_role_here", "read")


def test_read_only_collaborator_cannot_write(
    inst_local: Inst, request: pytest.FixtureRequest, tmp_path: Path
):
    import lamin_sa as ln
    from lamin_sa.db.session import current
    from lamin_sa.roles import grant, revoke

    if current().session.get_bind().dialect.name != "postgresql":
        pytest.skip("roles are PostgreSQL's")
    reader_role = request.getfixturevalue("reader_role")
    ln.ULabel(name="from the owner").save()
    grant(reader_role, "read")

    reader = _collaborator(
        tmp_path,
        """
        from lamin_sa.errors import AccessDenied
        print("labels", ln.ULabel.filter().count())
        try:
            ln.ULabel(name="from the reader").save()
        except AccessDenied as e:
            print("denied:", e)
        """,
    )
    assert reader.returncode == 0, reader.stderr
    assert "labels 1" in reader.stdout
    denied = [line for line in reader.stdout.splitlines() if line.startswith("denied")]
    assert len(denied) == 1
    assert f"lamin-sa grant {ROLE} --write" in denied[0]
    assert ln.ULabel.filter(name="from the reader").count() == 0

    grant(reader_role, "write")
    writer = _collaborator(
        tmp_path,
        """
        ln.ULabel(name="from the reader").save()
        print("saved by", ln.ULabel.get(name="from the reader").created_by.handle)
        """,
    )
    assert writer.returncode == 0, writer.stderr
    assert ln.ULabel.filter(name="from the reader").count() == 1

    # back to read-only, then nothing at all
    grant(reader_role, "read")
    again = _collaborator(tmp_path, 'ln.ULabel(name="twice").save()')
    assert again.returncode != 0 and "read-only access" in again.stderr
    revoke(reader_role)
    gone = _collaborator(tmp_path, "print(ln.ULabel.filter().count())")
    assert gone.returncode != 0
