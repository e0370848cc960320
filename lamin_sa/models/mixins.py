"""Column and relationship mixins shared by the registries (reference §1)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lamin_sa.db.base import mixin_attr, utcnow
from lamin_sa.errors import InstanceNotConnected
from lamin_sa.models.record import RecordQuerySet

if TYPE_CHECKING:
    from lamin_sa.models.run import Run
    from lamin_sa.models.user import User


def current_user_id() -> int:
    """Column default for ``created_by_id``: the user of the active context."""
    from lamin_sa.db.session import current_or_none

    ctx = current_or_none()
    if ctx is None or ctx.user_id is None:
        raise InstanceNotConnected(
            "No user is set for this session: connect an instance (`ln.connect`) or "
            "pass user_id to `lamin_sa.use_session(...)`."
        )
    return ctx.user_id


def current_run_id() -> int | None:
    """Column default for ``run_id``: the run of the active context, if any."""
    from lamin_sa.db.session import current_or_none

    ctx = current_or_none()
    return None if ctx is None else ctx.run_id


def fk(
    target: str,
    *,
    ondelete: str = "RESTRICT",
    nullable: bool = True,
    use_alter: bool = False,
    **kwargs: Any,
) -> Any:
    """A foreign-key column with an index (every FK is filtered on)."""
    return mapped_column(
        ForeignKey(target, ondelete=ondelete, use_alter=use_alter),
        nullable=nullable,
        index=True,
        **kwargs,
    )


class CreatedAt:
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class TracksUpdates:
    updated_at: Mapped[datetime] = mapped_column(
        default=utcnow, onupdate=utcnow, index=True
    )


class CreatedBy:
    @mixin_attr
    def created_by_id(cls) -> Mapped[int]:
        return fk("core_user.id", nullable=False, default=current_user_id)

    @mixin_attr
    def created_by(cls) -> Mapped[User]:
        return relationship("User", foreign_keys=[cls.created_by_id])  # type: ignore[list-item]


class TracksRun(CreatedAt, CreatedBy):
    """``created_at``, ``created_by`` and ``run`` (the run that created the record)."""

    #: name of the reverse accessor on Run (None: no reverse accessor).
    _run_backref: ClassVar[str | None] = None

    @mixin_attr
    def run_id(cls) -> Mapped[int | None]:
        return fk("core_run.id", default=current_run_id)

    @mixin_attr
    def run(cls) -> Mapped[Run | None]:
        return relationship(
            "Run",
            foreign_keys=[cls.run_id],  # type: ignore[list-item]
            back_populates=cls._run_backref,
        )


class IsVersioned:
    """``version``, ``is_latest`` and the uid-stem version family."""

    _len_stem_uid: ClassVar[int]
    uid: Mapped[str]
    version: Mapped[str | None] = mapped_column(String(10), index=True)
    is_latest: Mapped[bool] = mapped_column(Boolean, default=True, index=True)

    @property
    def stem_uid(self) -> str:
        """The uid prefix shared by all versions of this record."""
        return self.uid[: self._len_stem_uid]

    @property
    def versions(self) -> Any:
        """All versions of this record (same uid stem) as a QuerySet."""
        return type(self).filter(uid__startswith=self.stem_uid)  # type: ignore[attr-defined]


class CurationQuerySet(RecordQuerySet):
    """A QuerySet of a validatable registry: validation and search on its rows.

    ``CanValidate`` registries name it as their ``_queryset_class``, so
    ``ULabel.filter(...)`` returns one.
    """

    __slots__ = ()

    def validate(self, values: Any, field: Any = None, *, mute: bool = False) -> Any:
        """Whether each value is stored in ``field`` among these records.

        See :meth:`lamin_sa.models.mixins.CanValidate.validate`.
        """
        from lamin_sa.curate import validate_values as validate

        return validate(self, values, field, mute=mute)

    def inspect(self, values: Any, field: Any = None, *, mute: bool = False) -> Any:
        """Validated and non-validated values among these records, with hints.

        See :meth:`lamin_sa.models.mixins.CanValidate.inspect`.
        """
        from lamin_sa.curate import inspect

        return inspect(self, values, field, mute=mute)

    def standardize(self, values: Any, field: Any = None, **kwargs: Any) -> Any:
        """Map values to canonical field values of these records.

        See :meth:`lamin_sa.models.mixins.CanValidate.standardize`.
        """
        from lamin_sa.curate import standardize

        return standardize(self, values, field, **kwargs)

    def from_values(self, values: Any, field: Any = None, **kwargs: Any) -> list[Any]:
        """The records among these whose field matches the values.

        See :meth:`lamin_sa.models.mixins.CanValidate.from_values`.
        """
        from lamin_sa.curate import from_values

        return from_values(self, values, field, **kwargs)


class CanValidate:
    """Validate, standardize, look up and search values of a registry's fields.

    Class methods work on the whole registry; the same methods on a QuerySet
    work on its rows. Every call works on whole columns with a bounded number of
    queries (see :mod:`lamin_sa.curate.validate`).
    """

    #: QuerySets of validatable registries have the validation methods too.
    _queryset_class: ClassVar[type] = CurationQuerySet

    @classmethod
    def validate(cls, values: Any, field: Any = None, *, mute: bool = False) -> Any:
        """Whether each value is stored in ``field`` (case-sensitive, exact).

        Args:
            values: A column of values (list, array, Series) or one string.
            field: A field name or attribute (default: the name field).
            mute: Do not log.

        Returns:
            A numpy bool array in input order, or a bool for one string.

        Example:
            >>> ln.ULabel.validate(["DMSO", "unknown"])  # a numpy bool array
        """
        from lamin_sa.curate import validate_values as validate

        return validate(cls, values, field, mute=mute)

    @classmethod
    def inspect(cls, values: Any, field: Any = None, *, mute: bool = False) -> Any:
        """Validated and non-validated values, logging case and synonym hints.

        Returns:
            An :class:`~lamin_sa.curate.validate.InspectResult` with
            ``validated``, ``non_validated``, ``frac_validated`` and
            ``synonyms_mapper`` (also as ``result["validated"]``).

        Example:
            >>> result = ln.ULabel.inspect(["DMSO", "IFNG", "unknown"])
            >>> result.non_validated
            ['unknown']
        """
        from lamin_sa.curate import inspect

        return inspect(cls, values, field, mute=mute)

    @classmethod
    def standardize(
        cls,
        values: Any,
        field: Any = None,
        *,
        return_field: Any = None,
        return_mapper: bool = False,
        case_sensitive: bool = False,
        mute: bool = False,
        keep: str | bool = "first",
        synonyms_field: str | None = "synonyms",
    ) -> Any:
        """Map values to canonical field values via synonyms and case.

        Args:
            values: A column of values or one string.
            field: The canonical field (default: the name field).
            return_field: Return this field of the matched records instead.
            return_mapper: Return ``{input: standardized}`` of changed values.
            case_sensitive: Match case exactly.
            mute: Do not log.
            keep: ``"first"``, ``"last"`` or False (all) for ambiguous matches.
            synonyms_field: The ``|``-joined synonyms column.

        Returns:
            A list in input order, the mapper, or a string for one string.

        Example:
            >>> bt.CellType.standardize(["T lymphocyte", "t cell"])  # both: "T cell"
        """
        from lamin_sa.curate import standardize

        return standardize(
            cls,
            values,
            field,
            return_field=return_field,
            return_mapper=return_mapper,
            case_sensitive=case_sensitive,
            mute=mute,
            keep=keep,
            synonyms_field=synonyms_field,
        )

    @classmethod
    def from_values(
        cls, values: Any, field: Any = None, *, mute: bool = False
    ) -> list[Any]:
        """The stored records matching the values (synonym-aware); never creates.

        Args:
            values: A column of values or one string.
            field: The field to match (default: the name field).
            mute: Do not log unmatched values.

        Example:
            >>> labels = ln.ULabel.from_values(["DMSO", "IFNG"])
        """
        from lamin_sa.curate import from_values

        return from_values(cls, values, field, mute=mute)

    @classmethod
    def lookup(cls, field: Any = None, return_field: Any = None) -> Any:
        """Attribute access to records by a field's values.

        Attribute names are the values lower-cased, runs of characters outside
        ``[0-9a-zA-Z_]`` replaced by ``_``, and ``ln_``-prefixed unless they start
        with a letter (or are keywords). ``.dict()`` maps raw values.

        Args:
            field: The field (default: the name field; User: handle).
            return_field: Give this field instead of the record.

        Example:
            >>> ulabels = ln.ULabel.lookup()
            >>> ln.Artifact.filter(ulabels=ulabels.ifng).one()
        """
        from lamin_sa.curate import lookup_records as lookup

        return lookup(cls, field, return_field)

    @classmethod
    def search(
        cls,
        string: str,
        *,
        field: Any = None,
        limit: int | None = 20,
        case_sensitive: bool = False,
    ) -> Any:
        """Records ranked by match: exact, synonym, prefix, word, substring, fuzzy.

        Returns:
            A QuerySet in rank order whose ``df()`` has a ``score`` column.

        Example:
            >>> ln.ULabel.search("IFGN").df()  # a typo still finds IFNG first
        """
        from lamin_sa.curate import search_records as search

        return search(
            cls, string, field=field, limit=limit, case_sensitive=case_sensitive
        )

    def add_synonym(
        self, synonym: str | list[str], force: bool = False, save: bool | None = None
    ) -> None:
        """Add one or more synonyms.

        Args:
            synonym: A synonym or a list; empty strings are ignored.
            force: Add even if another record uses the synonym.
            save: Save the record (default: if it is stored already).

        Raises:
            ValidationError: a synonym contains ``|`` or is used by another
                record (the message names it).
            NotImplementedError: the registry has no ``synonyms`` field.

        Example:
            >>> cell_type.add_synonym(["T lymphocyte", "T-cell"])
        """
        from lamin_sa.curate import add_synonym

        add_synonym(self, synonym, force=force, save=save)

    def remove_synonym(
        self, synonym: str | list[str], save: bool | None = None
    ) -> None:
        """Remove one or more synonyms (absent ones are ignored).

        Example:
            >>> cell_type.remove_synonym("T-cell")
        """
        from lamin_sa.curate import remove_synonym

        remove_synonym(self, synonym, save=save)

    def set_abbr(self, value: str, save: bool | None = None) -> None:
        """Set the abbreviation and add it as a synonym.

        Raises:
            NotImplementedError: the registry has no ``abbr`` field.

        Example:
            >>> cell_type.set_abbr("Tc")
        """
        from lamin_sa.curate import set_abbr

        set_abbr(self, value, save=save)


class IsData:
    """Artifact and Collection: labels, features and lineage (LaminDB's ``Data``)."""

    @property
    def labels(self) -> Any:
        """The LabelManager: ``.labels.add(records, feature=None)``, ``.get(f)``."""
        from lamin_sa.curate import LabelManager

        return LabelManager(self)

    @property
    def features(self) -> Any:
        """The FeatureManager: ``.features[slot]``, ``.add_values({...})``."""
        from lamin_sa.curate import FeatureManager

        return FeatureManager(self)

    @property
    def lineage(self) -> Any:
        """Ancestors and descendants in SQL: ``.ancestors().artifacts()``, ..."""
        from lamin_sa.lineage import LineageAccessor

        return LineageAccessor(self)

    def view_lineage(self, filename: str | None = None, **kwargs: Any) -> Any:
        """Draw the runs and data upstream and downstream of this record.

        Example:
            >>> artifact.view_lineage()  # the SVG (or the DOT text without graphviz)
        """
        from lamin_sa.lineage import view_lineage

        return view_lineage(self, filename=filename, **kwargs)

    def _link_run_input(self, is_run_input: bool | None) -> None:
        """Record this artifact or collection as an input of the current run."""
        from lamin_sa.lineage import link_run_inputs

        link_run_inputs([self], is_run_input=is_run_input)


class HasParents:
    """``parents``/``children`` through a self-referential link table, and queries.

    Mixing it into a registry adds the table ``<table>_parent`` with
    ``from_<name>_id`` (the child) and ``to_<name>_id`` (the parent), the
    relationships ``parents`` and ``children``, recursive-SQL
    :meth:`query_parents`/:meth:`query_children` (cycles in the data end the
    walk) and :meth:`view_parents`.

    Example:
        >>> t_cell.parents.add(lymphocyte)
        >>> t_cell.query_parents().list("name")
        ['lymphocyte', 'leukocyte', 'cell']
    """

    @classmethod
    def parent_table(cls) -> Any:
        """The ``<table>_parent`` link table of the registry (created once).

        Example:
            >>> bt.CellType.parent_table().name  # the link table of CellType.parents
        """
        from sqlalchemy import BigInteger, Column, Integer, Table, UniqueConstraint

        from lamin_sa.db.base import metadata

        table_name = cls.__tablename__  # type: ignore[attr-defined]
        name = f"{table_name}_parent"
        table = metadata.tables.get(name)
        if table is None:
            short = _short_table(table_name)
            big = BigInteger().with_variant(Integer, "sqlite")
            table = Table(
                name,
                metadata,
                Column("id", big, primary_key=True),
                Column(
                    f"from_{short}_id",
                    ForeignKey(f"{table_name}.id", ondelete="CASCADE"),
                    nullable=False,
                    index=True,
                ),
                Column(
                    f"to_{short}_id",
                    ForeignKey(f"{table_name}.id", ondelete="CASCADE"),
                    nullable=False,
                    index=True,
                ),
                UniqueConstraint(f"from_{short}_id", f"to_{short}_id"),
            )
        return table

    @classmethod
    def _parent_columns(cls) -> tuple[Any, Any]:
        table = cls.parent_table()
        short = _short_table(cls.__tablename__)  # type: ignore[attr-defined]
        return table.c[f"from_{short}_id"], table.c[f"to_{short}_id"]

    @mixin_attr
    def parents(cls) -> Mapped[list[Any]]:
        from lamin_sa.models.record import RelatedRecords

        child, parent = cls._parent_columns()  # type: ignore[attr-defined]
        return relationship(
            # a declared_attr's cls is the class; mypy types it as an instance
            cls,  # type: ignore[arg-type]
            secondary=cls.parent_table(),  # type: ignore[attr-defined]
            primaryjoin=lambda: cls.id == child,  # type: ignore[attr-defined]
            secondaryjoin=lambda: cls.id == parent,  # type: ignore[attr-defined]
            back_populates="children",
            collection_class=RelatedRecords,
            passive_deletes="all",
            sync_backref=False,
        )

    @mixin_attr
    def children(cls) -> Mapped[list[Any]]:
        from lamin_sa.models.record import RelatedRecords

        child, parent = cls._parent_columns()  # type: ignore[attr-defined]
        return relationship(
            # a declared_attr's cls is the class; mypy types it as an instance
            cls,  # type: ignore[arg-type]
            secondary=cls.parent_table(),  # type: ignore[attr-defined]
            primaryjoin=lambda: cls.id == parent,  # type: ignore[attr-defined]
            secondaryjoin=lambda: cls.id == child,  # type: ignore[attr-defined]
            back_populates="parents",
            collection_class=RelatedRecords,
            passive_deletes="all",
            sync_backref=False,
        )

    def _walk(self, up: bool) -> Any:
        from sqlalchemy import literal, select

        cls = type(self)
        child, parent = cls._parent_columns()
        start, step = (child, parent) if up else (parent, child)
        me = literal(self.id)  # type: ignore[attr-defined]
        walk = select(step.label("id")).where(start == me).cte("walk", recursive=True)
        # UNION (not UNION ALL) drops rows seen before: cycles end the recursion
        walk = walk.union(
            select(step).select_from(child.table).join(walk, start == walk.c.id)
        )
        ids = select(walk.c.id).where(walk.c.id != me)
        return cls.filter(cls.id.in_(ids.scalar_subquery()))  # type: ignore[attr-defined]

    def query_parents(self) -> Any:
        """All ancestors (parents, their parents, ...) as a QuerySet, in one query.

        Example:
            >>> new_cell_state.query_parents().list("name")
        """
        return self._walk(up=True)

    def query_children(self) -> Any:
        """All descendants (children, their children, ...) as a QuerySet.

        Example:
            >>> neuron.query_children().df()
        """
        return self._walk(up=False)

    def view_parents(
        self,
        field: str | None = None,
        with_children: bool = False,
        distance: int = 5,
        **kwargs: Any,
    ) -> Any:
        """Draw the parents (and with ``with_children`` the children) of the record.

        Args:
            field: The field labelling nodes (default: the name field).
            with_children: Also draw the children.
            distance: Steps to walk in each direction.
            **kwargs: ``filename=`` or ``return_graph=True``.

        Example:
            >>> new_cell_state.view_parents(distance=2)
        """
        from lamin_sa.lineage import view_parents

        return view_parents(self, field, with_children, distance, **kwargs)


def _short_table(table_name: str) -> str:
    from lamin_sa.modules import module_for_table

    module = module_for_table(table_name)
    if module is not None:
        return table_name[len(module.table_prefix) :]
    return table_name.split("_", 1)[-1]
