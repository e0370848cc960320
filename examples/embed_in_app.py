"""A host SQLAlchemy application that uses lamin-sa's models inside its own session.

The host keeps its own models, its own MetaData and its own Alembic version table;
lamin-sa's migrations use the private table `lamin_sa_alembic_version`. The host
mounts the bionty module into its own database and points its rows at cell types.
Run: `.venv/bin/python examples/embed_in_app.py [DATABASE_URL]`.
"""

from __future__ import annotations

import sys
import tempfile

from sqlalchemy import ForeignKey, String, create_engine, func, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

import lamin_sa as ln
from lamin_sa import bionty as bt
from lamin_sa import migrate
from lamin_sa.models.core import ULabel


class HostBase(DeclarativeBase):
    """The host app's own declarative base (its own MetaData)."""


class Sample(HostBase):
    __tablename__ = "host_sample"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # A host FK into a lamin-sa table: use the column object, not a string.
    label_id: Mapped[int | None] = mapped_column(ForeignKey(ULabel.__table__.c.id))
    # ... and into a bionty table mounted in the same database.
    cell_type_id: Mapped[int | None] = mapped_column(
        ForeignKey(bt.CellType.__table__.c.id)
    )


def main(url: str) -> None:
    engine = create_engine(url)
    with engine.connect() as conn:
        # lamin-sa's tables (core and the bionty branch), with their own commits
        migrate.upgrade(conn, modules=["core", "bionty"])
    with engine.begin() as conn:
        # the host's own schema and its own Alembic bookkeeping
        conn.execute(
            text(
                "CREATE TABLE IF NOT EXISTS alembic_version "
                "(version_num VARCHAR(32) PRIMARY KEY)"
            )
        )
        conn.execute(text("DELETE FROM alembic_version"))
        conn.execute(text("INSERT INTO alembic_version VALUES ('host0001')"))
        HostBase.metadata.create_all(conn)

    with Session(engine) as session, ln.use_session(session, user="host-app"):
        treated = ULabel(name="treated").save()  # in a SAVEPOINT of the host's tx
        t_cell = bt.CellType(name="T cell", ontology_id="CL:0000084").save()
        session.add_all(
            [
                Sample(name="s1", label_id=treated.id, cell_type_id=t_cell.id),
                Sample(name="s2"),
            ]
        )
        session.commit()  # the host decides when to commit

        # lamin-sa queries run in the host's session ...
        labels = ULabel.filter(name__startswith="treat")
        # ... and their Select composes with the host's own queries.
        stmt = (
            select(Sample.name, func.count())
            .where(Sample.label_id.in_(select(labels.statement.subquery().c.id)))
            .group_by(Sample.name)
        )
        print("samples with a 'treat*' label:", session.execute(stmt).all())
        cells = bt.CellType.filter(ontology_id__startswith="CL:")
        stmt = select(Sample.name).where(
            Sample.cell_type_id.in_(select(cells.statement.subquery().c.id))
        )
        print(f"samples of {t_cell.uid} ({t_cell.name}):", session.scalars(stmt).all())

    with engine.connect() as conn:
        print(
            "host alembic_version:",
            conn.execute(text("SELECT version_num FROM alembic_version"))
            .scalars()
            .all(),
        )
        print("lamin-sa schema:", migrate.status(conn))


if __name__ == "__main__":
    main(
        sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{tempfile.mkdtemp()}/host.db"
    )
