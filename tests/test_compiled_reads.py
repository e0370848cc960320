"""Reads run as driver SQL compiled once per statement shape: each call gets its
own bound values, processed for the driver, and engine events still see them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import event

import lamin_sa.models as m
from lamin_sa.api import save
from lamin_sa.db import compiled


def test_same_shape_new_values(ctx):
    save([m.ULabel(name=f"label {i}", description=f"d{i % 3}") for i in range(12)])
    seen = set()
    for d in ("d0", "d1", "d2"):
        df = m.ULabel.filter(description=d).df()
        assert set(df["description"]) == {d} and len(df) == 4
        seen |= set(df["name"])
    assert len(seen) == 12
    # one compiled entry served the three calls
    shapes = [k for k, v in compiled._COMPILED.items() if v is not None]
    assert shapes


def test_processed_values_and_expanding_lists(ctx):
    save([m.ULabel(name=f"label {i}") for i in range(5)])
    stamp = m.ULabel.filter(name="label 2").one().created_at
    assert stamp.tzinfo is not None
    later = stamp + dt.timedelta(days=1)
    # timestamps go through the type's bind processing on every backend
    assert len(m.ULabel.filter(created_at__lte=later).df()) == 5
    assert len(m.ULabel.filter(created_at__gt=later).df()) == 0
    # IN lists are expanded at execution: they keep SQLAlchemy's path
    assert sorted(m.ULabel.filter(name__in=["label 1", "label 3"]).df()["name"]) == [
        "label 1",
        "label 3",
    ]
    assert list(m.ULabel.filter(name__in=["label 4"]).df()["name"]) == ["label 4"]


def test_engine_events_see_the_reads(ctx):
    save([m.ULabel(name="a"), m.ULabel(name="b")])
    statements: list[str] = []

    def on(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(ctx.engine, "before_cursor_execute", on)
    try:
        m.ULabel.filter(name="a").df()
        m.ULabel.filter(name="b").df(include=["parents__name"])
    finally:
        event.remove(ctx.engine, "before_cursor_execute", on)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 3, statements


def test_named_parameters_are_given_per_call(ctx):
    import pytest
    from sqlalchemy import bindparam, select

    save([m.ULabel(name="a"), m.ULabel(name="b")])
    table = m.ULabel.__table__
    stmt = select(table.c.name).where(table.c.name == bindparam("n"))
    conn = ctx.session.connection()
    for name in ("a", "b"):
        sql, params = compiled.driver_statement(stmt, conn.dialect, {"n": name})
        assert conn.exec_driver_sql(sql, params).scalar() == name
    with pytest.raises(ValueError, match="'n'"):
        compiled.driver_statement(stmt, conn.dialect)
