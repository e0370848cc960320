"""CLI conventions through the installed ``lamin-sa`` script in fresh processes:
-h with an Example in every command's help, --json that parses, `load`,
`describe UID`, `save script.py`, `get` by key/uid/stem uid, flag-named errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from lamin_sa.cli import main

SCRIPT = str(Path(sys.executable).with_name("lamin-sa"))


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple]:
    out = []
    for name, cmd in group.commands.items():
        out.append((*prefix, name))
        if isinstance(cmd, click.Group):
            out += _commands(cmd, (*prefix, name))
    return out


@pytest.fixture
def cli(tmp_path: Path):
    env = {**os.environ, "LAMIN_SA_HOME": str(tmp_path / "home")}
    env.pop("LAMIN_SA_CACHE_DIR", None)

    def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [SCRIPT, *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if ok:
            assert result.returncode == 0, result.stderr
        return result

    run.env = env  # type: ignore[attr-defined]
    run.cwd = tmp_path  # type: ignore[attr-defined]
    return run


def test_every_command_has_h_and_an_example(cli) -> None:
    missing = []
    for path in [(), *_commands(main)]:
        out = cli(*path, "-h").stdout
        if "Example:" not in out or "-h, --help" not in out:
            missing.append(" ".join(path) or "lamin-sa")
    assert not missing, f"commands without -h or an Example: {missing}"


def test_json_load_describe_get_and_save(cli) -> None:
    tmp = cli.cwd
    cli("init", "--storage", str(tmp / "data"))
    assert "connected lamin-sa: data" in cli("load", "data").stdout
    assert json.loads(cli("info", "--json").stdout)["instance"]["name"] == "data"
    (tmp / "counts.csv").write_text("a,b\n1,2\n")
    saved = cli("save", "counts.csv", "--key", "raw/counts.csv")
    assert "ln.track()" not in saved.stderr  # no run hint for a CLI save
    rows = json.loads(cli("ls", "--json").stdout)
    (row,) = rows
    assert row["key"] == "raw/counts.csv"
    uid = row["uid"]
    described = json.loads(cli("describe", uid, "--json").stdout)
    assert described["registry"] == "Artifact" and described["uid"] == uid
    assert cli("describe", uid).stdout.startswith("Artifact(")
    by_key = cli("get", "raw/counts.csv").stdout.strip()
    assert Path(by_key).read_text() == "a,b\n1,2\n"
    assert cli("get", uid).stdout.strip() == by_key
    assert cli("get", uid[:16]).stdout.strip() == by_key
    # a tracked script: `save` stores its source on the transform
    script = tmp / "analysis.py"
    script.write_text("import lamin_sa as ln\nln.track()\n")
    proc = subprocess.run(
        [sys.executable, str(script)], env=cli.env, cwd=tmp, capture_output=True
    )
    assert proc.returncode == 0, proc.stderr
    out = cli("save", "analysis.py").stdout
    assert out.startswith("saved source of transform ") and "analysis.py" in out
    untracked = tmp / "other.py"
    untracked.write_text("print(1)\n")
    err = cli("save", "other.py", ok=False)
    assert err.returncode == 1 and "--description" in err.stderr
    assert len(err.stderr.strip().splitlines()) == 1


def test_empty_storage_is_refused(cli) -> None:
    result = cli("init", "--storage", "", ok=False)
    assert result.returncode != 0 and "--storage" in result.stderr
    assert not (cli.cwd / "home").exists() or not list((cli.cwd / "home").glob("*"))


def test_errors_name_cli_flags_not_python_arguments(cli) -> None:
    tmp = cli.cwd
    cli("init", "--storage", str(tmp / "one"), "--name", "lab")
    taken = cli("init", "--storage", str(tmp / "two"), "--name", "lab", ok=False)
    (line,) = taken.stderr.strip().splitlines()
    assert line.startswith("Error: An instance named 'lab' already exists")
    assert "`lamin-sa connect lab`" in line and "pass another --name." in line
    assert "name=" not in line and "ln.connect" not in line
    bad = cli("init", "--storage", str(tmp / "!!!"), ok=False)
    assert bad.stderr.strip() == (
        "Error: Cannot derive an instance name from '!!!': pass --name."
    )
    # the library itself keeps speaking Python
    import lamin_sa as ln

    with pytest.raises(ValueError, match=r"pass name=\.$"):
        ln.init(storage=tmp / "!!!")


def test_cli_terms_only_translate_the_commands_own_options() -> None:
    from lamin_sa.cli import cli_terms, init, migrate_downgrade

    assert cli_terms("pass another name=.", init) == "pass another --name."
    assert cli_terms("or pass force=True to drop them", migrate_downgrade) == (
        "or pass --force to drop them"
    )
    # an argument the command has no option for stays as written
    assert cli_terms("pass field=... or format=", init) == "pass field=... or format="
    assert cli_terms("run ln.connect('lab') first", None) == (
        "run `lamin-sa connect lab` first"
    )
