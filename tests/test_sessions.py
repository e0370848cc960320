"""The instance's own session: one kept connection, reads that never hold the write
lock after a write, PostgreSQL reads in autocommit mode and writes in transactions,
a connection the server dropped replaced, and a close that gives it back."""

from __future__ import annotations

import sqlite3

from sqlalchemy import event, select, text

import lamin_sa as ln
from lamin_sa import instance as inst
from lamin_sa.models.core import ULabel


def _other_writer_updates(ctx, name: str, description: str) -> None:
    """Write from a second connection that gives up at once if it must wait."""
    url = ctx.engine.url
    if url.get_backend_name() == "sqlite":
        con = sqlite3.connect(url.database, timeout=0.2, isolation_level=None)
        try:
            con.execute("BEGIN IMMEDIATE")  # "database is locked" if we hold it
            con.execute(
                "UPDATE core_ulabel SET description = ? WHERE name = ?",
                (description, name),
            )
            con.execute("COMMIT")
        finally:
            con.close()
        return
    with ctx.engine.connect() as conn:
        conn.execute(text("SET lock_timeout = '200ms'"))
        conn.execute(
            text("UPDATE core_ulabel SET description = :d WHERE name = :n"),
            {"d": description, "n": name},
        )
        conn.commit()


def test_a_read_after_a_write_leaves_other_writers_free(ctx):
    ULabel(name="a").save()
    ULabel(name="b").save()
    # a read whose transaction stays open, right after the writes
    ctx.session.execute(select(ULabel.id)).all()
    assert ctx.session.in_transaction()
    _other_writer_updates(ctx, "a", "from elsewhere")
    ctx.session.rollback()
    stored = ctx.session.execute(
        select(ULabel.description).where(ULabel.name == "a")
    ).scalar_one()
    assert stored == "from elsewhere"
    # and our next write still takes the lock and goes in
    ULabel(name="c").save()
    assert ln.ULabel.filter(name__in=["a", "b", "c"]).count() == 3


def test_transactions_reuse_one_connection(ctx):
    checkouts: list[object] = []

    def count(dbapi_connection: object, *_: object) -> None:
        checkouts.append(dbapi_connection)

    event.listen(ctx.engine, "checkout", count)
    try:
        for i in range(5):
            ULabel(name=f"l{i}").save()
            assert ln.ULabel.filter(name=f"l{i}").count() == 1
        label = ln.ULabel.get(name="l0")
        label.description = "changed"
        label.save()
    finally:
        event.remove(ctx.engine, "checkout", count)
    assert checkouts == []  # the session's connection was kept throughout


def test_close_gives_the_kept_connection_back(tmp_path):
    # a local instance: SQLite, whose session keeps its connection until close
    ln.init(storage=tmp_path / "data", name="kept")
    try:
        ULabel(name="x").save()
        assert ln.ULabel.filter(name="x").count() == 1
        pool = inst.engine().pool  # close() disposes the engine: keep this pool
        assert pool.checkedout() == 1  # the session's own connection
    finally:
        inst.close()
    assert pool.checkedout() == 0


def test_one_statement_outside_a_transaction(ctx, tmp_path):
    from sqlalchemy import bindparam
    from sqlalchemy.orm import Session

    from lamin_sa.db import session as dbs

    ULabel(name="stored").save()
    table = ULabel.__table__
    stmt = select(table.c.id, table.c.name).where(table.c.name == bindparam("n"))
    done, row = dbs.first_row_outside_transaction(stmt, {"n": "stored"})
    assert done and row[1] == "stored"
    assert dbs.first_row_outside_transaction(stmt, {"n": "absent"}) == (True, None)
    assert not ctx.session.in_transaction()  # nothing was begun in the session
    with dbs.write_transaction():  # an open transaction reads in the session
        assert dbs.first_row_outside_transaction(stmt, {"n": "stored"}) == (
            False,
            None,
        )
    with Session(ctx.engine) as host:
        with ln.use_session(host, storage=tmp_path / "host-store"):
            assert dbs.first_row_outside_transaction(stmt, {"n": "stored"}) == (
                False,
                None,
            )


def _kept_pid(ctx) -> int:
    return ctx.session.bind.connection.dbapi_connection.info.backend_pid


def _terminate(ctx, pid: int) -> None:
    """Drop a backend from the server's side, as a restart or idle timeout does."""
    with ctx.engine.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        conn.commit()


