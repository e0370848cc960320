"""Journal of artifact saves whose objects are not yet in place (crash recovery).

Revision ID: b7d2e4f6a8c1
Revises: abc0c1c2d1f2
Create Date: 2026-12-01 18:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7d2e4f6a8c1"
down_revision: str | Sequence[str] | None = "abc0c1c2d1f2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "core_pendingsave",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("artifact_uid", sa.String(length=20), nullable=False),
        sa.Column("storage_root", sa.String(length=255), nullable=False),
        sa.Column("tmp_key", sa.String(length=300), nullable=False),
        sa.Column("final_key", sa.String(length=300), nullable=False),
        sa.Column("clear_key", sa.String(length=300), nullable=True),
        sa.Column("is_dir", sa.Boolean(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("is_new", sa.Boolean(), nullable=False),
        sa.Column("undo", sa.JSON(), nullable=True),
        sa.Column("owner", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_pendingsave")),
    )
    op.create_index(
        op.f("ix_core_pendingsave_artifact_uid"),
        "core_pendingsave",
        ["artifact_uid"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_core_pendingsave_artifact_uid"), table_name="core_pendingsave"
    )
    op.drop_table("core_pendingsave")
