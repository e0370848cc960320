"""Schema migrations: the only door to Alembic.

Every module (core, bionty, wetlab, third-party) is a labelled Alembic branch whose
scripts live in its own versions folder; all share the private version table
``lamin_sa_alembic_version``, so a host application's own ``alembic_version`` never
sees lamin-sa's revisions. The CLI, the tests and host apps call the same functions::

    from lamin_sa import migrate

    with engine.connect() as conn:
        migrate.upgrade(conn, modules=["core", "bionty"])
        migrate.check(conn)

Transactions: given a connection without an open transaction (``engine.connect()``)
each function commits its own work and returns with no transaction open; each
revision runs in its own transaction. Given a connection inside a transaction
(``engine.begin()``), everything runs in it and the caller commits; on SQLite this
only works while foreign keys are off, because SQLite cannot switch them off inside
a transaction (tables are rebuilt by batch migrations).

Alembic is imported inside the functions so that ``import lamin_sa`` stays fast.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import logging
import os
import re
import tempfile
import types
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from sqlalchemy import Connection, inspect, select

from lamin_sa.errors import (
    ForeignSchemaError,
    LaminSAError,
    ModuleNotMounted,
    SchemaVersionError,
)
from lamin_sa.modules import Module, get_module, registered_modules, resolve

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import Script, ScriptDirectory

logger = logging.getLogger(__name__)

VERSION_TABLE = "lamin_sa_alembic_version"
MODULE_TABLE = "core_module"

UPGRADE_HINT = "run `lamin-sa migrate upgrade`"
UPGRADE_CODE_HINT = "upgrade lamin-sa: pip install -U lamin-sa"

State = Literal["up to date", "behind", "ahead", "not mounted"]


@dataclass(frozen=True)
class ModuleStatus:
    """Where a module's schema stands against the installed code.

    Attributes:
        current: The module's revision in the database (None if not mounted).
        head: The module's newest revision in the installed code (None if the module
            has no revisions yet).
        state: ``"up to date"``, ``"behind"`` (run ``lamin-sa migrate upgrade``),
            ``"ahead"`` (the database was migrated by a newer lamin-sa) or
            ``"not mounted"``.
    """

    current: str | None
    head: str | None
    state: State

    def __str__(self) -> str:
        if self.state == "not mounted":
            return self.state
        if self.state == "up to date":
            return f"up to date ({self.current or 'no revisions'})"
        return f"{self.state} (database {self.current}, code {self.head})"


class RevisionInfo(NamedTuple):
    """One migration revision, as listed by :func:`history`."""

    revision: str
    down_revision: str | tuple[str, ...] | None
    branch_labels: tuple[str, ...]
    message: str

    def __str__(self) -> str:
        down = self.down_revision
        down_text = ", ".join(down) if isinstance(down, tuple) else (down or "<base>")
        labels = f" ({', '.join(self.branch_labels)})" if self.branch_labels else ""
        return f"{down_text} -> {self.revision}{labels}, {self.message}"


# ---- locations and configuration ---------------------------------------------------


def alembic_dir() -> Path:
    """Return the folder holding ``env.py`` and the version folders.

    An installed wheel ships it as the package data ``lamin_sa/_alembic``; in a
    checkout (or an editable install) it is the top-level ``alembic/`` folder.

    Raises:
        LaminSAError: Neither exists (a broken installation).
    """
    from importlib.resources import files

    packaged = files("lamin_sa") / "_alembic"
    if packaged.is_dir() and (packaged / "env.py").is_file():
        return Path(str(packaged)).resolve()
    checkout = Path(__file__).resolve().parent.parent / "alembic"
    if (checkout / "env.py").is_file():
        return checkout
    raise LaminSAError(
        "lamin-sa's migration scripts are missing (neither lamin_sa/_alembic nor a "
        "checkout's alembic/ folder exists); reinstall lamin-sa."
    )


def versions_path(module: Module | str) -> Path:
    """Return the absolute folder of a module's migration scripts."""
    module = get_module(module) if isinstance(module, str) else module
    path = Path(module.versions_dir)
    return path if path.is_absolute() else alembic_dir() / "versions" / path