def test_reads_run_in_autocommit_and_writes_in_one_transaction(ctx):
    from lamin_sa.db import session as dbs

    modes: list[bool] = []

    def during(session) -> int:
        dbapi_connection = session.connection().connection.dbapi_connection
        modes.append(getattr(dbapi_connection, "autocommit", None))
        return session.scalar(select(ULabel.id).limit(1))

    dbs.read(during)
    with dbs.write_transaction() as session:
        modes.append(
            getattr(session.connection().connection.dbapi_connection, "autocommit", 0)
        )
        session.add(ULabel(name="in the transaction"))
        session.flush()
        # another connection sees nothing before the commit
        with ctx.engine.connect() as other:
            n = other.scalar(
                text("SELECT count(*) FROM core_ulabel WHERE name = :n"),
                {"n": "in the transaction"},
            )
        assert n == 0
    # a failed block keeps nothing of what it wrote before failing
    try:
        with dbs.write_transaction() as session:
            session.add(ULabel(name="first of two"))
            session.flush()
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert ln.ULabel.filter(name="first of two").count() == 0
    assert ln.ULabel.filter(name="in the transaction").count() == 1
    # a transaction begun on the session outside read() is a real one too
    ctx.session.execute(text("UPDATE core_ulabel SET description = 'x'"))
    ctx.session.rollback()
    assert ln.ULabel.filter(description="x").count() == 0
    if ctx.engine.dialect.name == "postgresql":
        assert modes == [True, False]
    else:  # pysqlite's attribute does not exist: SQLAlchemy issues BEGIN
        assert modes == [None, 0]


def test_a_connection_the_server_dropped_is_replaced(ctx, monkeypatch):
    import pytest

    from lamin_sa.db import session as dbs
    from lamin_sa.errors import DatabaseWriteError

    if ctx.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server that drops connections")
    ULabel(name="before").save()
    # a read finds the connection gone, reconnects and reads again
    first = _kept_pid(ctx)
    _terminate(ctx, first)
    assert ln.ULabel.filter(name="before").count() == 1
    assert _kept_pid(ctx) != first
    # after a pause a write pings first: the dropped connection is replaced
    monkeypatch.setattr(dbs, "KEPT_PING_AFTER_S", 0.0)
    _terminate(ctx, _kept_pid(ctx))
    ULabel(name="after a pause").save()
    assert ln.ULabel.filter(name="after a pause").count() == 1
    # right after other work a write does not ping: it fails with a clear
    # error, stores nothing, and the next call reconnects
    monkeypatch.setattr(dbs, "KEPT_PING_AFTER_S", 3600.0)
    assert ln.ULabel.filter(name="before").count() == 1
    _terminate(ctx, _kept_pid(ctx))
    try:
        ULabel(name="lost").save()
    except DatabaseWriteError as e:
        assert "connection to the database was lost" in str(e)
    else:
        raise AssertionError("the write on a dropped connection went through")
    ULabel(name="again").save()
    assert ln.ULabel.filter(name__in=["lost", "again"]).count() == 1
    # the hash probe outside a transaction also survives a dropped connection
    table = ULabel.__table__
    stmt = select(table.c.id).where(table.c.name == "again")
    _terminate(ctx, _kept_pid(ctx))
    assert dbs.first_row_outside_transaction(stmt, {}) == (False, None)
    assert dbs.first_row_outside_transaction(stmt, {})[0] is True


def test_a_single_link_add_is_one_statement_in_autocommit(ctx):
    from sqlalchemy.exc import IntegrityError as SAIntegrityError

    from lamin_sa.errors import LaminSAError

    child, a, b, gone = (ULabel(name=n) for n in ("child", "a", "b", "gone"))
    for label in (child, a, b, gone):
        label.save()
    modes: list[tuple[str, object]] = []

    def on(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        mode = getattr(conn.connection.dbapi_connection, "autocommit", None)
        if "core_ulabel_parent" in statement:  # not the records' own loads
            modes.append((statement.split()[0], mode))

    event.listen(ctx.engine, "before_cursor_execute", on)
    try:
        child.parents.add(a)  # one statement
        child.parents.add(a)  # stored already: nothing new, no error
        child.parents.add(b, gone)  # a read and an insert: one transaction
    finally:
        event.remove(ctx.engine, "before_cursor_execute", on)
    if ctx.engine.dialect.name == "postgresql":
        # the collection's first load, two single adds in autocommit, then the
        # two-label add: its read and insert in one transaction
        assert modes == [
            ("SELECT", False),
            ("INSERT", True),
            ("INSERT", True),
            ("SELECT", False),
            ("INSERT", False),
        ]
    with ctx.engine.connect() as other:  # committed: another connection sees them
        n = other.scalar(text("SELECT count(*) FROM core_ulabel_parent"))
        assert n == 3
        other.execute(text("DELETE FROM core_ulabel_parent"))
        other.execute(text("DELETE FROM core_ulabel WHERE name = 'gone'"))
        other.commit()
    # a link to a label deleted elsewhere fails and stores nothing
    try:
        child.parents.add(gone)
    except (LaminSAError, SAIntegrityError):
        pass
    else:
        raise AssertionError("a link to a deleted label went in")
    child.parents.add(b)
    with ctx.engine.connect() as other:
        pairs = other.execute(text("SELECT count(*) FROM core_ulabel_parent"))
        assert pairs.scalar() == 1
