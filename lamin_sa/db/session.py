"""Engines, sessions and write transactions.

The active context (session, instance, storage, user, run) lives in
:mod:`lamin_sa.db.context`; its names are re-exported here.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

# The context lives in its own light module; these names stay importable from here.
from lamin_sa.db.context import (
    DBContext,
    current,
    current_or_none,
    set_autoconnect,
    set_global,
    use_session,
)
from lamin_sa.db.diagnose import write_error
from lamin_sa.db.sql import sqlite_lower

logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 60_000

T = TypeVar("T")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers and one writer work at once; busy_timeout makes a second
    # writer wait instead of failing; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # a 64 MiB page cache (default 2 MiB): bulk inserts update ~10 indexes per
    # registry, which otherwise re-read their pages from the OS on every batch
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()
    # Unicode-aware lower() for case-insensitive lookups (see db.sql.ulower)
    dbapi_connection.create_function("lamin_lower", 1, sqlite_lower, deterministic=True)


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
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "postgresql":
        event.listen(engine, "begin", _pg_begin)
    return engine


#: a kept PostgreSQL connection idle longer than this is pinged before a write
KEPT_PING_AFTER_S = 1.0


def _fresh_for_write(ctx: DBContext, bind: Any) -> None:
    """Before a write on a kept PostgreSQL connection, make sure it is alive.

    What the pool's pre-ping did per checkout, here only after a pause: a server
    restart or idle timeout is found and the connection replaced, without a
    round trip per write in a loop of writes.
    """
    if not isinstance(bind, Connection) or bind.dialect.name != "postgresql":
        return
    now = time.monotonic()
    last = ctx.extra.get(_KEPT_USED, 0.0)
    ctx.extra[_KEPT_USED] = now
    if now - last < KEPT_PING_AFTER_S or bind.invalidated or bind.in_transaction():
        return
    dbapi_connection = bind.connection.dbapi_connection
    if dbapi_connection is None:
        return
    try:
        dbapi_connection.autocommit = True  # the ping must not open a transaction
        bind.dialect.do_ping(dbapi_connection)
    except bind.dialect.loaded_dbapi.Error:
        logger.info("the database connection was lost; reconnecting")
        bind.invalidate()  # the next statement gets a new connection


_KEPT_USED = "lamin_sa.kept_used"


def _pg_begin(conn: Connection) -> None:
    # The connection an instance's session keeps (open_session) runs the reads
    # of read() in autocommit mode: each statement is its own snapshot, as in a
    # READ COMMITTED transaction, without the BEGIN and COMMIT round trips.
    # Every other transaction on it (writes, and anything not marked a read) is
    # a real transaction. psycopg's autocommit is a client-side switch.
    options = conn.get_execution_options()
    if options.get("lamin_kept"):
        dbapi_connection = conn.connection.dbapi_connection
        # a single statement is atomic on its own: see write_connection
        auto = bool(options.get("lamin_one_statement")) or (
            bool(options.get("lamin_read")) and not options.get("lamin_write")
        )
        if dbapi_connection is not None and dbapi_connection.autocommit != auto:
            dbapi_connection.autocommit = auto


session_factory = sessionmaker(expire_on_commit=False, autoflush=False)


def open_session(engine: Engine) -> Session:
    """A session for an instance's own context (see :func:`close_session`).

    The session keeps one connection for its whole life: checking a pooled
    connection out and in again for every transaction cost more than a link
    insert or a small read itself (about 80 of 220 µs per ``add()`` on SQLite; on
    PostgreSQL the pool's liveness ping is a round trip more). No lock is held
    between transactions (WAL). On PostgreSQL the reads of :func:`read` run in
    autocommit mode (see ``_pg_begin``); a connection the server dropped is
    replaced: a read runs again, a write after a pause pings first.

    Example:
        >>> session = open_session(make_engine("sqlite:///lamin.db"))
    """
    if engine.dialect.name == "sqlite":
        return session_factory(bind=engine.connect())
    if engine.dialect.name == "postgresql":
        kept = engine.connect().execution_options(lamin_kept=True)
        return session_factory(bind=kept)
    return session_factory(bind=engine)


def close_session(session: Session) -> None:
    """Close a session of :func:`open_session` and the connection it kept.

    Example:
        >>> close_session(session)
    """
    bind = session.bind
    session.close()
    if isinstance(bind, Connection):
        bind.close()


def get_session() -> Session:
    """Return the session of the active context."""
    return current().session


def _end_transaction(session: Session) -> None:
    """Commit the open transaction without writing the session's unsaved changes.

    A commit flushes every pending change; a read or the start of a write must
    not store what a user changed on a record without saving it (Django writes
    only in ``save()``). Changed, new and deleted objects are set aside for the
    commit and put back, their changes intact, for the save that comes.
    """
    new, dirty, deleted = list(session.new), list(session.dirty), list(session.deleted)
    if not (new or dirty or deleted):
        session.commit()
        return
    for obj in (*new, *dirty, *deleted):
        if obj in session:
            session.expunge(obj)
    try:
        session.commit()
    finally:
        for obj in (*new, *dirty, *deleted):
            if obj not in session:
                session.add(obj)
        for obj in deleted:
            session.delete(obj)


def end_read(ctx: DBContext) -> None:
    """Close the read transaction of an autocommit context so later reads are fresh.

    Unsaved changes of records stay unsaved (see :func:`_end_transaction`).
    """
    if ctx.autocommit and ctx.session.in_transaction():
        _end_transaction(ctx.session)


def idle_connection(ctx: DBContext) -> Any:
    """The DBAPI connection an instance's SQLite session keeps, while it is idle.

    One statement on it runs as a snapshot of its own (SQLite's autocommit mode),
    without the ``BEGIN`` and ``COMMIT`` of a read transaction: for a hot
    single-statement read whose usual answer is "nothing". None for a host's
    session, PostgreSQL (see :func:`first_row_outside_transaction`) or while a
    transaction is open.

    Example:
        >>> raw = idle_connection(current())
        >>> raw is None or raw.execute("SELECT 1").fetchone() == (1,)
        True
    """
    bind = _idle_kept(ctx)
    if bind is None or bind.dialect.name != "sqlite":
        return None
    return bind.connection.dbapi_connection


def _idle_kept(ctx: DBContext) -> Connection | None:
    """The connection the instance's own session keeps, if no transaction is open."""
    bind = ctx.session.bind
    if (
        not ctx.autocommit
        or not isinstance(bind, Connection)
        or ctx.session.in_transaction()
        or bind.in_transaction()
    ):
        return None
    return bind  # its ``connection`` reconnects one that was invalidated


def first_row_outside_transaction(
    stmt: Any, given: dict[str, Any], ctx: DBContext | None = None
) -> tuple[bool, Any]:
    """Run one SELECT outside any transaction of the instance's own session.

    For a hot read whose usual answer is "nothing" (is this hash stored?): on
    the idle kept SQLite connection (:func:`idle_connection`) or the idle kept
    PostgreSQL connection in autocommit mode, one statement is its own snapshot
    and needs no ``BEGIN`` and ``COMMIT``. A host's session, an open transaction
    or a statement SQLAlchemy must render itself is not served here, nor is a
    PostgreSQL connection that failed (it is invalidated and reconnects).

    Args:
        stmt: A Core SELECT.
        given: Values of its parameters by name.
        ctx: The context (default: the active one).

    Returns:
        ``(True, first row or None)``, or ``(False, None)``: read it in the
        session instead.

    Example:
        >>> done, row = first_row_outside_transaction(stmt, {"hash": h})
    """
    from lamin_sa.db.compiled import driver_statement

    ctx = ctx or current()
    raw = idle_connection(ctx)
    if raw is not None:
        found = driver_statement(stmt, ctx.session.get_bind().dialect, given)
        if found is None:
            return False, None
        return True, raw.execute(*found).fetchone()
    bind = _idle_kept(ctx)
    if bind is None or bind.dialect.name != "postgresql":
        return False, None
    found = driver_statement(stmt, bind.dialect, given)
    dbapi_connection = bind.connection.dbapi_connection
    if found is None or dbapi_connection is None:
        return False, None
    try:
        dbapi_connection.autocommit = True  # see _pg_begin
        return True, dbapi_connection.execute(*found).fetchone()
    except bind.dialect.loaded_dbapi.Error:
        # a lost connection or anything else: the session's read reports it
        # (and reconnects); nothing was written
        bind.invalidate()
        return False, None


def read(fn: Callable[[Session], T], ctx: DBContext | None = None) -> T:
    """Run ``fn(session)`` in the active context and end its read transaction.

    The one helper for reads: a failed read of an autocommit context is rolled
    back, so the session stays usable.

    Example:
        >>> n = read(lambda s: s.scalar(select(func.count(ULabel.id))))
    """
    ctx = ctx or current()
    session = ctx.session
    kept = _kept_postgres(ctx)
    for attempt in (1, 2):
        if kept is not None:
            ctx.extra[_KEPT_USED] = time.monotonic()
            session.connection(execution_options={"lamin_read": True})
        try:
            result = fn(session)
        except DBAPIError as e:
            if ctx.autocommit and session.in_transaction():
                session.rollback()
            if kept is None or not e.connection_invalidated or attempt == 2:
                raise
            # the server dropped the kept connection (a restart, an idle
            # timeout): it reconnects on its next use, and a read can run again
            logger.info("the database connection was lost; reading again")
            continue
        except BaseException:
            if ctx.autocommit and session.in_transaction():
                session.rollback()
            raise
        finally:
            if kept is not None:
                kept.execution_options(lamin_read=False)
        end_read(ctx)
        return result
    raise AssertionError("unreachable")  # the second attempt returns or raises


def _kept_postgres(ctx: DBContext) -> Connection | None:
    """The kept PostgreSQL connection of the own session, if no transaction is open."""
    bind = ctx.session.bind
    if (
        ctx.autocommit
        and isinstance(bind, Connection)
        and bind.dialect.name == "postgresql"
        and not ctx.session.in_transaction()
    ):
        return bind
    return None


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
        try:
            yield session
            session.flush()
        except DBAPIError as e:
            if (err := write_error(e, user=_db_user(session))) is None:
                raise
            raise err from e
        return
    try:
        # a read left open is ended first; if its pending changes fail to flush,
        # the session is rolled back below like any failed write
        if session.in_transaction():
            _end_transaction(session)
        _fresh_for_write(ctx, session.bind)
        session.connection(execution_options={"lamin_write": True})
        yield session
        session.commit()
    except DBAPIError as e:
        session.rollback()
        # a full disk or a read-only file: one clear line instead of a raw error
        if (err := write_error(e, user=_db_user(session))) is None:
            raise
        raise err from e
    except BaseException:
        session.rollback()
        raise
    finally:
        # a kept connection (open_session) keeps its options in place: the reads
        # that follow must BEGIN without the write lock
        if isinstance(session.bind, Connection):
            session.bind.execution_options(lamin_write=False)


@contextlib.contextmanager
def write_connection(
    ctx: DBContext | None = None, *, one_statement: bool = False
) -> Iterator[Connection]:
    """Run Core statements in one write transaction straight on the kept connection.

    For hot single-statement writes (a link ``add()``): the instance's session
    keeps its connection (:func:`open_session`), and a transaction of that
    connection skips the session's own transaction bookkeeping (about a sixth of
    a link insert on SQLite). The block must not use the session. In a host's
    session this is :func:`write_transaction`'s connection.

    Args:
        ctx: The context (default: the active one).
        one_statement: The block runs exactly one statement. On PostgreSQL it
            then runs in autocommit mode: one statement is atomic by itself, and
            its commit waits for the WAL flush as any commit does, without the
            round trips of ``BEGIN`` and ``COMMIT``.

    Example:
        >>> with write_connection() as conn:
        ...     conn.execute(insert(link_table), rows)
    """
    ctx = ctx or current()
    session = ctx.session
    bind = session.bind
    if not ctx.autocommit or not isinstance(bind, Connection):
        with write_transaction(ctx) as session:
            yield session.connection()
        return
    try:
        if session.in_transaction():
            _end_transaction(session)  # a read left open ends first
        _fresh_for_write(ctx, bind)
        if one_statement and bind.dialect.name == "postgresql":
            bind.execution_options(lamin_one_statement=True)
        else:
            bind.execution_options(lamin_write=True)
        with bind.begin():
            yield bind
    except DBAPIError as e:
        if (err := write_error(e, user=_db_user(session))) is None:
            raise
        raise err from e
    finally:
        bind.execution_options(lamin_write=False, lamin_one_statement=False)


__all__ = [
    "DBContext",
    "close_session",
    "current",
    "current_or_none",
    "end_read",
    "first_row_outside_transaction",
    "get_session",
    "idle_connection",
    "make_engine",
    "normalize_url",
    "open_session",
    "session_factory",
    "set_autoconnect",
    "set_global",
    "use_session",
    "write_connection",
    "write_transaction",
]


def _db_user(session: Session) -> str | None:
    bind = session.get_bind()
    if isinstance(bind, Connection):
        bind = bind.engine
    return bind.url.username if isinstance(bind, Engine) else None
