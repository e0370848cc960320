"""The module-author API: link tables, link records and reverse accessors.

Schema modules (bionty, wetlab, third-party packages) build their registries with
this API only; nothing private of lamin-sa is needed. A module defines its models
on :class:`~lamin_sa.models.record.Record` with the mixins re-exported here, links
them to core registries with :func:`link_model` (an association class with its own
id, provenance and an optional ``feature_id``) or :func:`link_table` (a plain
many-to-many table), and adds accessors to classes it does not own with
:func:`attach`::

    from lamin_sa.models import links as L
    from lamin_sa.models.core import Artifact

    class Thing(L.CanValidate, L.TracksRun, L.TracksUpdates, L.Record):
        __tablename__ = "my_lab_thing"
        _len_uid = 8
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        uid: Mapped[str] = mapped_column(String(8), unique=True, index=True)
        name: Mapped[str] = mapped_column(String(150), index=True)

    ArtifactThing = L.link_model(
        Artifact, Thing, host_accessor="things", target_accessor="artifacts",
        feature=True,
    )
    # ln.Artifact.filter(things__name="x"), artifact.labels.add(things),
    # artifact.things, artifact.describe() and Feature(dtype="cat[my_lab.Thing]")
    # now work.

Table names carry the module's ``table_prefix`` (``my_lab_``), which also gives
the registry name used in ``Feature.dtype`` (``my_lab.Thing``).

A registry that must write related rows whenever its records are saved overrides
the classmethod ``_after_insert(session, records)`` of
:class:`~lamin_sa.models.record.Record`: ``record.save()`` and ``ln.save()`` call
it inside their transaction with the records that were new (bionty saves the
ancestor chains of public records this way, in bulk).
"""

from __future__ import annotations

import re
import sys
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Integer,
    Table,
    UniqueConstraint,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapped, Mapper, mapped_column, relationship

from lamin_sa.db.base import metadata, mixin_attr
from lamin_sa.errors import LaminSAError
from lamin_sa.models.mixins import (
    CanValidate,
    CreatedAt,
    CreatedBy,
    HasParents,
    IsVersioned,
    TracksRun,
    TracksUpdates,
    fk,
)
from lamin_sa.models.record import Record, RelatedRecords

# the related-manager helpers lived here before this module became the author API
from lamin_sa.models.related import add_related, related_queryset, remove_related

#: an integer primary key that is 64-bit on PostgreSQL (SQLite's rowid otherwise).
BigId = BigInteger().with_variant(Integer, "sqlite")

# To-many sides leave deletes to the database's ON DELETE rules (RESTRICT protects,
# CASCADE removes links) instead of the ORM nulling foreign keys of loaded rows.
# Reverse sides are not synced in memory from the to-one side (Run(transform=t)
# leaves t.runs alone until t.runs is loaded from the database).
#: options of a plain to-many relationship.
MANY: dict[str, Any] = {
    "collection_class": RelatedRecords,
    "passive_deletes": "all",
    "sync_backref": False,
}
#: options of a to-many relationship to rows owned by the record (link rows).
OWNED: dict[str, Any] = {
    "collection_class": RelatedRecords,
    "passive_deletes": True,
    "cascade": "all, delete-orphan",
    "sync_backref": False,
}
#: options of a read-only many-to-many relationship through a link table.
VIEW: dict[str, Any] = {"collection_class": RelatedRecords, "viewonly": True}


def _fk_spec(spec: str | tuple[str, str]) -> tuple[str, str]:
    if isinstance(spec, tuple):
        return spec
    return spec, "CASCADE"


def link_table(name: str, **columns: str | tuple[str, str]) -> Table:
    """A plain many-to-many table with its own id and a unique column pair.

    Args:
        name: The table name, starting with the module's table prefix.
        **columns: Two foreign-key columns by keyword: ``column="table.id"``
            (``ON DELETE CASCADE``) or ``column=("table.id", "RESTRICT")``.

    Example:
        >>> featureset_gene = link_table(
        ...     "bionty_featureset_gene",
        ...     featureset_id="core_featureset.id",
        ...     gene_id=("bionty_gene.id", "RESTRICT"),
        ... )
    """
    if len(columns) != 2:
        raise TypeError(f"link_table({name!r}) takes two columns, got {list(columns)}.")
    cols: list[Column[Any]] = []
    for key, spec in columns.items():
        target, ondelete = _fk_spec(spec)
        cols.append(
            Column(
                key,
                ForeignKey(target, ondelete=ondelete),
                nullable=False,
                index=True,
            )
        )
    return Table(
        name,
        metadata,
        Column("id", BigId, primary_key=True),
        *cols,
        UniqueConstraint(*columns),
    )


