"""Migrations: the revision graph, up and down on real databases, schema equality
with the models, status and check, host-application isolation, module registry."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, inspect, text

from lamin_sa import migrate, modules
from lamin_sa.db.base import metadata
from lamin_sa.db.session import make_engine
from lamin_sa.errors import LaminSAError, ModuleNotMounted, SchemaVersionError
from lamin_sa.migrate import VERSION_TABLE
from lamin_sa.modules import Module
from tests.conftest import reset_postgres

CORE_HEAD_PROBE = "f00dfeed0001"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> dict[str, Module]:
    """A private copy of the module registry that tests may extend."""
    reg = modules.registered_modules()
    monkeypatch.setattr(modules, "_registry", reg)
    return reg


def core_tables() -> set[str]:
    return migrate.lamin_tables("core")


def table_names(eng: Engine) -> set[str]:
    # a fresh connection: proves that what a migration did was committed
    with eng.connect() as conn:
        return set(inspect(conn).get_table_names())


def version_rows(conn: Any) -> set[str]:
    return set(conn.scalars(text(f"SELECT version_num FROM {VERSION_TABLE}")))


def core_head() -> str:
    heads = [r.revision for r in migrate.history("core")]
    return heads[-1]


def reset(db_url: str) -> None:
    if db_url.startswith("sqlite"):
        path = Path(db_url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        reset_postgres(db_url)


# ---- the revision graph (no database) --------------------------------------------


def test_one_head_per_label_and_no_unlabelled_heads() -> None:
    script = migrate._script()
    names = set(modules.registered_modules())
    heads = script.get_heads()
    for head in heads:
        labels = script.get_revision(head).branch_labels & names
        assert len(labels) == 1, f"head {head} must carry exactly one module label"
    for name in names:
        mine = [h for h in heads if name in script.get_revision(h).branch_labels]
        assert len(mine) <= 1, f"{name} has several heads: {mine}"
    assert [h for h in heads if "core" in script.get_revision(h).branch_labels]
    # the heads stored after upgrading everything are a subset of the branch heads
    assert set(script.get_heads(consider_depends_on=True)) <= set(heads)


def test_every_revision_lives_in_its_module_folder_and_imports_no_models() -> None:
    script = migrate._script()
    names = set(modules.registered_modules())
    for rev in script.walk_revisions():
        (label,) = rev.branch_labels & names
        assert Path(rev.path).parent == migrate.versions_path(label)
        source = Path(rev.path).read_text()
        assert not re.search(r"^\s*(from|import) lamin_sa", source, re.M), rev.path
        if rev.down_revision is None and label != "core":
            assert rev.dependencies, f"{rev.revision} must depend on core"


def test_history() -> None:
    everything = migrate.history()
    core = migrate.history("core")
    assert core and set(core) <= set(everything)
    assert core[0].down_revision is None and core[0].branch_labels == ("core",)
    assert "->" in str(core[0])
    bionty_root = migrate.history("bionty")[0]
    assert bionty_root.down_revision is None
    assert bionty_root.branch_labels == ("bionty",)
    with pytest.raises(ModuleNotMounted, match="known modules: core, bionty"):
        migrate.history("nope")


def test_import_does_not_load_alembic() -> None:
    code = "import sys, lamin_sa.migrate; assert 'alembic' not in sys.modules"
    subprocess.run(
        [sys.executable, "-c", code], check=True, cwd=Path(__file__).parent.parent
    )


def test_constraint_and_index_names_fit_postgres() -> None:
    migrate.lamin_tables()  # loads the models
    names = []
    for table in metadata.tables.values():
        names += [c.name for c in table.constraints]
        names += [i.name for i in table.indexes]
    assert all(isinstance(n, str) for n in names)
    too_long = [n for n in names if len(n) > 63]
    assert not too_long


# ---- up and down -------------------------------------------------------------------


def test_upgrade_core_from_empty_then_downgrade_to_base(engine: Engine) -> None:
    with engine.connect() as conn:
        migrate.upgrade(conn)
        assert not conn.in_transaction()
    assert core_tables() <= table_names(engine)
    with engine.connect() as conn:
        assert version_rows(conn) == {core_head()}
        assert migrate.mounted_modules(conn) == ["core"]
        assert migrate.status(conn)["core"].state == "up to date"
        migrate.check(conn)
        migrate.upgrade(conn)  # idempotent
        conn.commit()  # our own reads above began a transaction
        migrate.downgrade(conn, "core")
    left = table_names(engine)
    assert not {t for t in left if t.startswith("core_")}
    with engine.connect() as conn:
        assert version_rows(conn) == set()
        assert migrate.status(conn)["core"].state == "not mounted"


def test_after_upgrade_models_and_schema_do_not_differ(engine: Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        conn.execute(text("CREATE TABLE host_thing (id INTEGER PRIMARY KEY)"))
        conn.commit()
        migrate.upgrade(conn)
        ours = core_tables()
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
        assert compare_metadata(ctx, metadata) == []


def schema_snapshot(eng: Engine, tables: set[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with eng.connect() as conn:
        insp = inspect(conn)
        for name in sorted(core_tables() if tables is None else tables):
            pk = insp.get_pk_constraint(name)
            out[name] = {
                "columns": [
                    (c["name"], str(c["type"]), c["nullable"], c.get("default"))
                    for c in insp.get_columns(name)
                ],
                "checks": sorted(
                    (c["name"] or "", c["sqltext"])
                    for c in insp.get_check_constraints(name)
                ),
                "pk": (pk["name"], tuple(pk["constrained_columns"])),
                "indexes": sorted(
                    (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                    for i in insp.get_indexes(name)
                ),
                "uniques": sorted(
                    (u["name"], tuple(u["column_names"]))
                    for u in insp.get_unique_constraints(name)
                ),
                "fks": sorted(
                    (
                        f["name"],
                        tuple(f["constrained_columns"]),
                        f["referred_table"],
                        tuple(f["referred_columns"]),
                        (f.get("options") or {}).get("ondelete"),
                    )
                    for f in insp.get_foreign_keys(name)
                ),
            }
    return out


def test_create_all_and_stamp_equals_migrating(db_url: str) -> None:
    eng = make_engine(db_url)
    with eng.connect() as conn:
        # a database that is not empty is migrated by Alembic, revision by revision
        conn.execute(text("CREATE TABLE host_thing (id INTEGER PRIMARY KEY)"))
        conn.commit()
        migrate.upgrade(conn)
    migrated = schema_snapshot(eng)
    eng.dispose()
    reset(db_url)

    eng = make_engine(db_url)
    try:
        migrate.lamin_tables()
        metadata.create_all(eng, tables=[metadata.tables[t] for t in core_tables()])
        with eng.connect() as conn:
            migrate.stamp(conn, ["core"])
            assert migrate.status(conn)["core"].state == "up to date"
            assert migrate.mounted_modules(conn) == ["core"]
            assert version_rows(conn) == {core_head()}
        created = schema_snapshot(eng)
    finally:
        eng.dispose()
    assert created.keys() == migrated.keys()
    for name in created:
        assert created[name] == migrated[name], name


@pytest.mark.parametrize(
    "mounted", [["core"], ["core", "bionty"], ["core", "bionty", "wetlab"]]
)
def test_empty_database_created_from_models_equals_migrating(
    db_url: str, mounted: list[str]
) -> None:
    """An empty database gets its schema from the models, the same as by Alembic."""
    tables = set().union(*(migrate.lamin_tables(m) for m in mounted))
    tables.add(VERSION_TABLE)
    eng = make_engine(db_url)
    try:
        with eng.connect() as conn:
            conn.execute(text("CREATE TABLE host_thing (id INTEGER PRIMARY KEY)"))
            conn.commit()
            migrate.upgrade(conn, mounted)  # not empty: Alembic runs the revisions
            migrated_versions = version_rows(conn)
            conn.rollback()
        migrated = schema_snapshot(eng, tables)
    finally:
        eng.dispose()
    reset(db_url)

    eng = make_engine(db_url)
    try:
        with eng.connect() as conn:
            assert migrate._create_from_models(conn, mounted)
            assert not conn.in_transaction()
        with eng.connect() as conn:
            assert version_rows(conn) == migrated_versions
            assert migrate.mounted_modules(conn) == mounted
            states = migrate.status(conn)
            assert all(states[m].state == "up to date" for m in mounted)
            assert states["wetlab"].state == (
                "up to date" if "wetlab" in mounted else "not mounted"
            )
            migrate.check(conn, mounted)
            # a second upgrade has nothing to do; a table exists now
            assert not migrate._create_from_models(conn, mounted)
            migrate.upgrade(conn, mounted)
            conn.commit()
        created = schema_snapshot(eng, tables)
        assert table_names(eng) == tables
    finally:
        eng.dispose()
    assert created.keys() == migrated.keys()
    for name in created:
        # Alembic appends columns added by later revisions; the models declare
        # them in place: the order of columns is the one allowed difference
        created[name]["columns"].sort()
        migrated[name]["columns"].sort()
        assert created[name] == migrated[name], name


def test_models_head_is_each_builtin_modules_head() -> None:
    """Creating a schema from the models is only right at the head they match."""
    script = migrate._script()
    for module in modules.BUILTIN_MODULES:
        assert module.models_head == migrate._branch_head(script, module.name), (
            f"a new {module.name} revision: set models_head in lamin_sa/modules.py"
        )


def test_init_of_an_empty_database_does_not_import_alembic(tmp_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        import sys
        import lamin_sa as ln
        ln.init(storage={str(tmp_path / "data")!r})
        assert ln.ULabel.filter().first() is None
        print("alembic" in sys.modules)
        """
    )
    env = {**os.environ, "LAMIN_SA_HOME": str(tmp_path / "home")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_upgrade_of_a_newer_code_from_empty_runs_alembic(
    engine: Engine, newer_code: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scripts past the models' head: the revisions run (the probe table exists)."""
    monkeypatch.setattr(migrate, "alembic_dir", lambda: newer_code)
    with engine.connect() as conn:
        migrate.upgrade(conn)
    assert "core_probe" in table_names(engine)


# ---- status and check ------------------------------------------------------------


NEXT_CORE_REVISION = '''
"""A later core revision (test only)."""

import sqlalchemy as sa
from alembic import op

revision = "{rev}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "core_probe",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_probe")),
    )
    with op.batch_alter_table("core_user") as batch_op:
        batch_op.add_column(sa.Column("probe", sa.String(10), nullable=True))


def downgrade() -> None:
    # SQLite rebuilds core_user here, which core_run references ON DELETE CASCADE
    with op.batch_alter_table("core_user") as batch_op:
        batch_op.drop_column("probe")
    op.drop_table("core_probe")
'''


@pytest.fixture
def newer_code(tmp_path: Path) -> Path:
    """A copy of the migration scripts with one more core revision."""
    return make_newer_code(tmp_path)


def make_newer_code(tmp_path: Path) -> Path:
    """Copy the migration scripts and add one more core revision."""
    copy = tmp_path / "alembic_newer"
    shutil.copytree(
        migrate.alembic_dir(), copy, ignore=shutil.ignore_patterns("__pycache__")
    )
    (copy / "versions" / "core" / f"{CORE_HEAD_PROBE}_probe.py").write_text(
        NEXT_CORE_REVISION.format(rev=CORE_HEAD_PROBE, down=core_head())
    )
    return copy


def test_status_and_check_behind_then_ahead(
    engine: Engine, newer_code: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    installed, installed_head = migrate.alembic_dir(), core_head()
    with engine.connect() as conn:
        with pytest.raises(SchemaVersionError, match="lamin-sa migrate upgrade"):
            migrate.check(conn)  # an empty database
        migrate.upgrade(conn)
        migrate.check(conn)

        # the installed code gets newer: the database is behind
        monkeypatch.setattr(migrate, "alembic_dir", lambda: newer_code)
        core = migrate.status(conn)["core"]
        assert (core.current, core.head, core.state) == (
            installed_head,
            CORE_HEAD_PROBE,
            "behind",
        )
        assert "behind" in str(core)
        with pytest.raises(SchemaVersionError, match="`lamin-sa migrate upgrade`"):
            migrate.check(conn, ["core"])
        migrate.upgrade(conn)
        assert migrate.status(conn)["core"].state == "up to date"
        migrate.check(conn)
        assert "core_probe" in table_names(engine)

        # back to the older code: the database is ahead of it
        monkeypatch.setattr(migrate, "alembic_dir", lambda: installed)
        core = migrate.status(conn)["core"]
        assert (core.current, core.state) == (CORE_HEAD_PROBE, "ahead")
        with pytest.raises(SchemaVersionError, match="pip install -U lamin-sa"):
            migrate.check(conn)
        with pytest.raises(SchemaVersionError, match="pip install -U lamin-sa"):
            migrate.upgrade(conn)
        assert not conn.in_transaction()


def test_batch_rebuild_keeps_rows_that_reference_the_table(
    engine: Engine, newer_code: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(migrate, "alembic_dir", lambda: newer_code)
    t = "2024-01-01 00:00:00"
    with engine.connect() as conn:
        migrate.upgrade(conn)
        conn.execute(
            text(
                "INSERT INTO core_user (id, uid, handle, created_at, updated_at) "
                "VALUES (1, 'u0000001', 'someone', :t, :t)"
            ),
            {"t": t},
        )
        conn.execute(
            text(
                "INSERT INTO core_transform (id, uid, type, created_at, "
                "created_by_id, updated_at, is_latest) "
                "VALUES (1, 'tr00000000000000', 'script', :t, 1, :t, :yes)"
            ),
            {"t": t, "yes": True},
        )
        conn.execute(
            text(
                "INSERT INTO core_run (id, uid, transform_id, started_at, created_at, "
                "created_by_id) VALUES (1, 'ru000000000000000000', 1, :t, :t, 1)"
            ),
            {"t": t},
        )
        conn.commit()
        migrate.downgrade(conn, "core", to="-1")
        assert migrate.status(conn)["core"].state == "behind"
        assert conn.execute(text("SELECT count(*) FROM core_run")).scalar() == 1
        columns = {c["name"] for c in inspect(conn).get_columns("core_user")}
        assert "probe" not in columns
        if engine.dialect.name == "sqlite":
            raw = conn.connection.driver_connection
            assert raw.execute("PRAGMA foreign_keys").fetchone() == (1,)
        conn.commit()


def test_check_names_a_module_that_is_not_mounted(engine: Engine) -> None:
    with engine.connect() as conn:
        migrate.upgrade(conn)
        with pytest.raises(ModuleNotMounted, match="bionty"):
            migrate.check(conn, ["bionty"])
        # bionty has no revisions yet: mounting and unmounting only record it
        migrate.upgrade(conn, ["bionty"])
        assert migrate.mounted_modules(conn) == ["core", "bionty"]
        assert migrate.status(conn)["bionty"].state == "up to date"
        migrate.check(conn, ["bionty"])
        migrate.downgrade(conn, "bionty")
        assert migrate.mounted_modules(conn) == ["core"]


def test_upgrade_refuses_tables_without_history(engine: Engine) -> None:
    migrate.lamin_tables()
    metadata.create_all(engine, tables=[metadata.tables[t] for t in core_tables()])
    with engine.connect() as conn:
        with pytest.raises(LaminSAError, match="no migration history"):
            migrate.upgrade(conn)
        assert not conn.in_transaction()
        migrate.stamp(conn)
        migrate.upgrade(conn)
        migrate.check(conn)


# ---- transactions ------------------------------------------------------------------


def test_upgrade_inside_a_callers_transaction(db_url: str, engine: Engine) -> None:
    with engine.connect() as conn:
        conn.begin()
        if db_url.startswith("sqlite"):
            # SQLite cannot switch foreign keys off inside a transaction
            with pytest.raises(LaminSAError, match="without an open transaction"):
                migrate.upgrade(conn)
            conn.rollback()
        else:
            migrate.upgrade(conn)  # transactional DDL: the caller decides
            assert conn.in_transaction()
            conn.rollback()
    assert not core_tables() & table_names(engine)


# ---- a host application in the same database -------------------------------------


def test_host_tables_and_host_version_table_are_untouched(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
        conn.execute(text("INSERT INTO alembic_version VALUES ('hostrev0001')"))
        conn.execute(text("CREATE TABLE host_item (id INTEGER PRIMARY KEY, v TEXT)"))
        conn.execute(text("INSERT INTO host_item VALUES (1, 'kept')"))
        conn.commit()
        migrate.upgrade(conn)
        assert migrate.status(conn)["core"].state == "up to date"
        migrate.downgrade(conn, "core")
        migrate.upgrade(conn)
        assert conn.execute(text("SELECT version_num FROM alembic_version")).all() == [
            ("hostrev0001",)
        ]
        assert conn.execute(text("SELECT id, v FROM host_item")).all() == [(1, "kept")]
        conn.commit()
    assert {"alembic_version", "host_item", VERSION_TABLE} <= table_names(engine)


# ---- a module mounted later, through its own branch ------------------------------


@pytest.fixture
def plugin(
    tmp_path: Path, registry: dict[str, Module], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Module]:
    """A third-party-style module with its own versions folder and one table."""
    from sqlalchemy import Column, ForeignKey, Integer, String, Table

    migrate.lamin_tables()  # core models first: the plugin table references them
    module = Module("plugin", "plugin_", str(tmp_path / "plugin_versions"))
    registry["plugin"] = module
    table = Table(
        "plugin_thing",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("name", String(50), nullable=False, index=True),
        Column("user_id", ForeignKey("core_user.id", ondelete="CASCADE")),
    )
    scratch = tmp_path / "alembic_copy"
    shutil.copytree(
        migrate.alembic_dir(), scratch, ignore=shutil.ignore_patterns("__pycache__")
    )
    monkeypatch.setattr(migrate, "alembic_dir", lambda: scratch)
    try:
        yield module
    finally:
        metadata.remove(table)


def test_revision_writes_nothing_when_models_match(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "alembic_copy"
    shutil.copytree(
        migrate.alembic_dir(), scratch, ignore=shutil.ignore_patterns("__pycache__")
    )
    monkeypatch.setattr(migrate, "alembic_dir", lambda: scratch)
    before = sorted((scratch / "versions" / "core").glob("*.py"))
    assert migrate.revision("core", "nothing changed") is None
    assert sorted((scratch / "versions" / "core").glob("*.py")) == before


def test_new_module_branch_mounted_on_a_live_instance(
    plugin: Module, engine: Engine
) -> None:
    path = migrate.revision("plugin", "plugin tables")
    assert path is not None and path.parent == Path(plugin.versions_dir)
    source = path.read_text()
    assert "down_revision: str | Sequence[str] | None = None" in source
    assert "branch_labels: str | Sequence[str] | None = ('plugin',)" in source
    assert f"depends_on: str | Sequence[str] | None = '{core_head()}'" in source
    assert "plugin_thing" in source and "core_artifact" not in source
    assert migrate.revision("plugin", "again") is None
    (plugin_rev,) = [r.revision for r in migrate.history("plugin")]

    with engine.connect() as conn:
        migrate.upgrade(conn)
        conn.execute(
            text(
                "INSERT INTO core_user (uid, handle, created_at, updated_at) "
                "VALUES ('u0000001', 'someone', :t, :t)"
            ),
            {"t": "2024-01-01 00:00:00"},
        )
        conn.commit()
        assert migrate.status(conn)["plugin"].state == "not mounted"

        migrate.upgrade(conn, ["plugin"])
        # core's head is implied by the plugin's depends_on and is not stored
        assert version_rows(conn) == {plugin_rev}
        states = migrate.status(conn)
        assert states["core"].state == "up to date"
        assert states["plugin"].state == "up to date"
        assert migrate.mounted_modules(conn) == ["core", "plugin"]
        migrate.check(conn)
        assert conn.execute(text("SELECT handle FROM core_user")).scalar() == "someone"
        conn.commit()
        assert "plugin_thing" in table_names(engine)

        migrate.downgrade(conn, "plugin")
        assert version_rows(conn) == {core_head()}
        assert migrate.mounted_modules(conn) == ["core"]
        assert migrate.status(conn)["core"].state == "up to date"
        conn.commit()
        assert "plugin_thing" not in table_names(engine)

        # taking core to base takes the modules that depend on it along
        migrate.upgrade(conn, ["plugin"])
        migrate.downgrade(conn, "core")
        assert version_rows(conn) == set()
        conn.commit()
    assert not {t for t in table_names(engine) if t.startswith(("core_", "plugin_"))}


def test_stamp_a_created_schema_with_a_module(plugin: Module, db_url: str) -> None:
    migrate.revision("plugin", "plugin tables")
    eng = make_engine(db_url)
    try:
        wanted = core_tables() | {"plugin_thing"}
        metadata.create_all(eng, tables=[metadata.tables[t] for t in wanted])
        with eng.connect() as conn:
            migrate.stamp(conn, ["plugin"])
            states = migrate.status(conn)
            assert states["core"].state == states["plugin"].state == "up to date"
            assert migrate.mounted_modules(conn) == ["core", "plugin"]
    finally:
        eng.dispose()


# ---- the module registry -----------------------------------------------------------


def test_builtin_modules_and_requirements() -> None:
    names = [m.name for m in modules.resolve(["wetlab"])]
    assert names == ["core", "bionty", "wetlab"]
    assert modules.get_module("bionty").table_prefix == "bionty_"
    assert modules.module_for_table("core_artifact").name == "core"
    with pytest.raises(ModuleNotMounted, match="known modules: core, bionty, wetlab"):
        modules.get_module("nope")
    # bionty's and wetlab's models do not exist yet: skipped, not fatal
    loaded = modules.load_models(None, skip_missing=True)
    assert "core" in loaded


def test_third_party_module_from_entry_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dist = tmp_path / "lamin_fakeplug-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: lamin-fakeplug\nVersion: 0.1\n"
    )
    (dist / "entry_points.txt").write_text(
        "[lamin_sa.modules]\nfakeplug = lamin_fakeplug:module\n"
    )
    versions = tmp_path / "fakeplug_versions"
    (tmp_path / "lamin_fakeplug.py").write_text(
        textwrap.dedent(
            f"""
            from lamin_sa.modules import Module

            module = Module("fakeplug", "fakeplug_", {str(versions)!r})
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(modules, "_registry", None)
    found = modules.get_module("fakeplug")
    assert found.table_prefix == "fakeplug_"
    assert migrate.versions_path("fakeplug") == versions