def _escape(value: str) -> str:
    # Config values go through configparser interpolation.
    return value.replace("%", "%%")


def _config(connection: Connection | None = None, **attributes: Any) -> Config:
    from alembic.config import Config

    cfg = Config(
        stdout=_LogStream(),
        cmd_opts=types.SimpleNamespace(quiet=True, x=[]),
    )
    cfg.set_main_option("script_location", _escape(str(alembic_dir())))
    cfg.set_main_option("path_separator", "os")
    locations = dict.fromkeys(str(versions_path(m)) for m in _all_modules())
    cfg.set_main_option("version_locations", _escape(os.pathsep.join(locations)))
    cfg.set_main_option("version_table", VERSION_TABLE)
    cfg.attributes["connection"] = connection
    cfg.attributes.update(attributes)
    return cfg


class _LogStream:
    """A text stream that sends Alembic's command output to the logger."""

    def write(self, text: str) -> int:
        if text.strip():
            logger.info("%s", text.rstrip())
        return len(text)

    def flush(self) -> None:
        pass


def _all_modules() -> list[Module]:
    return list(registered_modules().values())


@functools.lru_cache(maxsize=8)
def _script_for(location: str, versions: tuple[str, ...]) -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config())


def _script() -> ScriptDirectory:
    """The script directory of the installed code (cached per location)."""
    locations = tuple(str(versions_path(m)) for m in _all_modules())
    return _script_for(str(alembic_dir()), locations)


def lamin_tables(module: str | None = None) -> set[str]:
    """Return the names of lamin-sa's tables, as defined by the installed models.

    Loads the models of every installed module first. A host application's
    ``env.py`` can exclude these (and :data:`VERSION_TABLE`) from its own
    autogenerate.

    Args:
        module: Only this module's tables (by table-name prefix).
    """
    from lamin_sa.db.base import metadata
    from lamin_sa.modules import load_models

    load_models(None, skip_missing=True)
    prefix = get_module(module).table_prefix if module else ""
    return {name for name in metadata.tables if name.startswith(prefix)}


# ---- the revision graph --------------------------------------------------------


def _revision(script: ScriptDirectory, rev: str) -> Script | None:
    from alembic.util import CommandError

    try:
        return script.get_revision(rev)
    except CommandError:
        return None


def _parents(script: ScriptDirectory, rev: Script) -> list[str]:
    """Revisions that must be applied before ``rev``: down revisions and depends_on."""
    down = rev.down_revision
    parents = [down] if isinstance(down, str) else list(down or ())
    deps = rev.dependencies
    for dep in [deps] if isinstance(deps, str) else list(deps or ()):
        parents.extend(r.revision for r in script.get_revisions(dep) if r is not None)
    return parents


def _applied(script: ScriptDirectory, heads: Iterable[str]) -> set[str]:
    """Every revision applied when the version table holds ``heads``."""
    seen: set[str] = set()
    stack = list(heads)
    while stack:
        rev_id = stack.pop()
        if rev_id in seen:
            continue
        seen.add(rev_id)
        rev = _revision(script, rev_id)
        if rev is not None:
            stack.extend(_parents(script, rev))
    return seen


def _branch(script: ScriptDirectory, label: str) -> list[Script]:
    return [r for r in script.walk_revisions() if label in r.branch_labels]


def _branch_head(script: ScriptDirectory, label: str) -> str | None:
    """The newest revision of a module's branch (the branch is linear)."""
    heads = [
        h for h in script.get_heads() if label in script.get_revision(h).branch_labels
    ]
    if len(heads) > 1:
        raise LaminSAError(
            f"Module {label!r} has several migration heads {heads}; a module's "
            "branch must stay linear."
        )
    return heads[0] if heads else None


def _latest(script: ScriptDirectory, revs: Iterable[str]) -> str | None:
    """The newest of some revisions of one linear branch."""
    revs = set(revs)
    older: set[str] = set()
    for rev_id in revs:
        rev = _revision(script, rev_id)
        if rev is not None:
            older.update(_applied(script, _parents(script, rev)))
    newest = sorted(revs - older)
    return ",".join(newest) if newest else None


