"""The instance's own session: one kept connection on SQLite, reads that never hold
the write lock after a write, and a close that gives the connection back."""

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


def test_sqlite_transactions_reuse_one_connection(ctx):
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
    if ctx.engine.dialect.name == "sqlite":
        assert checkouts == []  # the session's connection was kept throughout
    else:
        assert len(checkouts) >= 10  # PostgreSQL checks one out per transaction


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