class LinkRecord(TracksRun, Record):
    """A link row with its own id and provenance columns (an association class)."""

    __abstract__ = True
    _name_field: ClassVar[str | None] = None


def short_name(model: type) -> str:
    """The table name without its module prefix: ``bionty_celltype`` → ``celltype``."""
    from lamin_sa.modules import module_for_table

    table = model.__table__.name  # type: ignore[attr-defined]
    module = module_for_table(table)
    if module is not None:
        return table[len(module.table_prefix) :]
    return table.split("_", 1)[-1]


def _prefix(model: type) -> str:
    table = model.__table__.name  # type: ignore[attr-defined]
    return table[: len(table) - len(short_name(model))]


def _camel(name: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in re.split(r"_+", name) if p)


def attach(host: type, name: str, relationship: Any) -> None:
    """Add a relationship (a reverse accessor) to a mapped class of another module.

    Use it for accessors on classes your module does not own, e.g. ``Artifact``;
    it refuses to replace an attribute the class has already.

    Args:
        host: The mapped class, e.g. ``lamin_sa.models.core.Artifact``.
        name: The attribute name, e.g. ``"cell_types"``.
        relationship: A ``sqlalchemy.orm.relationship(...)`` (use the ``MANY``,
            ``OWNED`` or ``VIEW`` options for to-many sides).

    Raises:
        LaminSAError: ``host`` has an attribute ``name`` already.

    Example:
        >>> attach(Artifact, "things", relationship(Thing, secondary=t, **VIEW))
    """
    if hasattr(host, name):
        raise LaminSAError(
            f"{host.__name__}.{name} exists already; pick another accessor name."
        )
    mapper: Mapper[Any] = sa_inspect(host)
    if mapper.configured:
        # A property added to a configured mapper is initialised at once, before
        # the module's other mappers and accessors exist; defer it to the next
        # configure step, which runs on first use.
        mapper.configured = False
        mapper.registry._flag_new_mapper(mapper)
    setattr(host, name, relationship)
    _mapping_changed(host)


def _mapping_changed(*classes: type) -> None:
    """Forget per-class caches that depend on the mapped relationships."""
    from lamin_sa.query.compiler import clear_cache

    for cls in classes:
        for attr in ("_lamin_label_links", "_init_fields_cache", "_to_one_cache"):
            if attr in cls.__dict__:
                delattr(cls, attr)
    clear_cache()