# ---- reading the database --------------------------------------------------------


@contextlib.contextmanager
def _transaction(connection: Connection) -> Iterator[bool]:
    """End the transaction we autobegin, unless the caller had one open.

    Yields whether this call owns the transaction (the caller had none open).
    """
    owned = not connection.in_transaction()
    try:
        yield owned
    except BaseException:
        if owned and connection.in_transaction():
            connection.rollback()
        raise
    if owned and connection.in_transaction():
        connection.commit()


def _db_heads(connection: Connection) -> tuple[str, ...]:
    """The revisions stored in the version table (what Alembic calls the heads)."""
    from sqlalchemy import column, table

    if not inspect(connection).has_table(VERSION_TABLE):
        return ()
    version = table(VERSION_TABLE, column("version_num"))
    return tuple(connection.scalars(select(version.c.version_num)))


def _read_mounted(connection: Connection) -> list[str]:
    if not inspect(connection).has_table(MODULE_TABLE):
        return []
    table = _module_table()
    return list(connection.scalars(select(table.c.name).order_by(table.c.id)))


def _module_table() -> Any:
    from sqlalchemy import column, table

    from lamin_sa.db.base import UTCDateTime

    return table(
        MODULE_TABLE,
        column("id"),
        column("name"),
        column("mounted_at", UTCDateTime()),
    )


def _record_mounted(connection: Connection, names: Sequence[str]) -> None:
    from lamin_sa.db.base import utcnow

    if not names or not inspect(connection).has_table(MODULE_TABLE):
        return
    present = set(_read_mounted(connection))
    missing = [n for n in dict.fromkeys(names) if n not in present]
    if missing:
        now = utcnow()
        connection.execute(
            _module_table().insert(),
            [{"name": n, "mounted_at": now} for n in missing],
        )


def _forget_unmounted(connection: Connection, script: ScriptDirectory) -> None:
    """Remove rows of modules whose branch was downgraded to base."""
    if not inspect(connection).has_table(MODULE_TABLE):
        return
    applied = _applied(script, _db_heads(connection))
    gone = []
    for name in _read_mounted(connection):
        branch = {r.revision for r in _branch(script, name)}
        if branch and not branch & applied:
            gone.append(name)
    if gone:
        tbl = _module_table()
        connection.execute(tbl.delete().where(tbl.c.name.in_(gone)))


def mounted_modules(connection: Connection) -> list[str]:
    """Return the modules mounted on the database, in mounting order.

    Args:
        connection: A connection to the instance's database.

    Returns:
        Module names as recorded in ``core_module``; empty for a database without
        the lamin-sa schema.
    """
    with _transaction(connection):
        return _read_mounted(connection)


def _status(connection: Connection, script: ScriptDirectory) -> dict[str, ModuleStatus]:
    stored = _db_heads(connection)
    mounted = set(_read_mounted(connection))
    known = [h for h in stored if _revision(script, h) is not None]
    unknown = [h for h in stored if h not in known]
    applied = _applied(script, known)
    direct = {label for h in known for label in script.get_revision(h).branch_labels}
    out: dict[str, ModuleStatus] = {}
    for name in registered_modules():
        branch = {r.revision for r in _branch(script, name)}
        head = _branch_head(script, name)
        current = _latest(script, branch & applied)
        state: State
        if unknown and name in mounted and name not in direct:
            # a newer lamin-sa wrote revisions this code does not know
            current, state = ",".join(unknown), "ahead"
        elif current is None:
            if name not in mounted:
                state = "not mounted"
            else:
                state = "up to date" if head is None else "behind"
        elif current == head:
            state = "up to date"
        elif head is not None and current in _applied(script, [head]):
            state = "behind"
        else:
            state = "ahead"
        out[name] = ModuleStatus(current=current, head=head, state=state)
    if unknown and not any(s.state == "ahead" for s in out.values()):
        core = out["core"]
        out["core"] = ModuleStatus(",".join(unknown), core.head, "ahead")
    return out


