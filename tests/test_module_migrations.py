"""The bionty and wetlab branches: heads, up and down, schema equality, mounting on
a live instance with data (CLI), unmounting, and concurrent upgrades."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect

from lamin_sa import migrate
from lamin_sa.db.base import metadata
from lamin_sa.db.session import make_engine
from lamin_sa.migrate import VERSION_TABLE

CLI = str(Path(sys.executable).with_name("lamin-sa"))


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


def _tables(eng: Engine, prefix: str) -> set[str]:
    with eng.connect() as conn:
        return {t for t in inspect(conn).get_table_names() if t.startswith(prefix)}


def _differences(eng: Engine, prefixes: tuple[str, ...]) -> list:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    ours = {t for t in migrate.lamin_tables() if t.startswith(prefixes)}
    with eng.connect() as conn:
        ctx = MigrationContext.configure(
            conn,
            opts={
                "version_table": VERSION_TABLE,
                "compare_type": True,
                "include_name": lambda name, type_, parents: (
                    type_ != "table" or name in ours
                ),
                "include_object": lambda obj, name, type_, reflected, other: (
                    type_ != "table" or name in ours
                ),
            },
        )
        return compare_metadata(ctx, metadata)


def test_one_head_per_branch() -> None:
    for module in ("core", "bionty", "wetlab"):
        revisions = migrate.history(module)
        assert revisions, module
    script = migrate._script()
    for label in ("core", "bionty", "wetlab"):
        assert len(script.get_revisions(f"{label}@head")) == 1


@pytest.mark.parametrize("module", ["bionty", "wetlab"])
def test_module_up_and_down(engine: Engine, module: str) -> None:
    prefix = f"{module}_"
    with engine.connect() as conn:
        migrate.upgrade(conn, [module])
        mounted = migrate.mounted_modules(conn)
        states = migrate.status(conn)
    expected = ["core", "bionty"] + (["wetlab"] if module == "wetlab" else [])
    assert mounted == expected
    assert all(states[m].state == "up to date" for m in expected)
    assert _tables(engine, prefix)
    assert _differences(engine, tuple(f"{m}_" for m in expected)) == []
    with engine.connect() as conn:
        migrate.downgrade(conn, module)
        assert module not in migrate.mounted_modules(conn)
        assert migrate.status(conn)[module].state == "not mounted"
    assert not _tables(engine, prefix)
    assert _tables(engine, "core_")
    if module == "wetlab":
        assert _tables(engine, "bionty_")
    with engine.connect() as conn:  # mountable again
        migrate.upgrade(conn, [module])
        assert module in migrate.mounted_modules(conn)


def _cli(*args: str, cwd: Path) -> str:
    result = subprocess.run(
        [CLI, *args], cwd=cwd, capture_output=True, text=True, env=os.environ.copy()
    )
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout


def test_mount_and_unmount_bionty_on_a_live_instance(db_url: str, tmp_path: Path):
    args = ["init", "--storage", str(tmp_path / "root")]
    if not db_url.startswith("sqlite"):
        args += ["--db", db_url]
    _cli(*args, cwd=tmp_path)
    data = tmp_path / "data.csv"
    data.write_text("a,b\n1,2\n")
    script = textwrap.dedent(
        f"""
        import lamin_sa as ln
        ln.connect()
        ln.Artifact({str(data)!r}, description="before bionty").save()
        ln.ULabel(name="kept").save()
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=tmp_path)
    out = _cli("migrate", "upgrade", "--module", "bionty", cwd=tmp_path)
    assert "bionty: up to date" in out
    check = textwrap.dedent(
        """
        import lamin_sa as ln
        from lamin_sa import bionty as bt
        ln.connect()
        artifact = ln.Artifact.get(description="before bionty")
        t_cell = bt.CellType(name="T cell", ontology_id="CL:0000084").save()
        artifact.labels.add(t_cell)
        assert [c.uid for c in ln.Artifact.get(artifact.uid).cell_types] == [
            "22LvKd01"
        ]
        assert ln.ULabel.get(name="kept")
        # unmounting needs the module's data gone
        from lamin_sa.bionty.links import ArtifactCellType
        ArtifactCellType.filter().delete()
        t_cell.delete()
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    out = _cli(
        "migrate", "downgrade", "bionty", "--to", "base", "--force", cwd=tmp_path
    )
    assert "bionty: not mounted" in out
    again = textwrap.dedent(
        """
        import lamin_sa as ln
        from lamin_sa import bionty as bt
        from lamin_sa.errors import ModuleNotMounted
        ln.connect()
        assert ln.Artifact.get(description="before bionty")
        try:
            bt.CellType.filter().count()
        except ModuleNotMounted as e:
            print(e)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", again], capture_output=True, text=True, cwd=tmp_path
    )
    assert "lamin-sa migrate upgrade --module bionty" in result.stdout, result.stderr


def test_concurrent_upgrades_do_not_corrupt_the_schema(
    db_url: str, engine: Engine, tmp_path: Path
) -> None:
    with engine.connect() as conn:
        migrate.upgrade(conn, ["core"])
    code = textwrap.dedent(
        f"""
        from lamin_sa import migrate
        from lamin_sa.db.session import make_engine
        engine = make_engine({db_url!r})
        with engine.connect() as conn:
            migrate.upgrade(conn, ["bionty", "wetlab"])
        print("done")
        """
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).parent.parent,
        )
        for _ in range(2)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert "done" in out
    with engine.connect() as conn:
        assert migrate.mounted_modules(conn) == ["core", "bionty", "wetlab"]
        states = migrate.status(conn)
    assert all(states[m].state == "up to date" for m in ("core", "bionty", "wetlab"))
    assert _differences(engine, ("core_", "bionty_", "wetlab_")) == []
