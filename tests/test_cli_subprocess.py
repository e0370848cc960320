"""Every ``lamin-sa`` command as the installed console script, each in a fresh
process right after ``lamin-sa init`` (the CliRunner tests share one process and
would hide a missing auto-connect)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BACKENDS, PG_URL, reset_postgres

SCRIPT = str(Path(sys.executable).with_name("lamin-sa"))


class Cli:
    """Runs the console script with its own LAMIN_SA_HOME."""

    def __init__(self, home: Path, cwd: Path) -> None:
        self.env = {
            **os.environ,
            "LAMIN_SA_HOME": str(home),
            "LAMIN_SA_CACHE_DIR": str(home / "cache"),
        }
        self.cwd = cwd

    def __call__(
        self, *args: str, ok: bool = True, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [SCRIPT, *args],
            env=self.env,
            cwd=self.cwd,
            capture_output=True,
            text=True,
            input=input,
            timeout=300,
        )
        if ok:
            assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result


@pytest.fixture
def cli(tmp_path) -> Cli:
    return Cli(tmp_path / "home", tmp_path)


@pytest.fixture(params=BACKENDS)
def db_args(request) -> list[str]:
    if request.param == "sqlite":
        return []
    reset_postgres(PG_URL)
    return ["--db", PG_URL]


def test_every_command_in_a_fresh_process(cli, tmp_path, db_args):
    assert "logged in as clara" in cli("login", "clara", "--name", "Clara").stdout
    r = cli("init", "--storage", str(tmp_path / "inst"), "--name", "sub", *db_args)
    assert "connected lamin-sa: sub" in r.stdout
    # right after init, in new processes: save, get, ls work (auto-connect)
    src = tmp_path / "hello.txt"
    src.write_text("hello")
    r = cli("save", str(src), "--key", "greetings/hello.txt")
    assert "saved artifact" in r.stdout
    uid = r.stdout.split("saved artifact ", 1)[1].split()[0]
    path = cli("get", "greetings/hello.txt").stdout.strip()
    assert Path(path).read_text() == "hello"
    assert cli("get", uid).stdout.strip() == path
    r = cli("ls")
    assert uid in r.stdout and "greetings/hello.txt" in r.stdout
    assert uid in cli("ls", "--key-prefix", "greetings/").stdout
    assert cli("ls", "--key-prefix", "nothing/").stdout == ""
    r = cli("info")
    assert "name: sub" in r.stdout and "user: clara" in r.stdout
    assert "schema core: up to date" in r.stdout
    data = json.loads(cli("info", "--json").stdout)
    assert data["instance"]["name"] == "sub" and data["user"] == "clara"
    assert "core: up to date" in cli("migrate", "status").stdout
    assert "core: up to date" in cli("migrate", "upgrade").stdout
    assert "core" in cli("migrate", "history").stdout
    assert "core" in cli("migrate", "history", "--module", "core").stdout
    assert "removed" in cli("cache", "clear").stdout
    r = cli("lineage", uid, "-o", str(tmp_path / "lineage.dot"))
    assert "wrote" in r.stdout and (tmp_path / "lineage.dot").exists()
    assert "closed" in cli("close").stdout
    assert "instance: none connected" in cli("info").stdout
    assert "connected lamin-sa: sub" in cli("connect", "sub").stdout
    assert "aborted" in cli("delete", "sub", input="n\n").stdout
    assert "deleted instance sub" in cli("delete", "sub", "--force").stdout


def test_migrate_downgrade_and_revision(cli, tmp_path):
    cli("init", "--storage", str(tmp_path / "mig"))
    r = cli("migrate", "downgrade", "core", "--to", "base", input="n\n")
    assert "aborted" in r.stdout
    r = cli("migrate", "downgrade", "core", "--to", "base", "--force")
    assert "core: not mounted" in r.stdout
    assert "core: up to date" in cli("migrate", "upgrade").stdout
    # the models match the shipped migrations: nothing is written
    r = cli("migrate", "revision", "--module", "core", "-m", "nothing")
    assert "no changes in core's models" in r.stdout
    r = cli("migrate", "revision", "--module", "nosuch", "-m", "x", ok=False)
    assert r.returncode == 1 and "Unknown lamin-sa module 'nosuch'" in r.stderr


def test_errors_are_one_line_and_tracebacks_need_verbose(cli, tmp_path):
    r = cli("connect", "does-not-exist", ok=False)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 1 and len(lines) == 1, r.stderr
    assert lines[0].startswith("Error: No instance 'does-not-exist'")
    r = cli("--verbose", "connect", "does-not-exist", ok=False)
    assert r.returncode == 1 and "Traceback" in r.stderr
    assert r.stderr.rstrip().splitlines()[-1].startswith("Error: No instance")
    r = cli("get", "anything", ok=False)  # nothing connected, nothing to pick
    assert r.returncode == 1 and "No lamin-sa instance is connected" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_help_for_every_command(cli):
    commands = [
        [],
        ["init"],
        ["connect"],
        ["info"],
        ["close"],
        ["delete"],
        ["login"],
        ["save"],
        ["get"],
        ["ls"],
        ["lineage"],
        ["cache"],
        ["cache", "clear"],
        ["migrate"],
        ["migrate", "upgrade"],
        ["migrate", "status"],
        ["migrate", "history"],
        ["migrate", "downgrade"],
        ["migrate", "revision"],
    ]
    for args in commands:
        r = cli(*args, "--help")
        assert "Usage: lamin-sa" in r.stdout, args