def status(connection: Connection) -> dict[str, ModuleStatus]:
    """Report, for every known module, the database's revision against the code's.

    A module's current revision is the newest revision of its branch among those
    applied, following ``depends_on`` as well as ``down_revision``: a revision that
    another module depends on is not stored in the version table once that module
    is upgraded (the "effective head" of ``get_heads(consider_depends_on=True)``),
    and still counts as applied.

    Args:
        connection: A connection to the database.

    Returns:
        ``{module name: ModuleStatus}`` for every registered module, core first.
    """
    with _transaction(connection):
        return _status(connection, _script())


def check(connection: Connection, modules: Iterable[str] | None = None) -> None:
    """Fail with one clear message unless the schema matches the installed code.

    Args:
        connection: A connection to the database.
        modules: Modules that must be mounted; ``None`` checks the mounted ones.

    Raises:
        SchemaVersionError: The schema is behind the code (run
            ``lamin-sa migrate upgrade``) or ahead of it (upgrade lamin-sa).
        ModuleNotMounted: A requested module is not mounted.
    """
    if _matches_code(connection, modules):
        return
    with _transaction(connection):
        states = _status(connection, _script())
        if states["core"].state == "not mounted":
            _refuse_foreign(connection)
        # a mounted module that is not installed (or failed to load) is skipped
        # here; connect() logs it
        known = registered_modules()
        mounted = [n for n in _read_mounted(connection) if n in known]
        names = [m.name for m in resolve([*mounted, *(modules or ())])]
    ahead = [n for n in names if states[n].state == "ahead"]
    if ahead:
        detail = "; ".join(
            f"{n}: database at {states[n].current}, code at {states[n].head}"
            for n in ahead
        )
        raise SchemaVersionError(
            f"The database schema is newer than the installed lamin-sa ({detail}): "
            f"{UPGRADE_CODE_HINT}."
        )
    behind = [n for n in names if states[n].state == "behind"]
    if states["core"].state == "not mounted":
        behind.insert(0, "core")
    if behind:
        detail = "; ".join(
            f"{n}: database at {states[n].current or 'base'}, code at {states[n].head}"
            for n in behind
        )
        raise SchemaVersionError(
            f"The database schema is older than the installed lamin-sa ({detail}): "
            f"{UPGRADE_HINT}."
        )
    missing = [n for n in names if states[n].state == "not mounted"]
    if missing:
        raise ModuleNotMounted(
            f"Module(s) {', '.join(missing)} not mounted on this database: mount "
            f"with `ln.connect(instance, modules={missing!r})`."
        )


_REVISION_LINE = re.compile(
    r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.+)$", re.MULTILINE
)


@functools.lru_cache(maxsize=8)
def _heads_in(folder: str) -> tuple[str, ...]:
    """Head revisions of one module's scripts, read as text (Alembic not imported).

    A head is a revision no other script of the folder names as its down
    revision. The scripts' own assignments are parsed with a regular expression;
    anything unusual makes the caller fall back to Alembic.
    """
    revisions: set[str] = set()
    downs: set[str] = set()
    for path in Path(folder).glob("*.py"):
        found = dict(
            (k, ast.literal_eval(v.strip()))
            for k, v in _REVISION_LINE.findall(path.read_text())
        )
        if not isinstance(found.get("revision"), str):
            continue
        revisions.add(found["revision"])
        down = found.get("down_revision")
        downs.update([down] if isinstance(down, str) else list(down or ()))
    return tuple(sorted(revisions - downs))


def _matches_code(connection: Connection, modules: Iterable[str] | None) -> bool:
    """Whether the version table holds exactly the code's heads (two plain queries).

    The common case at connect: nothing to migrate, so Alembic is not imported
    (importing it and building its script directory cost more than the rest of
    ``connect``). Anything else, or any doubt, returns False and :func:`check`
    asks Alembic for the exact state.
    """
    if connection.in_transaction():
        return False  # a failing probe must not abort the caller's transaction
    try:
        with _transaction(connection):
            stored = {
                r[0]
                for r in connection.exec_driver_sql(
                    f"SELECT version_num FROM {VERSION_TABLE}"
                )
            }
            mounted = [
                r[0]
                for r in connection.exec_driver_sql(
                    f"SELECT name FROM {MODULE_TABLE} ORDER BY id"
                )
            ]
        names = [m.name for m in resolve([*mounted, *(modules or ())])]
        if "core" not in mounted or any(n not in mounted for n in names):
            return False
        heads: set[str] = set()
        for name in mounted:
            # resolve() above raised for an unknown module (caught below)
            found = _heads_in(str(versions_path(get_module(name))))
            if len(found) != 1:
                return False
            heads.update(found)
    except Exception:  # no such tables, unreadable scripts, unknown modules, ...
        return False
    return heads == stored


