"""Engines, sessions and the active database context.

A context binds a SQLAlchemy ``Session`` to the identity (user) and provenance (run)
that new records get. The connected instance installs a process-wide context; a host
application can activate its own session for a block with :func:`use_session`.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from lamin_sa.db.sql import sqlite_lower
from lamin_sa.errors import InstanceNotConnected

SQLITE_BUSY_TIMEOUT_MS = 60_000

# Constructing a record with a to-one relation to a stored record (Run(transform=t))
# puts it in t's reverse collection before it is saved; that is expected here.
warnings.filterwarnings(
    "ignore", message=r".*not in session, add operation along .* will not proceed"
)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers and one writer work at once; busy_timeout makes a second
    # writer wait instead of failing; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
    # Unicode-aware lower() for case-insensitive lookups (see db.sql.ulower)
    dbapi_connection.create_function(
        "lamin_lower", 1, sqlite_lower, deterministic=True
    )


def normalize_url(url: str) -> str:
    """Return a SQLAlchemy URL with the driver lamin-sa uses for each backend."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout.

    Args:
        url: A SQLAlchemy database URL (``sqlite:///path`` or ``postgresql://...``).
        **kwargs: Passed to :func:`sqlalchemy.create_engine`.
    """
    url = normalize_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        kwargs.setdefault("connect_args", {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            # Writers take the write lock at BEGIN (see write_transaction) so two
            # processes never fail upgrading a read snapshot; readers in WAL mode
            # run beside them unblocked.
            if conn.get_execution_options().get("lamin_write"):
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.exec_driver_sql("BEGIN")

        # Let SQLAlchemy, not pysqlite, issue BEGIN (see the "begin" listener).
        @event.listens_for(engine, "connect")
        def _no_autobegin(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


session_factory = sessionmaker(expire_on_commit=False, autoflush=False)


@dataclass
class DBContext:
    """What new records are attributed to, and where they are written."""

    session: Session
    user_id: int | None = None
    run_id: int | None = None
    run: Any = None
    # The instance's own session ends each read transaction (like Django's
    # autocommit); a host's session is never committed by lamin-sa.
    autocommit: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


_global: DBContext | None = None
_local: ContextVar[DBContext | None] = ContextVar("lamin_sa_db_context", default=None)


_autoconnect: Any = None


def set_autoconnect(hook: Any) -> None:
    """Install the callable that connects the last used instance on first use."""
    global _autoconnect
    _autoconnect = hook


def current() -> DBContext:
    """Return the active context (a host session block, else the instance's)."""
    ctx = _local.get() or _global
    if ctx is None and _autoconnect is not None and _autoconnect():
        ctx = _global
    if ctx is None:
        raise InstanceNotConnected(
            "No lamin-sa instance is connected: run `lamin-sa init --storage DIR` "
            "or `ln.connect(NAME)` first."
        )
    return ctx


def current_or_none() -> DBContext | None:
    """Return the active context or None (never auto-connects)."""
    return _local.get() or _global


def get_session() -> Session:
    """Return the session of the active context."""
    return current().session


def set_global(ctx: DBContext | None) -> None:
    """Install (or clear with None) the process-wide context."""
    global _global
    _global = ctx


@contextlib.contextmanager
def use_session(
    session: Session, *, user_id: int | None = None, run_id: int | None = None
) -> Iterator[DBContext]:
    """Use a host application's session for lamin-sa calls inside the block.

    Args:
        session: The host's SQLAlchemy session; lamin-sa never commits it.
        user_id: The ``core_user.id`` new records are attributed to. Defaults to
            the connected instance's user, else the local OS user (registered on
            first use).
        run_id: The run new records are attributed to.
    """
    ctx = DBContext(session=session, user_id=user_id, run_id=run_id, autocommit=False)
    token = _local.set(ctx)
    try:
        yield ctx
    finally:
        _local.reset(token)


def end_read(ctx: DBContext) -> None:
    """Close the read transaction of an autocommit context so later reads are fresh."""
    if ctx.autocommit and ctx.session.in_transaction():
        ctx.session.commit()


@contextlib.contextmanager
def write_transaction(ctx: DBContext | None = None) -> Iterator[Session]:
    """Run a block of writes in one transaction of the active context.

    In the instance's own session the block commits at the end and rolls back on
    error; SQLite takes its write lock up front. In a host's session the block is
    flushed into the host's transaction and the host commits or rolls back (no
    SAVEPOINT: pysqlite's default transaction handling turns RELEASE into COMMIT).
    """
    ctx = ctx or current()
    session = ctx.session
    if not ctx.autocommit:
        yield session
        session.flush()
        return
    if session.in_transaction():
        session.commit()
    session.connection(execution_options={"lamin_write": True})
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
