"""Reads kept between calls for as long as the database says nothing changed.

Validation, inspection and search read a registry's whole name column on every
call; reading and hashing 10,000 values costs more than testing 100,000 values
against them. A :class:`ReadCache` keeps such results next to a *stamp* read in
the same transaction, and serves them again only while the stamp is unchanged:

- SQLite: ``total_changes()`` (rows this connection changed, rolled back or not),
  ``PRAGMA data_version`` (changes committed by any other connection, in this
  process or another) and ``PRAGMA schema_version``, on the session's kept
  connection (the counters are per connection). The stamp query is the
  transaction's first statement, so it fixes the snapshot the read sees.
- PostgreSQL: ``txid_current_snapshot()``. A snapshot equal to the stored one
  means no transaction has committed (or taken an id) anywhere since; any write
  changes it, so a stale result is never served, only sometimes recomputed.

Results are stored only in the instance's own reads, never inside a write
transaction (it could still roll back) or a host application's session (whose
transactions lamin-sa does not see). Every change clears the whole cache.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

    from lamin_sa.db.context import DBContext

T = TypeVar("T")

#: ``DBContext.extra`` key of the context's cache
EXTRA_KEY = "read_cache"

#: the statement that reads the stamp, per dialect
STAMP_SQL = {
    "sqlite": (
        "SELECT total_changes(), "
        "(SELECT data_version FROM pragma_data_version()), "
        "(SELECT schema_version FROM pragma_schema_version())"
    ),
    "postgresql": "SELECT txid_current_snapshot()::text",
}


#: what :meth:`ReadCache.get` returns for a result it does not hold
_MISSING = object()


class ReadCache:
    """Results of reads under one stamp; at most :attr:`max_entries` of them.

    Example:
        >>> cache = ReadCache()
        >>> cache.put(("a",), (1, 2), ["x"])
        >>> cache.get(("a",), (1, 2))
        ['x']
    """

    max_entries = 16

    def __init__(self) -> None:
        self.stamp: tuple[Any, ...] | None = None
        self.entries: dict[Hashable, Any] = {}

    def get(self, key: Hashable, stamp: tuple[Any, ...]) -> Any:
        """The result stored under ``key`` if ``stamp`` is still the stored one.

        Returns:
            The result, or the module's ``_MISSING`` marker.
        """
        if stamp != self.stamp:
            self.stamp = stamp
            self.entries.clear()
            return _MISSING
        return self.entries.get(key, _MISSING)

    def put(self, key: Hashable, stamp: tuple[Any, ...], value: Any) -> None:
        """Store ``value`` under ``key`` for ``stamp`` (dropping the oldest entry)."""
        if stamp != self.stamp:
            self.stamp = stamp
            self.entries.clear()
        elif len(self.entries) >= self.max_entries:
            del self.entries[next(iter(self.entries))]
        self.entries[key] = value


def _stamp(conn: Connection) -> tuple[Any, ...] | None:
    dialect = conn.dialect.name
    sql = STAMP_SQL.get(dialect)
    if sql is None:
        return None
    stamp = tuple(conn.exec_driver_sql(sql).one())
    if dialect == "sqlite":
        # SQLite's counters are the connection's own
        return (id(conn.connection.dbapi_connection), *stamp)
    return stamp


def _outside_stamp(raw: Any) -> tuple[Any, ...]:
    """:func:`_stamp` of an idle kept SQLite connection, outside any transaction."""
    return (id(raw), *raw.execute(STAMP_SQL["sqlite"]).fetchone())


def cached_read(
    key: Hashable, fn: Callable[[Session], T], ctx: DBContext | None = None
) -> T:
    """``read(fn)``, or its stored result while the database is unchanged.

    ``fn`` must be a pure read whose result depends only on ``key`` and the
    database; callers must not modify the result (it may be served again).

    Args:
        key: What ``fn`` reads, e.g. ``("column", statement cache key)``.
        fn: The read, given the session (as for :func:`~lamin_sa.db.session.read`).
        ctx: The context (default: the active one).

    Example:
        >>> names = cached_read(("names",), lambda s: s.scalars(stmt).all())
    """
    from sqlalchemy import Connection

    from lamin_sa.db.session import current, idle_connection, read

    ctx = ctx or current()
    bind = ctx.session.bind
    if not ctx.autocommit or (
        # SQLite's counters are per connection: only a kept connection has them
        bind is not None
        and bind.dialect.name == "sqlite"
        and not isinstance(bind, Connection)
    ):
        return read(fn, ctx)
    cache: ReadCache = ctx.extra.setdefault(EXTRA_KEY, ReadCache())
    raw = idle_connection(ctx)
    if raw is not None:
        # no transaction open on the kept SQLite connection: the stamp read on
        # its own is the state of now, and a stored result is served without
        # beginning one (a tenth of the cost)
        found = cache.get(key, _outside_stamp(raw))
        if found is not _MISSING:
            return found  # type: ignore[no-any-return]

    def run(session: Session) -> T:
        conn = session.connection()
        if conn.get_execution_options().get("lamin_write"):
            return fn(session)  # inside a write: it could still roll back
        stamp = _stamp(conn)
        if stamp is None:
            return fn(session)
        found = cache.get(key, stamp)
        if found is not _MISSING:
            return found  # type: ignore[no-any-return]
        value = fn(session)
        cache.put(key, stamp, value)
        return value

    return read(run, ctx)


def statement_key(stmt: Any) -> Hashable | None:
    """A hashable key of a Core statement and its bound values, or None.

    Example:
        >>> statement_key(select(ULabel.name)) == statement_key(select(ULabel.name))
        True
    """
    cache_key = stmt._generate_cache_key()
    if cache_key is None:
        return None
    values = tuple(b.effective_value for b in cache_key.bindparams)
    key = (cache_key.key, values)
    try:
        hash(key)
    except TypeError:  # a list or another unhashable bound value
        return None
    return key
