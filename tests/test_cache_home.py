"""The cache lives under LAMIN_SA_HOME unless LAMIN_SA_CACHE_DIR says otherwise;
``lamin-sa cache clear`` (the installed script, fresh processes) only empties a
folder lamin-sa made."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = str(Path(sys.executable).with_name("lamin-sa"))
PRINT_CACHE = "from lamin_sa.config import switches; print(switches.cache_dir)"


def _env(home: Path, cache: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "LAMIN_SA_CACHE_DIR"}
    env["LAMIN_SA_HOME"] = str(home)
    if cache is not None:
        env["LAMIN_SA_CACHE_DIR"] = str(cache)
    return env


def _run(args: list[str], env: dict[str, str], cwd: Path):
    return subprocess.run(
        args, env=env, cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_cache_under_home_and_clear(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = _env(home, None)
    out = _run([sys.executable, "-c", PRINT_CACHE], env, tmp_path)
    assert out.returncode == 0, out.stderr
    cache = Path(out.stdout.strip())
    assert cache == home / "cache" and (cache / "LAMIN_SA_CACHE").is_file()
    (cache / "s3-bucket").mkdir()
    (cache / "s3-bucket" / "data.csv").write_text("a,b\n")
    cleared = _run([SCRIPT, "cache", "clear"], env, tmp_path)
    assert cleared.returncode == 0, cleared.stderr
    assert [p.name for p in cache.iterdir()] == ["LAMIN_SA_CACHE"]
    # LAMIN_SA_CACHE_DIR wins over the home
    other = tmp_path / "elsewhere"
    out = _run([sys.executable, "-c", PRINT_CACHE], _env(home, other), tmp_path)
    assert Path(out.stdout.strip()) == other


def test_clear_refuses_a_folder_lamin_sa_did_not_make(tmp_path: Path) -> None:
    mine = tmp_path / "Documents"
    mine.mkdir()
    (mine / "thesis.docx").write_text("years of work")
    out = _run([SCRIPT, "cache", "clear"], _env(tmp_path / "home", mine), tmp_path)
    assert out.returncode == 1
    (line,) = out.stderr.strip().splitlines()
    assert line.startswith("Error: ") and "not clearing it" in line
    assert (mine / "thesis.docx").read_text() == "years of work"
