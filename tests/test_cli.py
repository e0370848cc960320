"""Every CLI command through click's CliRunner."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from lamin_sa import instance as inst
from lamin_sa.cli import main


@pytest.fixture
def runner():
    yield CliRunner()
    inst.close()


def run(runner, *args, input=None):
    result = runner.invoke(main, list(args), input=input, catch_exceptions=False)
    return result


def test_cli_flow(runner, tmp_path):
    r = run(runner, "login", "clara", "--name", "Clara")
    assert r.exit_code == 0 and "logged in as clara" in r.output
    r = run(runner, "init", "--storage", str(tmp_path / "cli-inst"))
    assert r.exit_code == 0, r.output
    assert "connected lamin-sa: cli-inst" in r.output
    r = run(runner, "info")
    assert "name: cli-inst" in r.output and "user: clara" in r.output
    assert "schema core: up to date" in r.output
    data = json.loads(run(runner, "info", "--json").output)
    assert data["instance"]["name"] == "cli-inst"
    r = run(runner, "migrate", "status")
    assert "core: up to date" in r.output
    r = run(runner, "migrate", "upgrade")
    assert r.exit_code == 0 and "core: up to date" in r.output
    r = run(runner, "migrate", "history")
    assert r.exit_code == 0 and "core" in r.output
    r = run(runner, "close")
    assert r.exit_code == 0 and "closed" in r.output
    assert "instance: none connected" in run(runner, "info").output
    r = run(runner, "connect", "cli-inst")
    assert r.exit_code == 0 and "connected lamin-sa: cli-inst" in r.output
    r = run(runner, "delete", "cli-inst", input="n\n")
    assert "aborted" in r.output
    r = run(runner, "delete", "cli-inst", "--force")
    assert r.exit_code == 0 and "deleted instance cli-inst" in r.output


def test_cli_errors_are_clean(runner):
    r = runner.invoke(main, ["connect", "does-not-exist"])
    assert r.exit_code == 1
    assert "Error: No instance 'does-not-exist'" in r.output
    r = runner.invoke(main, ["login", "bad handle"])
    assert r.exit_code == 1 and "handle" in r.output


def test_cli_help_for_every_command(runner):
    for cmd in ["init", "connect", "info", "close", "delete", "login", "migrate"]:
        r = runner.invoke(main, [cmd, "--help"])
        assert r.exit_code == 0 and "Usage" in r.output
