"""Whole-column reads kept between calls: served again only while the database is
unchanged, whoever changed it (this session, another process, a host's session)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from sqlalchemy.orm import Session

import lamin_sa as ln
import lamin_sa.models as m
from lamin_sa.api import save
from lamin_sa.curate.values import as_queryset, column_set, column_values, row_count
from tests.test_validate import QueryCounter

N = 1_500  # more than FEW_VALUES: validation reads the whole column


def _labels(n: int = N) -> list[str]:
    names = [f"label {i}" for i in range(n)]
    save([m.ULabel(name=name) for name in names])
    return names


def _values(names: list[str]) -> list[str]:
    return [*names, "late", "renamed"] * 2


def _validated(values: list[str]) -> set[str]:
    flags = m.ULabel.validate(values, mute=True)
    return {v for v, ok in zip(values, flags.tolist(), strict=True) if ok}


def _cluster_snapshot(engine) -> str | None:
    """PostgreSQL's snapshot, read apart; None on SQLite."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT txid_current_snapshot()::text").scalar()


@pytest.mark.serial  # alone: other workers' commits move PostgreSQL's snapshot
def test_a_repeated_validation_reads_nothing_but_the_check(ctx):
    names = _labels()
    values = _values(names)
    # PostgreSQL's snapshot moves with a commit anywhere on the server (in other
    # databases too), and then the column is rightly read again: the check
    # counts a round in which no transaction committed anywhere
    for _ in range(50):
        before = _cluster_snapshot(ctx.engine)
        assert _validated(values) == set(names)
        with QueryCounter(ctx.engine) as counter:
            assert _validated(values) == set(names)
            assert m.ULabel.inspect(values, mute=True).non_validated == [
                "late",
                "renamed",
            ]
        if _cluster_snapshot(ctx.engine) == before:
            break
    else:
        raise AssertionError("no quiet moment on the PostgreSQL server in 50 tries")
    # the second validation and the inspection reused the count and the column
    assert counter.n == 0, [s for s in counter.statements if "total_changes" not in s]
    if ctx.engine.dialect.name == "sqlite":
        # the idle kept connection's counters are read outside any transaction,
        # straight from the driver: not even a BEGIN
        assert counter.statements == []
    else:
        assert any("snapshot" in s for s in counter.statements)


def test_own_writes_are_seen_at_once(ctx):
    names = _labels()
    values = _values(names)
    assert _validated(values) == set(names)
    m.ULabel(name="late").save()
    assert _validated(values) == {*names, "late"}
    label = m.ULabel.filter(name="label 0").one()
    label.name = "renamed"
    label.save()
    assert _validated(values) == {*names[1:], "late", "renamed"}
    m.ULabel.filter(name="late").one().delete()
    assert _validated(values) == {*names[1:], "renamed"}
    result = m.ULabel.inspect(values, mute=True)
    assert result.non_validated == ["label 0", "late"]
    assert [r.name for r in m.ULabel.search("renamed")][0] == "renamed"


def test_another_process_commit_is_seen(ctx):
    names = _labels()
    values = _values(names)
    assert _validated(values) == set(names)
    url = ctx.engine.url
    sql = "UPDATE core_ulabel SET name = 'renamed' WHERE name = 'label 7'"
    if url.get_backend_name() == "sqlite":
        code = f"""
            import sqlite3
            con = sqlite3.connect({url.database!r}, isolation_level=None)
            con.execute({sql!r})
        """
    else:
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        code = f"""
            import psycopg
            with psycopg.connect({dsn!r}) as con:
                con.execute({sql!r})
        """
    subprocess.run([sys.executable, "-c", textwrap.dedent(code)], check=True)
    assert _validated(values) == {*(n for n in names if n != "label 7"), "renamed"}
    assert "label 7" not in column_values(as_queryset(m.ULabel), m.ULabel.name)


def test_a_host_session_sees_its_uncommitted_and_rolled_back_writes(ctx, tmp_path):
    names = _labels()
    values = _values(names)
    assert _validated(values) == set(names)
    with Session(ctx.engine) as session:
        with ln.use_session(session, storage=tmp_path / "host-store"):
            user = session.get(m.User, ctx.user_id)
            session.add(m.ULabel(name="late", created_by=user))
            session.flush()
            assert _validated(values) == {*names, "late"}
            session.rollback()
            assert _validated(values) == set(names)
    assert _validated(values) == set(names)


def test_results_are_fresh_lists_and_frozen_sets(ctx):
    names = _labels(20)
    qs = as_queryset(m.ULabel)
    col = m.ULabel.__table__.c.name
    first = column_values(qs, col)
    first.clear()
    assert sorted(column_values(qs, col)) == sorted(names)
    assert column_set(qs, col) == frozenset(names)
    assert isinstance(column_set(qs, col), frozenset)
    assert row_count(qs) == 20
    assert row_count(m.ULabel.filter(name__startswith="label 1")) == 11
    # scopes are keyed apart
    scoped = column_set(m.ULabel.filter(name__startswith="label 1"), col)
    assert scoped == frozenset(n for n in names if n.startswith("label 1"))