def link_model(
    host: type,
    target: type,
    *,
    host_accessor: str,
    target_accessor: str | None = None,
    feature: bool = False,
    table: str | None = None,
    class_name: str | None = None,
    links_accessor: str | None = None,
    target_ondelete: str = "RESTRICT",
    **extra_columns: Any,
) -> type[LinkRecord]:
    """A link record between ``host`` (e.g. Artifact) and ``target`` (your model).

    It makes the association class ``<Host><Target>`` with its own id,
    provenance columns, ``<host>_id`` (``ON DELETE CASCADE``), ``<target>_id``
    and a unique pair, and attaches:

    - ``host.<host_accessor>``: the linked targets (read-only; write through
      ``host.<host_accessor>.add(...)`` or ``host.labels.add(...)``), usable in
      filters: ``Artifact.filter(things__name="x")``;
    - ``host.<links_accessor>`` (default ``<target>_links``): the link rows;
    - ``target.<target_accessor>``: the linked hosts (if given), and
      ``target.<host>_links``.

    With ``feature=True`` the link also carries ``feature_id`` (and
    ``<target>_ref_is_name``/``feature_ref_is_name``): the target registry
    becomes a label registry of ``host`` (``host.labels``, ``describe()``,
    ``Annotate``).

    Args:
        host: The class linked from, e.g. ``Artifact`` or ``FeatureSet``.
        target: The class linked to (your module's model).
        host_accessor: Attribute on ``host`` for the targets.
        target_accessor: Attribute on ``target`` for the hosts.
        feature: Add ``feature_id`` (label links).
        table: Table name (default ``<target prefix><host>_<target>``).
        class_name: Class name (default ``<Host><Target>``).
        links_accessor: Attribute on ``host`` for the link rows.
        target_ondelete: ON DELETE of the target foreign key.
        **extra_columns: More ``mapped_column(...)`` columns of the link.

    Returns:
        The mapped link class; assign it to a module-level name.

    Example:
        >>> ArtifactThing = link_model(
        ...     Artifact, Thing, host_accessor="things",
        ...     target_accessor="artifacts", feature=True,
        ... )
    """
    host_short, target_short = short_name(host), short_name(target)
    if host_short == target_short:
        raise LaminSAError("link_model links two different classes; use HasParents.")
    host_col, target_col = f"{host_short}_id", f"{target_short}_id"
    table = table or f"{_prefix(target)}{host_short}_{target_short}"
    class_name = class_name or f"{host.__name__}{target.__name__}"
    links_accessor = links_accessor or f"{target_short}_links"
    host_table = host.__table__.name  # type: ignore[attr-defined]
    target_table = target.__table__.name  # type: ignore[attr-defined]
    annotations: dict[str, Any] = {
        "id": Mapped[int],
        host_col: Mapped[int],
        target_col: Mapped[int],
    }
    namespace: dict[str, Any] = {
        "__tablename__": table,
        "__table_args__": (UniqueConstraint(host_col, target_col),),
        "__module__": target.__module__,
        "__qualname__": class_name,
        "id": mapped_column(BigId, primary_key=True),
        host_col: fk(f"{host_table}.id", ondelete="CASCADE", nullable=False),
        target_col: fk(f"{target_table}.id", ondelete=target_ondelete, nullable=False),
        # overlaps instead of back_populates: a side may be mapped and configured
        # already (back_populates would need both sides at once); lamin-sa
        # writes links in bulk and expires the accessors itself
        host_short: relationship(host, overlaps=links_accessor),
        target_short: relationship(target, overlaps=f"{host_short}_links"),
    }
    if feature:
        namespace["feature_id"] = fk("core_feature.id")
        namespace["feature"] = relationship("Feature")
        namespace[f"{target_short}_ref_is_name"] = mapped_column(Boolean)
        namespace["feature_ref_is_name"] = mapped_column(Boolean)
        annotations["feature_id"] = Mapped[int | None]
        annotations[f"{target_short}_ref_is_name"] = Mapped[bool | None]
        annotations["feature_ref_is_name"] = Mapped[bool | None]
    for key, column in extra_columns.items():
        namespace[key] = column
    namespace["__annotations__"] = annotations
    link = type(class_name, (LinkRecord,), namespace)
    module = sys.modules.get(target.__module__)
    if module is not None and not hasattr(module, class_name):
        setattr(module, class_name, link)
    setattr(
        target,
        f"{host_short}_links",
        relationship(link, overlaps=target_short, **MANY),
    )
    if target_accessor is not None:
        setattr(target, target_accessor, relationship(host, secondary=table, **VIEW))
    attach(host, links_accessor, relationship(link, overlaps=host_short, **OWNED))
    attach(host, host_accessor, relationship(target, secondary=table, **VIEW))
    _mapping_changed(host, target)
    return link  # type: ignore[return-value]


_RELATED = (add_related, related_queryset, remove_related)

__all__ = [
    "BigId",
    "CanValidate",
    "CreatedAt",
    "CreatedBy",
    "HasParents",
    "IsVersioned",
    "LinkRecord",
    "MANY",
    "OWNED",
    "Record",
    "RelatedRecords",
    "TracksRun",
    "TracksUpdates",
    "VIEW",
    "attach",
    "fk",
    "link_model",
    "link_table",
    "mixin_attr",
    "short_name",
]
