"""A small test-only registry (terms, parent links, sources) for the loader."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from lamin_sa.db.uid import hash_to_uid
from lamin_sa.ontology.loader import LoadTarget


def make_tables() -> tuple[MetaData, LoadTarget]:
    md = MetaData()
    source = Table(
        "t_source",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("uid", String(8), nullable=False),
        Column("entity", String(64), nullable=False),
        Column("name", String(64), nullable=False),
        Column("organism", String(64), nullable=False),
        Column("version", String(64), nullable=False),
        Column("url", Text),
        Column("md5", String(200)),
        Column("description", Text),
        Column("in_db", Boolean, nullable=False, default=False),
        Column("currently_used", Boolean, nullable=False, default=False),
        UniqueConstraint("entity", "name", "organism", "version"),
    )
    term = Table(
        "t_term",
        md,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
        Column("uid", String(8), nullable=False, unique=True),
        Column("ontology_id", String(64), index=True),
        Column("name", String(512), nullable=False, index=True),
        Column("description", Text),
        Column("synonyms", Text),
        Column("obsolete", Boolean, nullable=False, default=False),
        Column("created_by", String(32), nullable=False),
        Column("source_id", ForeignKey("t_source.id"), nullable=True),
    )
    links = Table(
        "t_term_parents",
        md,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
        Column("from_id", ForeignKey("t_term.id", ondelete="CASCADE"), nullable=False),
        Column("to_id", ForeignKey("t_term.id", ondelete="CASCADE"), nullable=False),
        UniqueConstraint("from_id", "to_id"),
    )
    target = LoadTarget(
        table=term,
        columns={"name": "name", "definition": "description", "synonyms": "synonyms"},
        source_table=source,
        link_table=links,
        link_child="from_id",
        link_parent="to_id",
        obsolete_column="obsolete",
        uid_column="uid",
        make_uid=lambda tid: hash_to_uid(tid, 8),
        defaults={"created_by": "test"},
        source_columns={
            "entity": "entity",
            "name": "name",
            "organism": "organism",
            "version": "version",
            "url": "url",
            "checksum": "md5",
            "description": "description",
            "in_db": "in_db",
            "currently_used": "currently_used",
        },
        source_defaults={
            "uid": lambda s: hash_to_uid(
                f"{s['entity']}|{s['name']}|{s['organism']}|{s['version']}", 8
            )
        },
    )
    return md, target


def gene_target(md: MetaData, source: Table) -> LoadTarget:
    """A flat gene table (no hierarchy) beside the term tables."""
    gene = Table(
        "t_gene",
        md,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
        Column("ensembl_gene_id", String(64), unique=True),
        Column("symbol", String(64), index=True),
        Column("description", Text),
        Column("synonyms", Text),
        Column("ncbi_gene_ids", Text),
        Column("biotype", String(64)),
        Column("source_id", ForeignKey("t_source.id")),
    )
    return LoadTarget(
        table=gene,
        id_column="ensembl_gene_id",
        columns={
            "symbol": "symbol",
            "description": "description",
            "synonyms": "synonyms",
            "ncbi_gene_ids": "ncbi_gene_ids",
            "biotype": "biotype",
        },
        source_table=source,
        source_columns={
            "entity": "entity",
            "name": "name",
            "organism": "organism",
            "version": "version",
            "checksum": "md5",
            "in_db": "in_db",
        },
        source_defaults={"uid": lambda s: hash_to_uid(s["version"] + s["organism"], 8)},
    )


def conventional_tables() -> MetaData:
    """Tables named as the module-author API names them (for ``infer_target``)."""
    md = MetaData()
    Table(
        "t2_source",
        md,
        Column("id", Integer, primary_key=True),
        Column("uid", String(8), nullable=False, unique=True),
        Column("entity", String(64)),
        Column("name", String(64)),
        Column("organism", String(64)),
        Column("version", String(64)),
        Column("md5", String(200)),
        Column("in_db", Boolean, default=False),
        Column("currently_used", Boolean, default=False),
    )
    Table(
        "t2_celltype",
        md,
        Column("id", Integer, primary_key=True),
        Column("uid", String(8), nullable=False, unique=True),
        Column("name", String(255), nullable=False),
        Column("ontology_id", String(32)),
        Column("synonyms", Text),
        Column("description", Text),
        Column("created_by_id", Integer, nullable=False),
        Column("source_id", ForeignKey("t2_source.id")),
    )
    Table(
        "t2_celltype_parent",
        md,
        Column("id", Integer, primary_key=True),
        Column("from_celltype_id", ForeignKey("t2_celltype.id"), nullable=False),
        Column("to_celltype_id", ForeignKey("t2_celltype.id"), nullable=False),
        UniqueConstraint("from_celltype_id", "to_celltype_id"),
    )
    return md
