"""``lamin-sa save / get / ls / cache clear`` through click's CliRunner."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from lamin_sa.cli import main
from lamin_sa.settings import settings
from tests import test_artifact_fixtures as fx
from tests.s3_server import s3_bucket, s3_server  # noqa: F401
from tests.test_artifact_fixtures import Inst

inst = fx.inst


def test_cli_save_get_ls_cache_clear(inst: Inst) -> None:
    runner = CliRunner()
    src = inst.tmp / "hello.txt"
    src.write_text("hello")
    r = runner.invoke(main, ["save", str(src), "--key", "greetings/hello.txt"])
    assert r.exit_code == 0, r.output
    assert "saved artifact" in r.output
    uid = r.output.split("saved artifact ", 1)[1].split()[0]
    r = runner.invoke(main, ["get", "greetings/hello.txt"])
    assert r.exit_code == 0, r.output
    assert Path(r.output.strip()).read_text() == "hello"
    assert runner.invoke(main, ["get", uid[:10]]).output == r.output
    other = inst.tmp / "other.txt"
    other.write_text("other")
    assert runner.invoke(main, ["save", str(other)]).exit_code == 0
    r = runner.invoke(main, ["ls", "--key-prefix", "greetings/"])
    assert r.exit_code == 0 and uid in r.output and "other.txt" not in r.output
    assert "other.txt" in runner.invoke(main, ["ls"]).output
    r = runner.invoke(main, ["cache", "clear"])
    assert r.exit_code == 0 and "removed" in r.output
    assert [p.name for p in settings.cache_dir.iterdir()] == ["LAMIN_SA_CACHE"]
    r = runner.invoke(main, ["get", "no/such/key"])
    assert r.exit_code != 0 and "No Artifact" in r.output
    r = runner.invoke(main, ["save", str(inst.tmp / "missing.txt")])
    assert r.exit_code != 0 and "does not exist" in r.output