# ---- changing the schema ---------------------------------------------------------


def _refuse_ahead(states: dict[str, ModuleStatus], names: Iterable[str]) -> None:
    ahead = [n for n in names if states[n].state == "ahead"]
    if ahead:
        raise SchemaVersionError(
            f"The database schema of {', '.join(ahead)} is newer than the installed "
            f"lamin-sa (revision {states[ahead[0]].current}): {UPGRADE_CODE_HINT}."
        )


def _foreign_tables(connection: Connection) -> list[str]:
    """Tables named like lamin-sa's in a database lamin-sa never migrated."""
    if _db_heads(connection):
        return []
    names = set(inspect(connection).get_table_names())
    if not names or MODULE_TABLE in names:
        return []  # empty, or made by metadata.create_all (see stamp())
    from lamin_sa.db.base import metadata
    from lamin_sa.modules import load_models

    load_models(["core"])  # core's tables join the metadata

    return sorted(names & set(metadata.tables))


def _refuse_foreign(connection: Connection) -> None:
    foreign = _foreign_tables(connection)
    if foreign:
        shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise ForeignSchemaError(
            f"The database already holds tables named like lamin-sa's ({shown}) "
            "that lamin-sa did not create: use an empty database (or another "
            "PostgreSQL schema) for the instance."
        )


def check_not_foreign(connection: Connection) -> None:
    """Fail with one clear line if the database holds foreign same-named tables.

    Raises:
        ForeignSchemaError: Tables such as ``core_user`` exist, but lamin-sa's
            version table does not.
    """
    with _transaction(connection):
        _refuse_foreign(connection)


def _end_own(connection: Connection, owned: bool) -> None:
    # Alembic runs each revision in its own transaction only if it finds none open.
    if owned and connection.in_transaction():
        connection.commit()


#: key of the PostgreSQL advisory lock that serializes schema upgrades.
_PG_LOCK_KEY = 0x1A3E_5A_01


@contextlib.contextmanager
def _schema_lock(connection: Connection) -> Iterator[None]:
    """Serialize schema upgrades of one database across processes.

    PostgreSQL: an advisory lock (session-level, or transaction-level inside the
    caller's transaction). SQLite: an exclusive lock on a file named after
    the database in the temp dir (Alembic's own transactions run on the
    connection meanwhile).
    """
    dialect = connection.dialect.name
    if dialect == "postgresql":
        if connection.in_transaction():
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})")
            yield
            return
        connection.exec_driver_sql(f"SELECT pg_advisory_lock({_PG_LOCK_KEY})")
        connection.commit()
        try:
            yield
        finally:
            if connection.in_transaction():
                connection.rollback()
            connection.exec_driver_sql(f"SELECT pg_advisory_unlock({_PG_LOCK_KEY})")
            connection.commit()
        return
    database = connection.engine.url.database if dialect == "sqlite" else None
    try:
        import fcntl
    except ImportError:  # no POSIX file locks: rely on SQLite's own locking
        fcntl = None  # type: ignore[assignment]
    if not database or database == ":memory:" or fcntl is None:
        yield
        return
    # the lock file lives in the temp dir, never beside the data
    import hashlib

    key = hashlib.md5(os.path.abspath(database).encode()).hexdigest()[:16]
    lock_path = Path(tempfile.gettempdir()) / f"lamin-sa-migrate-{key}.lock"
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def upgrade(connection: Connection, modules: Iterable[str] = ("core",)) -> None:
    """Create or upgrade the schema of modules to the installed code's heads.

    Upgrades ``core@head``, then ``<module>@head`` for each module in mounting
    order (required modules first) and records the modules in ``core_module``.
    Modules already mounted on the database are upgraded too. Never upgrades to
    ``heads``: modules that are not mounted stay untouched.

    Args:
        connection: A connection to the database (see the module docstring on
            transactions).
        modules: Modules to mount or upgrade; ``core`` is always included.

    Raises:
        SchemaVersionError: The database is ahead of the installed code.
        ModuleNotMounted: A module name is unknown.

    Example:
        >>> with engine.connect() as conn:  # doctest: +SKIP
        ...     upgrade(conn, modules=["bionty"])
    """
    with _schema_lock(connection):
        _upgrade(connection, modules)


