"""Core schema: every core table as of lamin-sa 0.1.

Revision ID: abc0c1c2d1f2
Revises:
Create Date: 2026-11-28 08:53:21.459263
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Migrations never import lamin_sa models: use op and sa.table()/sa.column().
revision: str = "abc0c1c2d1f2"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("core",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "core_instance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=150), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_instance")),
    )
    op.create_index(
        op.f("ix_core_instance_created_at"),
        "core_instance",
        ["created_at"],
        unique=False,
    )
    op.create_index(op.f("ix_core_instance_uid"), "core_instance", ["uid"], unique=True)

    op.create_table(
        "core_module",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("mounted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_module")),
        sa.UniqueConstraint("name", name=op.f("uq_core_module_name")),
    )
    op.create_table(
        "core_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=8), nullable=False),
        sa.Column("handle", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=150), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_user")),
    )
    op.create_index(
        op.f("ix_core_user_created_at"), "core_user", ["created_at"], unique=False
    )
    op.create_index(op.f("ix_core_user_handle"), "core_user", ["handle"], unique=True)
    op.create_index(op.f("ix_core_user_name"), "core_user", ["name"], unique=False)
    op.create_index(op.f("ix_core_user_uid"), "core_user", ["uid"], unique=True)
    op.create_index(
        op.f("ix_core_user_updated_at"), "core_user", ["updated_at"], unique=False
    )

    op.create_table(
        "core_transform",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=150), nullable=True),
        sa.Column("key", sa.String(length=120), nullable=True),
        sa.Column("description", sa.String(length=255), nullable=True),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("reference", sa.String(length=255), nullable=True),
        sa.Column("reference_type", sa.String(length=25), nullable=True),
        sa.Column("source_code_id", sa.Integer(), nullable=True),
        sa.Column("latest_report_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.String(length=10), nullable=True),
        sa.Column("is_latest", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["core_user.id"],
            name=op.f("fk_core_transform_created_by_id_core_user"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_transform")),
    )
    op.create_index(
        op.f("ix_core_transform_created_at"),
        "core_transform",
        ["created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_transform_created_by_id"),
        "core_transform",
        ["created_by_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_transform_description"),
        "core_transform",
        ["description"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_transform_is_latest"),
        "core_transform",
        ["is_latest"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_transform_key"), "core_transform", ["key"], unique=False
    )
    op.create_index(
        op.f("ix_core_transform_latest_report_id"),
        "core_transform",
        ["latest_report_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_transform_name"), "core_transform", ["name"], unique=False
    )
    op.create_index(
        op.f("ix_core_transform_reference"),
        "core_transform",
        ["reference"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_transform_reference_type"),
        "core_transform",
        ["reference_type"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_transform_source_code_id"),
        "core_transform",
        ["source_code_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_transform_type"), "core_transform", ["type"], unique=False
    )
    op.create_index(
        op.f("ix_core_transform_uid"), "core_transform", ["uid"], unique=True
    )
    op.create_index(
        op.f("ix_core_transform_updated_at"),
        "core_transform",
        ["updated_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_transform_version"), "core_transform", ["version"], unique=False
    )

    op.create_table(
        "core_run",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("uid", sa.String(length=20), nullable=False),
        sa.Column("transform_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("is_consecutive", sa.Boolean(), nullable=True),
        sa.Column("reference", sa.String(length=255), nullable=True),
        sa.Column("reference_type", sa.String(length=25), nullable=True),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("environment_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["core_user.id"],
            name=op.f("fk_core_run_created_by_id_core_user"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["transform_id"],
            ["core_transform.id"],
            name=op.f("fk_core_run_transform_id_core_transform"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_run")),
    )
    op.create_index(
        op.f("ix_core_run_created_at"), "core_run", ["created_at"], unique=False
    )
    op.create_index(
        op.f("ix_core_run_created_by_id"), "core_run", ["created_by_id"], unique=False
    )
    op.create_index(
        op.f("ix_core_run_environment_id"), "core_run", ["environment_id"], unique=False
    )
    op.create_index(
        op.f("ix_core_run_finished_at"), "core_run", ["finished_at"], unique=False
    )
    op.create_index(
        op.f("ix_core_run_reference"), "core_run", ["reference"], unique=False
    )
    op.create_index(
        op.f("ix_core_run_reference_type"), "core_run", ["reference_type"], unique=False
    )
    op.create_index(
        op.f("ix_core_run_report_id"), "core_run", ["report_id"], unique=False
    )
    op.create_index(
        op.f("ix_core_run_started_at"), "core_run", ["started_at"], unique=False
    )
    op.create_index(
        op.f("ix_core_run_transform_id"), "core_run", ["transform_id"], unique=False
    )
    op.create_index(op.f("ix_core_run_uid"), "core_run", ["uid"], unique=True)

    op.create_table(
        "core_transform_parent",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("from_transform_id", sa.Integer(), nullable=False),
        sa.Column("to_transform_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["from_transform_id"],
            ["core_transform.id"],
            name=op.f("fk_core_transform_parent_from_transform_id_core_transform"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["to_transform_id"],
            ["core_transform.id"],
            name=op.f("fk_core_transform_parent_to_transform_id_core_transform"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_transform_parent")),
        sa.UniqueConstraint(
            "from_transform_id",
            "to_transform_id",
            name=op.f("uq_core_transform_parent_from_transform_id_to_transform_id"),
        ),
    )
    op.create_index(
        op.f("ix_core_transform_parent_from_transform_id"),
        "core_transform_parent",
        ["from_transform_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_transform_parent_to_transform_id"),
        "core_transform_parent",
        ["to_transform_id"],
        unique=False,
    )

    op.create_table(
        "core_feature",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=150), nullable=False),
        sa.Column("dtype", sa.String(length=64), nullable=False),
        sa.Column("unit", sa.String(length=30), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("synonyms", sa.Text(), nullable=True),
        sa.Column(
            "run_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["core_user.id"],
            name=op.f("fk_core_feature_created_by_id_core_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["core_run.id"],
            name=op.f("fk_core_feature_run_id_core_run"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_feature")),
    )
    op.create_index(
        op.f("ix_core_feature_created_at"), "core_feature", ["created_at"], unique=False
    )
    op.create_index(
        op.f("ix_core_feature_created_by_id"),
        "core_feature",
        ["created_by_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_feature_dtype"), "core_feature", ["dtype"], unique=False
    )
    op.create_index(
        op.f("ix_core_feature_name"), "core_feature", ["name"], unique=False
    )
    op.create_index(
        op.f("ix_core_feature_run_id"), "core_feature", ["run_id"], unique=False
    )
    op.create_index(op.f("ix_core_feature_uid"), "core_feature", ["uid"], unique=True)
    op.create_index(
        op.f("ix_core_feature_unit"), "core_feature", ["unit"], unique=False
    )
    op.create_index(
        op.f("ix_core_feature_updated_at"), "core_feature", ["updated_at"], unique=False
    )

    op.create_table(
        "core_featureset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=150), nullable=True),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("dtype", sa.String(length=64), nullable=True),
        sa.Column("registry", sa.String(length=120), nullable=False),
        sa.Column("hash", sa.String(length=20), nullable=True),
        sa.Column(
            "run_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["core_user.id"],
            name=op.f("fk_core_featureset_created_by_id_core_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["core_run.id"],
            name=op.f("fk_core_featureset_run_id_core_run"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_featureset")),
    )
    op.create_index(
        op.f("ix_core_featureset_created_at"),
        "core_featureset",
        ["created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_featureset_created_by_id"),
        "core_featureset",
        ["created_by_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_featureset_dtype"), "core_featureset", ["dtype"], unique=False
    )
    op.create_index(
        op.f("ix_core_featureset_hash"), "core_featureset", ["hash"], unique=False
    )
    op.create_index(
        op.f("ix_core_featureset_name"), "core_featureset", ["name"], unique=False
    )
    op.create_index(
        op.f("ix_core_featureset_registry"),
        "core_featureset",
        ["registry"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_featureset_run_id"), "core_featureset", ["run_id"], unique=False
    )
    op.create_index(
        op.f("ix_core_featureset_uid"), "core_featureset", ["uid"], unique=True
    )

    op.create_table(
        "core_param",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("dtype", sa.String(length=64), nullable=False),
        sa.Column(
            "run_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["core_user.id"],
            name=op.f("fk_core_param_created_by_id_core_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["core_run.id"],
            name=op.f("fk_core_param_run_id_core_run"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_param")),
    )
    op.create_index(
        op.f("ix_core_param_created_at"), "core_param", ["created_at"], unique=False
    )
    op.create_index(
        op.f("ix_core_param_created_by_id"),
        "core_param",
        ["created_by_id"],
        unique=False,
    )
    op.create_index(op.f("ix_core_param_dtype"), "core_param", ["dtype"], unique=False)
    op.create_index(op.f("ix_core_param_name"), "core_param", ["name"], unique=False)
    op.create_index(
        op.f("ix_core_param_run_id"), "core_param", ["run_id"], unique=False
    )
    op.create_index(
        op.f("ix_core_param_updated_at"), "core_param", ["updated_at"], unique=False
    )

    op.create_table(
        "core_storage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=12), nullable=False),
        sa.Column("root", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=True),
        sa.Column("type", sa.String(length=30), nullable=False),
        sa.Column("region", sa.String(length=64), nullable=True),
        sa.Column("instance_uid", sa.String(length=12), nullable=True),
        sa.Column(
            "run_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["core_user.id"],
            name=op.f("fk_core_storage_created_by_id_core_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["core_run.id"],
            name=op.f("fk_core_storage_run_id_core_run"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_storage")),
    )
    op.create_index(
        op.f("ix_core_storage_created_at"), "core_storage", ["created_at"], unique=False
    )
    op.create_index(
        op.f("ix_core_storage_created_by_id"),
        "core_storage",
        ["created_by_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_storage_description"),
        "core_storage",
        ["description"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_storage_instance_uid"),
        "core_storage",
        ["instance_uid"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_storage_region"), "core_storage", ["region"], unique=False
    )
    op.create_index(op.f("ix_core_storage_root"), "core_storage", ["root"], unique=True)
    op.create_index(
        op.f("ix_core_storage_run_id"), "core_storage", ["run_id"], unique=False
    )
    op.create_index(
        op.f("ix_core_storage_type"), "core_storage", ["type"], unique=False
    )
    op.create_index(op.f("ix_core_storage_uid"), "core_storage", ["uid"], unique=True)
    op.create_index(
        op.f("ix_core_storage_updated_at"), "core_storage", ["updated_at"], unique=False
    )

    op.create_table(
        "core_ulabel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=150), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("reference", sa.String(length=255), nullable=True),
        sa.Column("reference_type", sa.String(length=25), nullable=True),
        sa.Column(
            "run_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["core_user.id"],
            name=op.f("fk_core_ulabel_created_by_id_core_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["core_run.id"],
            name=op.f("fk_core_ulabel_run_id_core_run"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_ulabel")),
    )
    op.create_index(
        op.f("ix_core_ulabel_created_at"), "core_ulabel", ["created_at"], unique=False
    )
    op.create_index(
        op.f("ix_core_ulabel_created_by_id"),
        "core_ulabel",
        ["created_by_id"],
        unique=False,
    )
    op.create_index(op.f("ix_core_ulabel_name"), "core_ulabel", ["name"], unique=True)
    op.create_index(
        op.f("ix_core_ulabel_reference"), "core_ulabel", ["reference"], unique=False
    )
    op.create_index(
        op.f("ix_core_ulabel_reference_type"),
        "core_ulabel",
        ["reference_type"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_ulabel_run_id"), "core_ulabel", ["run_id"], unique=False
    )
    op.create_index(op.f("ix_core_ulabel_uid"), "core_ulabel", ["uid"], unique=True)
    op.create_index(
        op.f("ix_core_ulabel_updated_at"), "core_ulabel", ["updated_at"], unique=False
    )

    op.create_table(
        "core_artifact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=20), nullable=False),
        sa.Column("storage_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=True),
        sa.Column("suffix", sa.String(length=30), nullable=False),
        sa.Column("accessor", sa.String(length=64), nullable=True),
        sa.Column("description", sa.String(length=255), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("hash", sa.String(length=86), nullable=True),
        sa.Column("hash_type", sa.String(length=30), nullable=True),
        sa.Column("n_objects", sa.BigInteger(), nullable=True),
        sa.Column("n_observations", sa.BigInteger(), nullable=True),
        sa.Column("transform_id", sa.Integer(), nullable=True),
        sa.Column("visibility", sa.SmallInteger(), nullable=False),
        sa.Column("key_is_virtual", sa.Boolean(), nullable=False),
        sa.Column(
            "run_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.String(length=10), nullable=True),
        sa.Column("is_latest", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["core_user.id"],
            name=op.f("fk_core_artifact_created_by_id_core_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["core_run.id"],
            name=op.f("fk_core_artifact_run_id_core_run"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["storage_id"],
            ["core_storage.id"],
            name=op.f("fk_core_artifact_storage_id_core_storage"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["transform_id"],
            ["core_transform.id"],
            name=op.f("fk_core_artifact_transform_id_core_transform"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_artifact")),
    )
    op.create_index(
        op.f("ix_core_artifact_accessor"), "core_artifact", ["accessor"], unique=False
    )
    op.create_index(
        op.f("ix_core_artifact_created_at"),
        "core_artifact",
        ["created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_artifact_created_by_id"),
        "core_artifact",
        ["created_by_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_artifact_description"),
        "core_artifact",
        ["description"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_artifact_hash"), "core_artifact", ["hash"], unique=False
    )
    op.create_index(
        op.f("ix_core_artifact_hash_type"), "core_artifact", ["hash_type"], unique=False
    )
    op.create_index(
        op.f("ix_core_artifact_is_latest"), "core_artifact", ["is_latest"], unique=False
    )
    op.create_index(
        op.f("ix_core_artifact_key"), "core_artifact", ["key"], unique=False
    )
    op.create_index(
        op.f("ix_core_artifact_n_objects"), "core_artifact", ["n_objects"], unique=False
    )
    op.create_index(
        op.f("ix_core_artifact_n_observations"),
        "core_artifact",
        ["n_observations"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_artifact_run_id"), "core_artifact", ["run_id"], unique=False
    )
    op.create_index(
        op.f("ix_core_artifact_size"), "core_artifact", ["size"], unique=False
    )
    op.create_index(
        op.f("ix_core_artifact_storage_id"),
        "core_artifact",
        ["storage_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_artifact_suffix"), "core_artifact", ["suffix"], unique=False
    )
    op.create_index(
        op.f("ix_core_artifact_transform_id"),
        "core_artifact",
        ["transform_id"],
        unique=False,
    )
    op.create_index(op.f("ix_core_artifact_uid"), "core_artifact", ["uid"], unique=True)
    op.create_index(
        op.f("ix_core_artifact_updated_at"),
        "core_artifact",
        ["updated_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_artifact_version"), "core_artifact", ["version"], unique=False
    )
    op.create_index(
        op.f("ix_core_artifact_visibility"),
        "core_artifact",
        ["visibility"],
        unique=False,
    )

    op.create_table(
        "core_featureset_feature",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("featureset_id", sa.Integer(), nullable=False),
        sa.Column("feature_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["feature_id"],
            ["core_feature.id"],
            name=op.f("fk_core_featureset_feature_feature_id_core_feature"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["featureset_id"],
            ["core_featureset.id"],
            name=op.f("fk_core_featureset_feature_featureset_id_core_featureset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_featureset_feature")),
        sa.UniqueConstraint(
            "featureset_id",
            "feature_id",
            name=op.f("uq_core_featureset_feature_featureset_id_feature_id"),
        ),
    )
    op.create_index(
        op.f("ix_core_featureset_feature_feature_id"),
        "core_featureset_feature",
        ["feature_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_featureset_feature_featureset_id"),
        "core_featureset_feature",
        ["featureset_id"],
        unique=False,
    )

    op.create_table(
        "core_featurevalue",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("feature_id", sa.Integer(), nullable=True),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column(
            "run_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["core_user.id"],
            name=op.f("fk_core_featurevalue_created_by_id_core_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["feature_id"],
            ["core_feature.id"],
            name=op.f("fk_core_featurevalue_feature_id_core_feature"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["core_run.id"],
            name=op.f("fk_core_featurevalue_run_id_core_run"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_featurevalue")),
    )
    op.create_index(
        op.f("ix_core_featurevalue_created_at"),
        "core_featurevalue",
        ["created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_featurevalue_created_by_id"),
        "core_featurevalue",
        ["created_by_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_featurevalue_feature_id"),
        "core_featurevalue",
        ["feature_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_featurevalue_run_id"),
        "core_featurevalue",
        ["run_id"],
        unique=False,
    )

    op.create_table(
        "core_paramvalue",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("param_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["core_user.id"],
            name=op.f("fk_core_paramvalue_created_by_id_core_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["param_id"],
            ["core_param.id"],
            name=op.f("fk_core_paramvalue_param_id_core_param"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_paramvalue")),
    )
    op.create_index(
        op.f("ix_core_paramvalue_created_at"),
        "core_paramvalue",
        ["created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_paramvalue_created_by_id"),
        "core_paramvalue",
        ["created_by_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_paramvalue_param_id"),
        "core_paramvalue",
        ["param_id"],
        unique=False,
    )

    op.create_table(
        "core_transform_ulabel",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("transform_id", sa.Integer(), nullable=False),
        sa.Column("ulabel_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["transform_id"],
            ["core_transform.id"],
            name=op.f("fk_core_transform_ulabel_transform_id_core_transform"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ulabel_id"],
            ["core_ulabel.id"],
            name=op.f("fk_core_transform_ulabel_ulabel_id_core_ulabel"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_transform_ulabel")),
        sa.UniqueConstraint(
            "transform_id",
            "ulabel_id",
            name=op.f("uq_core_transform_ulabel_transform_id_ulabel_id"),
        ),
    )
    op.create_index(
        op.f("ix_core_transform_ulabel_transform_id"),
        "core_transform_ulabel",
        ["transform_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_transform_ulabel_ulabel_id"),
        "core_transform_ulabel",
        ["ulabel_id"],
        unique=False,
    )

    op.create_table(
        "core_ulabel_parent",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("from_ulabel_id", sa.Integer(), nullable=False),
        sa.Column("to_ulabel_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["from_ulabel_id"],
            ["core_ulabel.id"],
            name=op.f("fk_core_ulabel_parent_from_ulabel_id_core_ulabel"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["to_ulabel_id"],
            ["core_ulabel.id"],
            name=op.f("fk_core_ulabel_parent_to_ulabel_id_core_ulabel"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_ulabel_parent")),
        sa.UniqueConstraint(
            "from_ulabel_id",
            "to_ulabel_id",
            name=op.f("uq_core_ulabel_parent_from_ulabel_id_to_ulabel_id"),
        ),
    )
    op.create_index(
        op.f("ix_core_ulabel_parent_from_ulabel_id"),
        "core_ulabel_parent",
        ["from_ulabel_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_ulabel_parent_to_ulabel_id"),
        "core_ulabel_parent",
        ["to_ulabel_id"],
        unique=False,
    )

    op.create_table(
        "core_artifact_featureset",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("artifact_id", sa.Integer(), nullable=False),
        sa.Column("featureset_id", sa.Integer(), nullable=False),
        sa.Column("slot", sa.String(length=40), nullable=True),
        sa.Column("feature_ref_is_semantic", sa.Boolean(), nullable=True),
        sa.Column(
            "run_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["artifact_id"],
            ["core_artifact.id"],
            name=op.f("fk_core_artifact_featureset_artifact_id_core_artifact"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["core_user.id"],
            name=op.f("fk_core_artifact_featureset_created_by_id_core_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["featureset_id"],
            ["core_featureset.id"],
            name=op.f("fk_core_artifact_featureset_featureset_id_core_featureset"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["core_run.id"],
            name=op.f("fk_core_artifact_featureset_run_id_core_run"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_artifact_featureset")),
        sa.UniqueConstraint(
            "artifact_id",
            "featureset_id",
            name=op.f("uq_core_artifact_featureset_artifact_id_featureset_id"),
        ),
    )
    op.create_index(
        op.f("ix_core_artifact_featureset_artifact_id"),
        "core_artifact_featureset",
        ["artifact_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_artifact_featureset_created_at"),
        "core_artifact_featureset",
        ["created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_artifact_featureset_created_by_id"),
        "core_artifact_featureset",
        ["created_by_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_artifact_featureset_featureset_id"),
        "core_artifact_featureset",
        ["featureset_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_artifact_featureset_run_id"),
        "core_artifact_featureset",
        ["run_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_artifact_featureset_slot"),
        "core_artifact_featureset",
        ["slot"],
        unique=False,
    )

    op.create_table(
        "core_artifact_featurevalue",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("artifact_id", sa.Integer(), nullable=False),
        sa.Column(
            "featurevalue_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "run_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["artifact_id"],
            ["core_artifact.id"],
            name=op.f("fk_core_artifact_featurevalue_artifact_id_core_artifact"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["core_user.id"],
            name=op.f("fk_core_artifact_featurevalue_created_by_id_core_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["featurevalue_id"],
            ["core_featurevalue.id"],
            name=op.f(
                "fk_core_artifact_featurevalue_featurevalue_id_core_featurevalue"
            ),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["core_run.id"],
            name=op.f("fk_core_artifact_featurevalue_run_id_core_run"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_artifact_featurevalue")),
        sa.UniqueConstraint(
            "artifact_id",
            "featurevalue_id",
            name=op.f("uq_core_artifact_featurevalue_artifact_id_featurevalue_id"),
        ),
    )
    op.create_index(
        op.f("ix_core_artifact_featurevalue_artifact_id"),
        "core_artifact_featurevalue",
        ["artifact_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_artifact_featurevalue_created_at"),
        "core_artifact_featurevalue",
        ["created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_artifact_featurevalue_created_by_id"),
        "core_artifact_featurevalue",
        ["created_by_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_artifact_featurevalue_featurevalue_id"),
        "core_artifact_featurevalue",
        ["featurevalue_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_artifact_featurevalue_run_id"),
        "core_artifact_featurevalue",
        ["run_id"],
        unique=False,
    )

    op.create_table(
        "core_artifact_input",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("artifact_id", sa.Integer(), nullable=False),
        sa.Column(
            "run_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["artifact_id"],
            ["core_artifact.id"],
            name=op.f("fk_core_artifact_input_artifact_id_core_artifact"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["core_run.id"],
            name=op.f("fk_core_artifact_input_run_id_core_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_artifact_input")),
        sa.UniqueConstraint(
            "artifact_id",
            "run_id",
            name=op.f("uq_core_artifact_input_artifact_id_run_id"),
        ),
    )
    op.create_index(
        op.f("ix_core_artifact_input_artifact_id"),
        "core_artifact_input",
        ["artifact_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_artifact_input_run_id"),
        "core_artifact_input",
        ["run_id"],
        unique=False,
    )

    op.create_table(
        "core_artifact_previous_run",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("artifact_id", sa.Integer(), nullable=False),
        sa.Column(
            "run_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["artifact_id"],
            ["core_artifact.id"],
            name=op.f("fk_core_artifact_previous_run_artifact_id_core_artifact"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["core_run.id"],
            name=op.f("fk_core_artifact_previous_run_run_id_core_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_artifact_previous_run")),
        sa.UniqueConstraint(
            "artifact_id",
            "run_id",
            name=op.f("uq_core_artifact_previous_run_artifact_id_run_id"),
        ),
    )
    op.create_index(
        op.f("ix_core_artifact_previous_run_artifact_id"),
        "core_artifact_previous_run",
        ["artifact_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_artifact_previous_run_run_id"),
        "core_artifact_previous_run",
        ["run_id"],
        unique=False,
    )

    op.create_table(
        "core_artifact_ulabel",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("artifact_id", sa.Integer(), nullable=False),
        sa.Column("ulabel_id", sa.Integer(), nullable=False),
        sa.Column("feature_id", sa.Integer(), nullable=True),
        sa.Column("ulabel_ref_is_name", sa.Boolean(), nullable=True),
        sa.Column("feature_ref_is_name", sa.Boolean(), nullable=True),
        sa.Column(
            "run_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["artifact_id"],
            ["core_artifact.id"],
            name=op.f("fk_core_artifact_ulabel_artifact_id_core_artifact"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["core_user.id"],
            name=op.f("fk_core_artifact_ulabel_created_by_id_core_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["feature_id"],
            ["core_feature.id"],
            name=op.f("fk_core_artifact_ulabel_feature_id_core_feature"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["core_run.id"],
            name=op.f("fk_core_artifact_ulabel_run_id_core_run"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["ulabel_id"],
            ["core_ulabel.id"],
            name=op.f("fk_core_artifact_ulabel_ulabel_id_core_ulabel"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_artifact_ulabel")),
        sa.UniqueConstraint(
            "artifact_id",
            "ulabel_id",
            name=op.f("uq_core_artifact_ulabel_artifact_id_ulabel_id"),
        ),
    )
    op.create_index(
        op.f("ix_core_artifact_ulabel_artifact_id"),
        "core_artifact_ulabel",
        ["artifact_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_artifact_ulabel_created_at"),
        "core_artifact_ulabel",
        ["created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_artifact_ulabel_created_by_id"),
        "core_artifact_ulabel",
        ["created_by_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_artifact_ulabel_feature_id"),
        "core_artifact_ulabel",
        ["feature_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_artifact_ulabel_run_id"),
        "core_artifact_ulabel",
        ["run_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_artifact_ulabel_ulabel_id"),
        "core_artifact_ulabel",
        ["ulabel_id"],
        unique=False,
    )

    op.create_table(
        "core_collection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=150), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("hash", sa.String(length=86), nullable=True),
        sa.Column("reference", sa.String(length=255), nullable=True),
        sa.Column("reference_type", sa.String(length=25), nullable=True),
        sa.Column("transform_id", sa.Integer(), nullable=True),
        sa.Column("artifact_id", sa.Integer(), nullable=True),
        sa.Column("visibility", sa.SmallInteger(), nullable=False),
        sa.Column(
            "run_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.String(length=10), nullable=True),
        sa.Column("is_latest", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["artifact_id"],
            ["core_artifact.id"],
            name=op.f("fk_core_collection_artifact_id_core_artifact"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["core_user.id"],
            name=op.f("fk_core_collection_created_by_id_core_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["core_run.id"],
            name=op.f("fk_core_collection_run_id_core_run"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["transform_id"],
            ["core_transform.id"],
            name=op.f("fk_core_collection_transform_id_core_transform"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_collection")),
    )
    op.create_index(
        op.f("ix_core_collection_artifact_id"),
        "core_collection",
        ["artifact_id"],
        unique=True,
    )
    op.create_index(
        op.f("ix_core_collection_created_at"),
        "core_collection",
        ["created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_collection_created_by_id"),
        "core_collection",
        ["created_by_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_collection_hash"), "core_collection", ["hash"], unique=False
    )
    op.create_index(
        op.f("ix_core_collection_is_latest"),
        "core_collection",
        ["is_latest"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_collection_name"), "core_collection", ["name"], unique=False
    )
    op.create_index(
        op.f("ix_core_collection_reference"),
        "core_collection",
        ["reference"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_collection_reference_type"),
        "core_collection",
        ["reference_type"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_collection_run_id"), "core_collection", ["run_id"], unique=False
    )
    op.create_index(
        op.f("ix_core_collection_transform_id"),
        "core_collection",
        ["transform_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_collection_uid"), "core_collection", ["uid"], unique=True
    )
    op.create_index(
        op.f("ix_core_collection_updated_at"),
        "core_collection",
        ["updated_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_collection_version"), "core_collection", ["version"], unique=False
    )
    op.create_index(
        op.f("ix_core_collection_visibility"),
        "core_collection",
        ["visibility"],
        unique=False,
    )

    op.create_table(
        "core_run_paramvalue",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "run_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "paramvalue_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["paramvalue_id"],
            ["core_paramvalue.id"],
            name=op.f("fk_core_run_paramvalue_paramvalue_id_core_paramvalue"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["core_run.id"],
            name=op.f("fk_core_run_paramvalue_run_id_core_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_run_paramvalue")),
        sa.UniqueConstraint(
            "run_id",
            "paramvalue_id",
            name=op.f("uq_core_run_paramvalue_run_id_paramvalue_id"),
        ),
    )
    op.create_index(
        op.f("ix_core_run_paramvalue_paramvalue_id"),
        "core_run_paramvalue",
        ["paramvalue_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_run_paramvalue_run_id"),
        "core_run_paramvalue",
        ["run_id"],
        unique=False,
    )

    op.create_table(
        "core_collection_artifact",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("collection_id", sa.Integer(), nullable=False),
        sa.Column("artifact_id", sa.Integer(), nullable=False),
        sa.Column(
            "run_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["artifact_id"],
            ["core_artifact.id"],
            name=op.f("fk_core_collection_artifact_artifact_id_core_artifact"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["core_collection.id"],
            name=op.f("fk_core_collection_artifact_collection_id_core_collection"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["core_user.id"],
            name=op.f("fk_core_collection_artifact_created_by_id_core_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["core_run.id"],
            name=op.f("fk_core_collection_artifact_run_id_core_run"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_collection_artifact")),
        sa.UniqueConstraint(
            "collection_id",
            "artifact_id",
            name=op.f("uq_core_collection_artifact_collection_id_artifact_id"),
        ),
    )
    op.create_index(
        op.f("ix_core_collection_artifact_artifact_id"),
        "core_collection_artifact",
        ["artifact_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_collection_artifact_collection_id"),
        "core_collection_artifact",
        ["collection_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_collection_artifact_created_at"),
        "core_collection_artifact",
        ["created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_collection_artifact_created_by_id"),
        "core_collection_artifact",
        ["created_by_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_collection_artifact_run_id"),
        "core_collection_artifact",
        ["run_id"],
        unique=False,
    )

    op.create_table(
        "core_collection_featureset",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("collection_id", sa.Integer(), nullable=False),
        sa.Column("featureset_id", sa.Integer(), nullable=False),
        sa.Column("slot", sa.String(length=50), nullable=True),
        sa.Column("feature_ref_is_semantic", sa.Boolean(), nullable=True),
        sa.Column(
            "run_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["core_collection.id"],
            name=op.f("fk_core_collection_featureset_collection_id_core_collection"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["core_user.id"],
            name=op.f("fk_core_collection_featureset_created_by_id_core_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["featureset_id"],
            ["core_featureset.id"],
            name=op.f("fk_core_collection_featureset_featureset_id_core_featureset"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["core_run.id"],
            name=op.f("fk_core_collection_featureset_run_id_core_run"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_collection_featureset")),
        sa.UniqueConstraint(
            "collection_id",
            "featureset_id",
            name=op.f("uq_core_collection_featureset_collection_id_featureset_id"),
        ),
    )
    op.create_index(
        op.f("ix_core_collection_featureset_collection_id"),
        "core_collection_featureset",
        ["collection_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_collection_featureset_created_at"),
        "core_collection_featureset",
        ["created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_collection_featureset_created_by_id"),
        "core_collection_featureset",
        ["created_by_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_collection_featureset_featureset_id"),
        "core_collection_featureset",
        ["featureset_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_collection_featureset_run_id"),
        "core_collection_featureset",
        ["run_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_collection_featureset_slot"),
        "core_collection_featureset",
        ["slot"],
        unique=False,
    )

    op.create_table(
        "core_collection_input",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("collection_id", sa.Integer(), nullable=False),
        sa.Column(
            "run_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["core_collection.id"],
            name=op.f("fk_core_collection_input_collection_id_core_collection"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["core_run.id"],
            name=op.f("fk_core_collection_input_run_id_core_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_collection_input")),
        sa.UniqueConstraint(
            "collection_id",
            "run_id",
            name=op.f("uq_core_collection_input_collection_id_run_id"),
        ),
    )
    op.create_index(
        op.f("ix_core_collection_input_collection_id"),
        "core_collection_input",
        ["collection_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_collection_input_run_id"),
        "core_collection_input",
        ["run_id"],
        unique=False,
    )

    op.create_table(
        "core_collection_previous_run",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("collection_id", sa.Integer(), nullable=False),
        sa.Column(
            "run_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["core_collection.id"],
            name=op.f("fk_core_collection_previous_run_collection_id_core_collection"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["core_run.id"],
            name=op.f("fk_core_collection_previous_run_run_id_core_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_collection_previous_run")),
        sa.UniqueConstraint(
            "collection_id",
            "run_id",
            name=op.f("uq_core_collection_previous_run_collection_id_run_id"),
        ),
    )
    op.create_index(
        op.f("ix_core_collection_previous_run_collection_id"),
        "core_collection_previous_run",
        ["collection_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_collection_previous_run_run_id"),
        "core_collection_previous_run",
        ["run_id"],
        unique=False,
    )

    op.create_table(
        "core_collection_ulabel",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("collection_id", sa.Integer(), nullable=False),
        sa.Column("ulabel_id", sa.Integer(), nullable=False),
        sa.Column("feature_id", sa.Integer(), nullable=True),
        sa.Column("ulabel_ref_is_name", sa.Boolean(), nullable=True),
        sa.Column("feature_ref_is_name", sa.Boolean(), nullable=True),
        sa.Column(
            "run_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["core_collection.id"],
            name=op.f("fk_core_collection_ulabel_collection_id_core_collection"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["core_user.id"],
            name=op.f("fk_core_collection_ulabel_created_by_id_core_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["feature_id"],
            ["core_feature.id"],
            name=op.f("fk_core_collection_ulabel_feature_id_core_feature"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["core_run.id"],
            name=op.f("fk_core_collection_ulabel_run_id_core_run"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["ulabel_id"],
            ["core_ulabel.id"],
            name=op.f("fk_core_collection_ulabel_ulabel_id_core_ulabel"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_collection_ulabel")),
        sa.UniqueConstraint(
            "collection_id",
            "ulabel_id",
            name=op.f("uq_core_collection_ulabel_collection_id_ulabel_id"),
        ),
    )
    op.create_index(
        op.f("ix_core_collection_ulabel_collection_id"),
        "core_collection_ulabel",
        ["collection_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_collection_ulabel_created_at"),
        "core_collection_ulabel",
        ["created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_collection_ulabel_created_by_id"),
        "core_collection_ulabel",
        ["created_by_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_collection_ulabel_feature_id"),
        "core_collection_ulabel",
        ["feature_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_collection_ulabel_run_id"),
        "core_collection_ulabel",
        ["run_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_core_collection_ulabel_ulabel_id"),
        "core_collection_ulabel",
        ["ulabel_id"],
        unique=False,
    )

    # core_artifact references core_transform and core_run, which reference it
    # back: these foreign keys are added once all three tables exist (batch
    # mode rebuilds the tables on SQLite, which cannot ALTER constraints).
    with op.batch_alter_table("core_transform") as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_core_transform_latest_report_id_core_artifact"),
            "core_artifact",
            ["latest_report_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_core_transform_source_code_id_core_artifact"),
            "core_artifact",
            ["source_code_id"],
            ["id"],
            ondelete="RESTRICT",
        )
    with op.batch_alter_table("core_run") as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_core_run_environment_id_core_artifact"),
            "core_artifact",
            ["environment_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_core_run_report_id_core_artifact"),
            "core_artifact",
            ["report_id"],
            ["id"],
            ondelete="RESTRICT",
        )


def downgrade() -> None:
    # Drop the circular foreign keys first: Postgres will not drop core_artifact
    # while core_transform and core_run reference it.
    with op.batch_alter_table("core_transform") as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_core_transform_latest_report_id_core_artifact"),
            type_="foreignkey",
        )
        batch_op.drop_constraint(
            batch_op.f("fk_core_transform_source_code_id_core_artifact"),
            type_="foreignkey",
        )
    with op.batch_alter_table("core_run") as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_core_run_environment_id_core_artifact"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_core_run_report_id_core_artifact"), type_="foreignkey"
        )
    op.drop_table("core_collection_ulabel")
    op.drop_table("core_collection_previous_run")
    op.drop_table("core_collection_input")
    op.drop_table("core_collection_featureset")
    op.drop_table("core_collection_artifact")
    op.drop_table("core_run_paramvalue")
    op.drop_table("core_collection")
    op.drop_table("core_artifact_ulabel")
    op.drop_table("core_artifact_previous_run")
    op.drop_table("core_artifact_input")
    op.drop_table("core_artifact_featurevalue")
    op.drop_table("core_artifact_featureset")
    op.drop_table("core_ulabel_parent")
    op.drop_table("core_transform_ulabel")
    op.drop_table("core_paramvalue")
    op.drop_table("core_featurevalue")
    op.drop_table("core_featureset_feature")
    op.drop_table("core_artifact")
    op.drop_table("core_ulabel")
    op.drop_table("core_storage")
    op.drop_table("core_param")
    op.drop_table("core_featureset")
    op.drop_table("core_feature")
    op.drop_table("core_transform_parent")
    op.drop_table("core_run")
    op.drop_table("core_transform")
    op.drop_table("core_user")
    op.drop_table("core_module")
    op.drop_table("core_instance")
