"""Working as a team: one instance shared by several machines and processes.

Machines are simulated by separate settings homes (``LAMIN_SA_HOME``); every
collaborator runs in a fresh process, through the installed ``lamin-sa`` script or a
plain Python script. On PostgreSQL the storage is an S3 bucket (moto server on
127.0.0.1); on SQLite, a local folder on the one machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import BACKENDS, PG_URL, reset_postgres
from tests.s3_server import s3_bucket, s3_server  # noqa: F401

SCRIPTS = Path(__file__).parent / "team_scripts"
CLI = Path(sys.executable).with_name("lamin-sa")
USERS = ("alice", "bob", "carol")


class Machine:
    """A collaborator's machine: its own settings home."""

    def __init__(self, tmp: Path, user: str) -> None:
        self.home = tmp / f"home-{user}"
        self.user = user

    @property
    def env(self) -> dict[str, str]:
        # read at each call: the S3 fixture sets the AWS environment later
        env = {**os.environ, "LAMIN_SA_HOME": str(self.home)}
        env.pop("LAMIN_SA_CACHE_DIR", None)
        return env

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        out = subprocess.run(
            [str(CLI), *args], env=self.env, capture_output=True, text=True, timeout=300
        )
        if check:
            assert out.returncode == 0, out.stderr
        return out

    def python(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, *args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


@pytest.fixture(params=BACKENDS)
def team(request: pytest.FixtureRequest, tmp_path: Path):
    """An instance created by alice: PostgreSQL + S3, or SQLite + a local folder."""
    machines = {user: Machine(tmp_path, user) for user in USERS}
    for machine in machines.values():
        machine.cli("login", machine.user)
    owner = machines["alice"]
    if request.param == "postgresql":
        assert PG_URL is not None
        reset_postgres(PG_URL)
        storage = request.getfixturevalue("s3_bucket") + "/team"
        owner.cli("init", "--storage", storage, "--db", PG_URL, "--name", "team")
        url = PG_URL
    else:
        storage = str(tmp_path / "shared-folder")
        owner.cli("init", "--storage", storage, "--name", "team")
        url = f"sqlite:///{storage}/.lamindb/lamin.db"
    yield machines, url, storage
    if request.param == "postgresql":
        reset_postgres(PG_URL)


def test_collaborator_gets_storage_and_modules_from_the_database(team):
    machines, url, storage = team
    bob = machines["bob"]
    bob.cli("connect", url)
    info = json.loads(bob.cli("info", "--json").stdout)
    assert info["instance"]["name"] == "team"
    assert info["instance"]["storage"] == storage
    assert "core" in info["instance"]["modules"]
    # nothing secret was written on bob's machine
    for file in bob.home.rglob("*"):
        if file.is_file():
            text = file.read_text(errors="replace")
            assert "testing" not in text  # the S3 secret of the moto fixture


def test_eight_writers_lose_nothing(team, tmp_path: Path):
    machines, url, _storage = team
    n = 4
    setup = machines["alice"].python(
        "-c",
        "import lamin_sa as ln\n"
        f"ln.connect({url!r})\n"
        "ln.save([ln.Feature(name=f'feat-{i}', dtype='int') for i in range(3)])\n",
    )
    assert setup.wait(timeout=300) == 0, setup.stderr.read() if setup.stderr else ""
    procs = []
    for index in range(8):
        machine = machines[USERS[index % 3]]
        procs.append(
            machine.python(str(SCRIPTS / "worker.py"), url, str(index), str(n))
        )
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-3000:]
        assert out.startswith("done")

    carol = machines["carol"]
    check = carol.python(
        "-c",
        f"""
import json
import lamin_sa as ln
ln.connect({url!r})
arts = ln.Artifact.filter().all()
result = {{
    "artifacts": len(arts),
    "objects": sum(1 for a in arts if len(a.load()) == 1),
    "labels": ln.ULabel.filter().count(),
    "shared": ln.ULabel.filter(name__startswith="shared-").count(),
    "links": sum(a.ulabels.count() for a in arts),
    "feature_sets": ln.FeatureSet.filter().count(),
    "runs": ln.Run.filter().count(),
    "creators": sorted({{a.created_by.handle for a in arts}}),
}}
print(json.dumps(result))
""",
    )
    out, err = check.communicate(timeout=300)
    assert check.returncode == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert result == {
        "artifacts": 8 * n,
        "objects": 8 * n,
        "labels": 5 + 8 * 3,
        "shared": 5,
        "links": 8 * n * 2,
        "feature_sets": 1,
        "runs": 8,
        "creators": sorted(USERS),
    }


def test_same_feature_set_from_eight_processes_is_stored_once(team, tmp_path: Path):
    """Writers that build a set of the same members at the same instant share it."""
    machines, url, _storage = team
    setup = machines["alice"].python(
        "-c",
        "import lamin_sa as ln\n"
        f"ln.connect({url!r})\n"
        "ln.save([ln.Feature(name=f'feat-{i}', dtype='int') for i in range(3)])\n",
    )
    assert setup.wait(timeout=300) == 0, setup.stderr.read() if setup.stderr else ""
    script = tmp_path / "same_set.py"
    script.write_text(
        "import sys, time\n"
        "import lamin_sa as ln\n"
        "ln.connect(sys.argv[1])\n"
        "features = list(ln.Feature.filter(name__startswith='feat-'))\n"
        "start = float(sys.argv[2])\n"
        "while time.time() < start:\n"
        "    time.sleep(0.001)\n"
        "print(ln.FeatureSet(features).save().uid)\n"
    )
    start = str(time.time() + 8)  # all processes are connected by then
    procs = [
        machines[USERS[index % 3]].python(str(script), url, start) for index in range(8)
    ]
    uids = set()
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
        uids.add(out.strip().splitlines()[-1])
    assert len(uids) == 1
    check = machines["carol"].python(
        "-c",
        f"import lamin_sa as ln\nln.connect({url!r})\n"
        "print(ln.FeatureSet.filter().count())\n",
    )
    out, err = check.communicate(timeout=300)
    assert check.returncode == 0, err
    assert out.strip().splitlines()[-1] == "1"