def _upgrade(connection: Connection, modules: Iterable[str]) -> None:
    # the state is read after taking the lock: another process may have
    # upgraded meanwhile
    if _create_from_models(connection, modules):
        return
    from alembic import command

    with _transaction(connection) as owned:
        script = _script()
        targets = resolve([*_read_mounted(connection), *modules])
        states = _status(connection, script)
        _refuse_ahead(states, [m.name for m in targets])
        if states["core"].current is None:
            _refuse_foreign(connection)
        if states["core"].current is None and inspect(connection).has_table(
            MODULE_TABLE
        ):
            raise LaminSAError(
                "The lamin-sa tables exist but have no migration history (made by "
                "metadata.create_all?): mark them with `lamin_sa.migrate.stamp(conn, "
                "modules)` if they match the installed models."
            )
        names = [m.name for m in targets]
        _end_own(connection, owned)
        for module in targets:
            if states[module.name].head is None:
                logger.debug("module %s has no revisions yet", module.name)
                continue
            if states[module.name].state == "up to date":
                logger.debug("module %s is up to date", module.name)
                continue
            logger.debug("upgrading %s to %s@head", module.name, module.name)
            command.upgrade(_config(connection, modules=names), f"{module.name}@head")
            _end_own(connection, owned)
        _record_mounted(connection, names)


_DEPENDS_LINE = re.compile(r"^depends_on\s*(?::[^=]*)?=\s*(.+)$", re.MULTILINE)


