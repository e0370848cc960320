"""A host SQLAlchemy app with its own models and Alembic table uses lamin-sa."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import ForeignKey, String, create_engine, func, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

import lamin_sa as ln
from lamin_sa import migrate
from lamin_sa.db import session as dbs
from lamin_sa.models.core import ULabel, User

ROOT = Path(__file__).resolve().parents[1]


class HostBase(DeclarativeBase):
    pass


class Sample(HostBase):
    __tablename__ = "host_sample"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    label_id: Mapped[int | None] = mapped_column(ForeignKey(ULabel.__table__.c.id))


@pytest.fixture
def host_engine(db_url):
    url = dbs.normalize_url(db_url)
    engine = create_engine(url)  # the host's own engine, no lamin-sa settings
    with engine.begin() as conn:
        conn.execute(
            text("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        )
        conn.execute(text("INSERT INTO alembic_version VALUES ('host0001')"))
    with engine.connect() as conn:
        migrate.upgrade(conn, modules=["core"])
    HostBase.metadata.create_all(engine)
    yield engine
    engine.dispose()


def test_host_session_uses_lamin_models(host_engine):
    assert dbs.current_or_none() is None
    with Session(host_engine) as session:
        with ln.use_session(session, user="host-app") as ctx:
            treated = ULabel(name="treated").save()
            ln.save([ULabel(name="control"), ULabel(name="other")])
            session.add_all([Sample(name="s1", label_id=treated.id), Sample(name="s2")])
            session.commit()  # the host commits
            assert ctx.user_id == session.scalar(
                select(User.id).where(User.handle == "host-app")
            )
            labels = ULabel.filter(name__in=["treated", "control"])
            assert sorted(labels.list("name")) == ["control", "treated"]
            # the Select composes with the host's own queries
            stmt = (
                select(Sample.name, func.count())
                .where(Sample.label_id.in_(select(labels.statement.subquery().c.id)))
                .group_by(Sample.name)
            )
            assert session.execute(stmt).all() == [("s1", 1)]
            assert treated.created_by.handle == "host-app"
    # outside the block there is no lamin-sa context
    assert dbs.current_or_none() is None
    with host_engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).all() == [
            ("host0001",)
        ]
        assert conn.execute(select(func.count()).select_from(ULabel)).scalar() == 3
        assert migrate.status(conn)["core"].state == "up to date"


def test_host_rollback_discards_lamin_writes(host_engine):
    with Session(host_engine) as session, ln.use_session(session):
        ULabel(name="temporary").save()
        assert ULabel.filter(name="temporary").count() == 1
        session.rollback()  # the host decides: nothing is kept
    with Session(host_engine) as session, ln.use_session(session):
        assert ULabel.filter(name="temporary").count() == 0


def test_host_downgrade_leaves_host_tables(host_engine):
    with host_engine.begin() as conn:
        conn.execute(text("CREATE TABLE host_note (id INTEGER PRIMARY KEY)"))
        # the host removes its own references into lamin-sa's tables first
        conn.execute(text("DROP TABLE host_sample"))
    with host_engine.connect() as conn:
        migrate.downgrade(conn, "core")
    with host_engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).all() == [
            ("host0001",)
        ]
        names = set(host_engine.dialect.get_table_names(conn))
    assert "host_note" in names and "core_ulabel" not in names


def test_embed_example_runs(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "examples" / "embed_in_app.py"),
            f"sqlite:///{tmp_path / 'host.db'}",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert "samples with a 'treat*' label: [('s1', 1)]" in result.stdout
    assert "host alembic_version: ['host0001']" in result.stdout
    assert "samples of 22LvKd01 (T cell): ['s1']" in result.stdout
    assert "'bionty'" in result.stdout