@functools.lru_cache(maxsize=8)
def _graph_in(folder: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``(revision, revisions it builds on)`` of one module's scripts, read as text.

    The revisions built on are the down revisions and ``depends_on``. Raises
    ``ValueError`` on anything unusual (the caller then runs Alembic).
    """
    out = []
    for path in sorted(Path(folder).glob("*.py")):
        source = path.read_text()
        found = dict(
            (k, ast.literal_eval(v.strip())) for k, v in _REVISION_LINE.findall(source)
        )
        depends = [ast.literal_eval(v.strip()) for v in _DEPENDS_LINE.findall(source)]
        if not isinstance(found.get("revision"), str) or len(depends) > 1:
            raise ValueError(f"unusual migration script {path}")
        refs: list[str] = []
        for value in (found.get("down_revision"), *(depends or [None])):
            refs.extend([value] if isinstance(value, str) else list(value or ()))
        out.append((found["revision"], tuple(refs)))
    return tuple(out)


def _stored_heads(targets: Sequence[Module]) -> set[str] | None:
    """What Alembic stores after upgrading every target module to its head.

    The revisions no other revision of the targets builds on. None unless each
    target's scripts end at the head its models are known to match.
    """
    revisions: set[str] = set()
    built_on: set[str] = set()
    for module in targets:
        if module.models_head is None:
            return None
        graph = _graph_in(str(versions_path(module)))
        own = {rev for rev, _ in graph}
        if set(_heads_in(str(versions_path(module)))) != {module.models_head}:
            return None
        revisions |= own
        for _, refs in graph:
            built_on.update(refs)
    if not built_on <= revisions:
        return None  # a dependency outside the targets: let Alembic sort it out
    return revisions - built_on


def _create_from_models(connection: Connection, modules: Iterable[str]) -> bool:
    """Create an empty database's schema from the models and stamp the heads.

    The same schema as running every revision (tests/test_migrations.py compares
    both), without importing Alembic or replaying its operations: most of the
    time ``init`` took. Only for built-in modules whose scripts end at the
    revision their models match, only if the database holds no table at all,
    and only on a connection without an open transaction.

    Returns:
        Whether the schema was created (False: nothing was done).
    """
    if connection.in_transaction():
        return False  # a caller's transaction keeps the documented Alembic path
    try:
        targets = resolve(modules)
        heads = _stored_heads(targets)
    except (LaminSAError, ValueError, OSError, SyntaxError):
        return False
    if not heads:
        return False
    with _transaction(connection):
        if inspect(connection).get_table_names():
            return False
        from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, String, Table

        from lamin_sa.db.base import metadata
        from lamin_sa.modules import load_models, module_for_table

        names = {m.name for m in targets}
        load_models(sorted(names))
        # A copy: creating the schema where ALTER is supported marks the shared
        # metadata's use_alter foreign keys as created apart (SQLAlchemy's
        # AddConstraint), and a later CREATE TABLE on SQLite would leave them out.
        own = MetaData(naming_convention=metadata.naming_convention)
        for name, table in metadata.tables.items():
            owner = module_for_table(name)
            if owner is not None and owner.name in names:
                table.to_metadata(own)
        own.create_all(connection)
        # the version table exactly as Alembic creates it
        version = Table(
            VERSION_TABLE,
            MetaData(),
            Column("version_num", String(32), nullable=False),
            PrimaryKeyConstraint("version_num", name=f"{VERSION_TABLE}_pkc"),
        )
        version.create(connection)
        connection.execute(version.insert(), [{"version_num": h} for h in heads])
        _record_mounted(connection, [m.name for m in targets])
    logger.debug("created the schema of %s from the models", ", ".join(names))
    return True


def _rows_in_module_tables(connection: Connection, module: Module) -> list[str]:
    from sqlalchemy import func, table

    names = [t for t in inspect(connection).get_table_names() if module.owns_table(t)]
    return [
        name
        for name in names
        if connection.scalar(select(func.count()).select_from(table(name)))
    ]


def downgrade(
    connection: Connection, module: str, to: str = "base", *, force: bool = False
) -> None:
    """Downgrade one module's schema.

    Modules that depend on the downgraded revisions are downgraded with them (by
    Alembic's ``depends_on``). A module taken to base is unmounted; a module
    other than core is unmounted only while its tables hold no rows.

    Args:
        connection: A connection to the database.
        module: The module to downgrade.
        to: ``"base"`` (remove the module's tables), a relative step such as
            ``"-1"``, or a revision id of the module.
        force: Unmount even if the module's tables hold data (it is lost).

    Raises:
        ModuleNotMounted: The module name is unknown.
        LaminSAError: Unmounting a module whose tables hold data.
    """
    from alembic import command

    mod = get_module(module)
    if to == "base" and module != "core" and not force:
        with _transaction(connection):
            full = _rows_in_module_tables(connection, mod)
        if full:
            raise LaminSAError(
                f"Module {module!r} still holds data ({', '.join(sorted(full))}): "
                "delete its records first, or pass force=True to drop them."
            )
    if to == "base" or to.startswith("-"):
        target = f"{module}@{to}"
    else:
        target = to
    with _transaction(connection) as owned:
        script = _script()
        names = _read_mounted(connection)
        if _branch_head(script, module) is None:
            # a module without revisions has no tables: only unmount it
            if module in names and module != "core":
                tbl = _module_table()
                connection.execute(tbl.delete().where(tbl.c.name == module))
            return
        _end_own(connection, owned)
        logger.info("downgrading %s to %s", module, target)
        command.downgrade(_config(connection, modules=names), target)
        _end_own(connection, owned)
        _forget_unmounted(connection, script)


def stamp(connection: Connection, modules: Iterable[str] = ("core",)) -> None:
    """Mark a schema made by ``metadata.create_all`` as migrated to the heads.

    Args:
        connection: A connection to a database whose tables were created from the
            models of exactly these modules.
        modules: The modules whose tables exist; ``core`` is always included.
    """
    from alembic import command

    with _transaction(connection) as owned:
        script = _script()
        targets = [m.name for m in resolve(modules)]
        heads = [f"{n}@head" for n in targets if _branch_head(script, n) is not None]
        _end_own(connection, owned)
        if heads:
            command.stamp(_config(connection, modules=targets), heads)
            _end_own(connection, owned)
        _record_mounted(connection, targets)


def history(module: str | None = None) -> list[RevisionInfo]:
    """List the migration revisions of the installed code, oldest first.

    Args:
        module: Only this module's revisions; ``None`` for all.

    Returns:
        ``(revision, down_revision, branch_labels, message)`` tuples.
    """
    if module is not None:
        get_module(module)
    out = []
    for rev in reversed(list(_script().walk_revisions())):
        if module is not None and module not in rev.branch_labels:
            continue
        out.append(
            RevisionInfo(
                revision=rev.revision,
                down_revision=rev.down_revision,
                branch_labels=tuple(sorted(rev.branch_labels)),
                message=(rev.doc or "").strip(),
            )
        )
    return out


# ---- writing revisions (developers) ----------------------------------------------


def revision(module: str, message: str) -> Path | None:
    """Autogenerate a migration script for one module (``make revision``).

    A scratch SQLite database is upgraded to every module's head, then Alembic
    compares it with the models of ``module`` only (tables with its prefix). A
    module's first revision starts a new branch at base, labelled with the module
    and depending on core's head (and on the heads of the modules it requires).

    Args:
        module: The module whose models changed.
        message: The revision message.

    Returns:
        The new script's path, or None when the models match the migrations.
    """
    from alembic import command

    from lamin_sa.db.session import make_engine
    from lamin_sa.modules import load_models

    mod = get_module(module)
    loaded = load_models(None, skip_missing=True)
    if module not in loaded:
        raise LaminSAError(
            f"Module {module!r} has no models to generate from ({mod.load_models!r} "
            "failed)."
        )
    folder = versions_path(mod)
    folder.mkdir(parents=True, exist_ok=True)
    _script_for.cache_clear()
    script = _script()
    with tempfile.TemporaryDirectory(prefix="lamin_sa_revision_") as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'revision.db'}")
        try:
            with engine.connect() as conn:
                with_revisions = [
                    n for n in registered_modules() if _branch_head(script, n)
                ]
                upgrade(conn, with_revisions)
                # Autogenerate wants the database at the "real" heads, those
                # of get_heads(consider_depends_on=True): upgrading every module
                # to its head stores exactly those.
                kwargs: dict[str, Any] = {}
                head = _branch_head(script, module)
                if head is not None:
                    kwargs["head"] = f"{module}@head"
                else:
                    kwargs["head"] = "base"
                    kwargs["branch_label"] = (module,)
                    depends = [
                        _branch_head(script, n)
                        for n in ("core", *mod.requires)
                        if n != module
                    ]
                    if any(d is None for d in depends):
                        raise LaminSAError(
                            f"Module {module!r} depends on modules without "
                            "revisions; generate theirs first."
                        )
                    if depends:
                        kwargs["depends_on"] = depends
                cfg = _config(
                    conn,
                    module=module,
                    autogenerate=True,
                    own_database=True,
                    modules=loaded,
                )
                result = command.revision(
                    cfg,
                    message=message,
                    autogenerate=True,
                    version_path=str(folder),
                    **kwargs,
                )
                conn.commit()
        finally:
            engine.dispose()
    _script_for.cache_clear()
    scripts = result if isinstance(result, list) else [result]
    scripts = [s for s in scripts if s is not None]
    if not scripts:
        logger.info("no changes in %s's models; no revision written", module)
        return None
    path = Path(scripts[0].path)
    logger.info("wrote %s", path)
    return path


__all__ = [
    "VERSION_TABLE",
    "ModuleStatus",
    "RevisionInfo",
    "alembic_dir",
    "check",
    "check_not_foreign",
    "downgrade",
    "history",
    "lamin_tables",
    "mounted_modules",
    "revision",
    "stamp",
    "status",
    "upgrade",
    "versions_path",
]
