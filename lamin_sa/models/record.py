"""The behaviour every registry shares: construction, saving, repr, related records.

Model methods stay thin: queries go through :mod:`lamin_sa.query`, bulk saves through
:mod:`lamin_sa.models.save`. Upper layers are imported inside methods so that the
layering (db → models → query → services) holds at import time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, ClassVar, Self

from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import (
    RelationshipDirection,
    Session,
    collections,
    object_session,
)
from sqlalchemy.orm.attributes import set_committed_value

from lamin_sa.db.base import Base
from lamin_sa.db.context import FOREIGN_CONTEXT
from lamin_sa.db.uid import base62, hash_to_uid
from lamin_sa.errors import FieldError, NotSavedError
from lamin_sa.models.signature import InitSignature
from lamin_sa.query.queryset import QuerySet

logger = logging.getLogger(__name__)


def format_value(value: Any) -> str:
    """Render a field value the way reprs show it."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S UTC")
    return repr(value)


class RecordQuerySet(QuerySet):
    """The QuerySet of a registry: the generic one plus ``lookup`` and ``search``."""

    __slots__ = ()

    def lookup(self, field: Any = None, return_field: Any = None) -> Any:
        """Attribute access to these records by a field's values.

        See :meth:`lamin_sa.models.mixins.CanValidate.lookup`.
        """
        from lamin_sa.curate import lookup_records as lookup

        return lookup(self, field, return_field)

    def search(self, string: str, **kwargs: Any) -> QuerySet:
        """These records ranked by how well they match ``string``.

        See :meth:`lamin_sa.models.mixins.CanValidate.search`.
        """
        from lamin_sa.curate import search_records as search

        return search(self, string, **kwargs)


class Record(Base):
    """A registry: a model class with Django-like query and save methods.

    Constructors take keyword arguments only. Unknown fields and missing required
    fields raise clear errors; the database is not queried until ``save()``.
    """

    __abstract__ = True

    #: uid length; 0 means the registry has no uid.
    _len_uid: ClassVar[int] = 0
    #: length of the uid stem shared by versions (versioned registries only).
    _len_stem_uid: ClassVar[int] = 0
    #: the default field for lookup/search/validate and name-based dedup.
    _name_field: ClassVar[str | None] = "name"
    #: fields that identify a stored record besides unique columns (save-time
    #: dedup: a new record with a stored natural key becomes the stored record).
    _natural_key: ClassVar[tuple[str, ...] | None] = None
    #: fields that must be passed to the constructor.
    _required: ClassVar[tuple[str, ...]] = ()
    #: fields the constructor does not accept.
    _private_fields: ClassVar[frozenset[str]] = frozenset({"id"})
    #: the QuerySet class of the registry (``Model.filter()`` returns one).
    _queryset_class: ClassVar[type] = RecordQuerySet
    #: fields whose first given value makes a deterministic uid (base62 of its
    #: md5), e.g. ``("ontology_id", "name")``; empty: random uids.
    uid_from_fields: ClassVar[tuple[str, ...]] = ()
    #: the real keyword arguments for ``inspect.signature``, ``help()``, Shift-Tab
    __signature__ = InitSignature()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        cls = type(self)
        if args:
            raise ValueError(
                f"{cls.__name__}: please provide keyword arguments, not plain "
                f"arguments (got {len(args)} positional)."
            )
        allowed = cls._init_fields()
        unknown = [k for k in kwargs if k not in allowed]
        if unknown:
            raise FieldError(
                f"{cls.__name__} got unknown field(s) {unknown}; valid keyword "
                f"arguments are: {', '.join(sorted(allowed))}."
            )
        missing = [
            f
            for f in cls._required
            if kwargs.get(f) is None and kwargs.get(f"{f}_id") is None
        ]
        if missing:
            raise TypeError(f"{cls.__name__}: {missing} are required.")
        if cls._len_uid and kwargs.get("uid") is None:
            seed = next(
                (kwargs[f] for f in cls.uid_from_fields if kwargs.get(f) is not None),
                None,
            )
            if seed is not None:
                kwargs["uid"] = hash_to_uid(str(seed), cls._len_uid)
            else:
                kwargs["uid"] = base62(cls._len_uid)
                # a fresh random uid cannot be stored already: skip that dedup check
                self.__dict__["_lamin_auto_uid"] = True
        to_one = cls._to_one_columns()
        for key, value in kwargs.items():
            pairs = to_one.get(key)
            if pairs and value is not None and sa_inspect(value).has_identity:
                # A stored record: set the key columns and the loaded value without
                # the backref event, which would queue self on the stored record's
                # reverse collection before self is in a session (SQLAlchemy warns).
                for local, remote in pairs:
                    setattr(self, local, getattr(value, remote))
                set_committed_value(self, key, value)
            else:
                setattr(self, key, value)

    @classmethod
    def _to_one_columns(cls) -> dict[str, tuple[tuple[str, str], ...]]:
        """Writable to-one relationships: name -> (local key, remote key) pairs."""
        cached = cls.__dict__.get("_to_one_cache")
        if cached is None:
            mapper = sa_inspect(cls)
            cached = {
                r.key: tuple(
                    (
                        mapper.get_property_by_column(local).key,
                        r.mapper.get_property_by_column(remote).key,
                    )
                    for local, remote in r.local_remote_pairs
                )
                for r in mapper.relationships
                if r.direction is RelationshipDirection.MANYTOONE and not r.viewonly
            }
            cls._to_one_cache = cached  # type: ignore[attr-defined]
        return cached

    @classmethod
    def _init_fields(cls) -> frozenset[str]:
        cached = cls.__dict__.get("_init_fields_cache")
        if cached is None:
            mapper = sa_inspect(cls)
            names = {c.key for c in mapper.column_attrs}
            names |= {
                r.key
                for r in mapper.relationships
                if r.direction is RelationshipDirection.MANYTOONE and not r.viewonly
            }
            cached = frozenset(names - cls._private_fields)
            cls._init_fields_cache = cached  # type: ignore[attr-defined]
        return cached

    # ---- identity -------------------------------------------------------------

    @classmethod
    def module_name(cls) -> str:
        """The schema module owning the registry (by its table prefix), e.g. ``core``.

        A table no registered module claims falls back to its name up to the
        first ``_``.

        Example:
            >>> bt.CellType.module_name()
            'bionty'
        """
        cached = cls.__dict__.get("_lamin_module_name")
        if cached is None:
            from lamin_sa.modules import module_for_table

            table = cls.__table__.name  # type: ignore[attr-defined]
            module = module_for_table(table)
            cached = module.name if module is not None else table.split("_", 1)[0]
            cls._lamin_module_name = cached  # type: ignore[attr-defined]
        return cached

    @classmethod
    def check_usable(cls) -> None:
        """Raise unless the registry's module is mounted on the active instance.

        Called before every query of the registry.

        Raises:
            ModuleNotMounted: the message names the command that mounts it.

        Example:
            >>> bt.CellType.check_usable()  # raises unless bionty is mounted
        """
        if cls.module_name() != "core":
            from lamin_sa.models.registry import require_mounted

            require_mounted(cls)

    @classmethod
    def registry_name(cls) -> str:
        """``<module>.<Class>`` (core: no prefix), as used in ``Feature.dtype``.

        Example:
            >>> bt.CellType.registry_name()
            'bionty.CellType'
        """
        module = cls.module_name()
        return cls.__name__ if module == "core" else f"{module}.{cls.__name__}"

    @property
    def is_saved(self) -> bool:
        """Whether the record is stored in the database."""
        state = sa_inspect(self)
        return state.persistent or state.detached

    # ---- saving ---------------------------------------------------------------

    def save(self) -> Self:
        """Insert or update the record and return it.

        A new record whose unique name (or uid) is already stored becomes that
        stored record, with a warning.

        Example:
            >>> candidate_marker_study = ln.ULabel(name="Candidate marker study").save()
        """
        if self.is_foreign:
            return self._transfer()
        from lamin_sa.models.save import save_records

        type(self).check_usable()
        save_records([self])
        return self

    @classmethod
    def _after_insert(cls, session: Session, records: list[Any]) -> None:
        """Write what new ``records`` bring along, in their save's transaction.

        Every save path (``record.save()``, ``ln.save()``) calls this once per
        registry with the records that were new, after they are inserted and
        before the commit; an error rolls the whole save back. The default does
        nothing; a schema module overrides it to add related rows in bulk (bionty
        saves the ancestor chains of records from a public source).

        Args:
            session: The session of the save, inside its transaction.
            records: The registry's records that were new in this save (some may
                have become stored records with the same identity).

        Example:
            >>> class Thing(L.Record):  # doctest: +SKIP
            ...     @classmethod
            ...     def _after_insert(cls, session, records):
            ...         session.execute(insert(audit), [{"id": r.id} for r in records])
        """

    @property
    def is_foreign(self) -> bool:
        """Whether the record was read from another instance with ``using()``."""
        session = object_session(self)
        return session is not None and FOREIGN_CONTEXT in session.info

    def _transfer(self) -> Self:
        # Saving a record of another instance copies it into the connected one.
        from lamin_sa import exchange

        return exchange.save_foreign(self)  # type: ignore[no-any-return]

    def delete(self) -> None:
        """Delete the record from the database.

        Example:
            >>> ln.ULabel.get(name="tmp").delete()
        """
        from lamin_sa.models.save import delete_records

        delete_records([self])

    @classmethod
    def bulk_delete(cls, records: list[Any], **kwargs: Any) -> None:
        """Delete records in one transaction (per record if ``delete`` is overridden).

        Registries that override ``delete()`` (to trash first, remove files, ...)
        get it called per record.

        Example:
            >>> ln.ULabel.bulk_delete(ln.ULabel.filter(name__startswith="tmp").list())
        """
        if cls.delete is not Record.delete:
            for record in records:
                record.delete(**kwargs)
            return
        from lamin_sa.models.save import delete_records

        delete_records(records)

    # ---- queries (class level) ------------------------------------------------

    @classmethod
    def using(cls, instance: str) -> QuerySet:
        """Query another instance (name, database URL or storage folder), read-only.

        Saving a record read this way transfers it into the connected instance
        with what it needs (labels, features, feature sets, storage location) and
        returns the transferred record.

        Example:
            >>> remote = ln.Artifact.using("other-lab").get(key="raw/a.csv")
            >>> local = remote.save()  # doctest: +SKIP
        """
        from lamin_sa import exchange

        return exchange.using(cls, instance)  # type: ignore[no-any-return]

    @classmethod
    def filter(cls, *queries: Any, **expressions: Any) -> QuerySet:
        """Query records with Django-style lookups, e.g. ``name__icontains="x"``.

        Example:
            >>> ln.Artifact.filter(description="my RNA-seq").df()
            >>> ln.Artifact.filter(transform__name="Introduction").all()
        """
        from lamin_sa.query.queryset import QuerySet

        return QuerySet(cls).filter(*queries, **expressions)

    @classmethod
    def exclude(cls, *queries: Any, **expressions: Any) -> QuerySet:
        """Query records that do not match the lookups.

        Example:
            >>> ln.ULabel.exclude(name="DMSO").list("name")
        """
        from lamin_sa.query.queryset import QuerySet

        return QuerySet(cls).exclude(*queries, **expressions)

    @classmethod
    def all(cls) -> QuerySet:
        """All records (for Artifact and Collection: all visible ones).

        Example:
            >>> ln.ULabel.all().df()
        """
        return cls.filter()

    @classmethod
    def get(cls, idlike: int | str | None = None, **expressions: Any) -> Self:
        """Get one record by id, uid, uid prefix or field lookups.

        For versioned registries a uid stem or prefix gives the latest version.

        Raises:
            NoResultFound: nothing matches.
            MultipleResultsFound: several records match.

        Example:
            >>> transform = ln.Transform.get("FPnfDtJz8qbE")
            >>> label = ln.ULabel.get(name="DMSO")
        """
        from lamin_sa.query.queryset import QuerySet

        return QuerySet(cls).get(idlike, **expressions)

    @classmethod
    def df(cls, include: str | list[str] | None = None, **kwargs: Any) -> Any:
        """A pandas DataFrame of the registry, newest first, indexed by id.

        Example:
            >>> ln.ULabel.df()
            >>> ln.ULabel.df(include=["parents__name"])
        """
        from lamin_sa.query.queryset import QuerySet

        return QuerySet(cls).df(include=include, **kwargs)

    # ---- rendering ------------------------------------------------------------

    def _repr_fields(self) -> list[tuple[str, Any]]:
        state = sa_inspect(self)
        mapper = state.mapper
        # a stored record shows its stored values (one refresh if some expired)
        loaded = (
            self.__dict__ if state.transient or not state.expired_attributes else None
        )
        fks: list[tuple[str, Any]] = []
        plain: list[tuple[str, Any]] = []
        for attr in mapper.column_attrs:
            key = attr.key
            if key in ("id", "created_at"):
                continue
            value = loaded.get(key) if loaded is not None else getattr(self, key)
            if value is None:
                continue
            (fks if attr.columns[0].foreign_keys else plain).append((key, value))
        return plain + fks

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={format_value(v)}" for k, v in self._repr_fields())
        return f"{type(self).__name__}({fields})"

    def _repr_html_(self) -> str:
        """A compact field/value table (how Jupyter shows a record).

        Example:
            >>> ln.ULabel(name="DMSO")._repr_html_()  # doctest: +SKIP
            '<div><div><b>ULabel</b></div><table ...'
        """
        from lamin_sa.display import fields_html

        fields = {
            k: v.strftime("%Y-%m-%d %H:%M:%S UTC") if isinstance(v, datetime) else v
            for k, v in self._repr_fields()
        }
        return fields_html(type(self).__name__, fields)

    def describe(self, return_str: bool = False) -> str | None:
        """Show the record with its Provenance, Features and Labels blocks.

        Like pandas' ``info()``: prints in a terminal or script, renders as
        HTML in Jupyter (also mid-cell), and returns None.

        Args:
            return_str: Return the text instead of showing it.

        Returns:
            The text with ``return_str=True``, else None.

        Example:
            >>> artifact.describe()  # doctest: +SKIP
            Artifact(uid='m45sfXfMutX9IZ2JQoRk', suffix='.parquet', ...)
            <BLANKLINE>
            Provenance:
              📎 transform: Transform(version='1', uid='FPnfDtJz8qbE5zKv', ...)
            >>> text = artifact.describe(return_str=True)  # doctest: +SKIP
        """
        import lamin_sa.curate as curate  # the facade (describe is a curate service)
        from lamin_sa.display import describe_html, show

        text = str(curate.describe(self))
        if return_str:
            return text
        show(text, describe_html(text))
        return None


class RelatedRecords:
    """A to-many relationship on a record, with Django related-manager methods.

    It iterates and indexes like a list of the loaded records; ``add``, ``remove``
    and ``clear`` write to the database at once; ``all``, ``filter``, ``df``,
    ``list`` and ``count`` query it.
    """

    # behaves as a list for SQLAlchemy (assigning a list works) despite add()
    __emulates__ = list

    def __init__(self, items: Iterable[Any] = ()) -> None:
        self._items: list[Any] = list(items)

    # SQLAlchemy's own collection protocol (never called by users).
    @collections.collection.appender
    def _sa_add(self, item: Any) -> None:
        self._items.append(item)

    @collections.collection.remover
    def _sa_discard(self, item: Any) -> None:
        self._items.remove(item)

    @collections.collection.iterator
    def __iter__(self) -> Iterator[Any]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: int) -> Any:
        return self._items[index]

    def __contains__(self, item: object) -> bool:
        return item in self._items

    def __bool__(self) -> bool:
        return bool(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RelatedRecords):
            return self._items == other._items
        if isinstance(other, list):
            return self._items == other
        return NotImplemented

    def __repr__(self) -> str:
        return repr(self._items)

    # ---- manager API ----------------------------------------------------------

    def _owner_and_key(self) -> tuple[Any, str]:
        adapter = getattr(self, "_sa_adapter", None)
        if adapter is None:
            raise NotSavedError("This collection is not attached to a record.")
        return adapter.owner_state.obj(), adapter.attr.key

    def add(self, *records: Any, **link_fields: Any) -> None:
        """Link records (saved ones) to the owner and store the links at once.

        Example:
            >>> artifact.ulabels.add(candidate_marker_study)
        """
        from lamin_sa.models.related import add_related

        owner, key = self._owner_and_key()
        add_related(owner, key, _flatten(records), link_fields)

    def remove(self, *records: Any) -> None:
        """Unlink records from the owner and store that at once.

        Example:
            >>> artifact.ulabels.remove(candidate_marker_study)
        """
        from lamin_sa.models.related import remove_related

        owner, key = self._owner_and_key()
        remove_related(owner, key, _flatten(records))

    def clear(self) -> None:
        """Unlink all records from the owner.

        Example:
            >>> artifact.ulabels.clear()
        """
        self.remove(*self.all())

    # SQLAlchemy wraps remove() and clear() of a list-emulating collection with
    # list semantics (remove(value, initiator), clear() of loaded items only);
    # marked as instrumented, these keep the related manager's meaning
    remove._sa_instrumented = True  # type: ignore[attr-defined]
    clear._sa_instrumented = True  # type: ignore[attr-defined]

    def all(self) -> QuerySet:
        """The related records as a QuerySet.

        Example:
            >>> collection.artifacts.all()
        """
        from lamin_sa.models.related import related_queryset

        owner, key = self._owner_and_key()
        return related_queryset(owner, key)

    def filter(self, *queries: Any, **expressions: Any) -> QuerySet:
        """Filter the related records.

        Example:
            >>> artifact.ulabels.filter(name__startswith="IF").list("name")
        """
        return self.all().filter(*queries, **expressions)

    def exclude(self, *queries: Any, **expressions: Any) -> QuerySet:
        """Exclude from the related records.

        Example:
            >>> artifact.ulabels.exclude(name="DMSO").list("name")
        """
        return self.all().exclude(*queries, **expressions)

    def df(self, include: str | list[str] | None = None, **kwargs: Any) -> Any:
        """The related records as a DataFrame.

        Example:
            >>> collection.artifacts.df()
        """
        return self.all().df(include=include, **kwargs)

    def list(self, field: str | None = None) -> list[Any]:
        """The related records, or one field of them, as a list.

        Example:
            >>> artifact.ulabels.list("name")
        """
        return self.all().list(field)

    def count(self) -> int:
        """The number of related records (one COUNT query).

        Example:
            >>> collection.artifacts.count()
        """
        return self.all().count()

    def first(self) -> Any:
        """The first related record or None.

        Example:
            >>> collection.artifacts.first()
        """
        return self.all().first()

    def exists(self) -> bool:
        """Whether any record is related.

        Example:
            >>> artifact.ulabels.exists()
            True
        """
        return self.all().exists()


def after_insert(session: Session, records: Iterable[Any]) -> None:
    """Call each registry's :meth:`Record._after_insert` with its new records."""
    by_class: dict[type[Record], list[Any]] = {}
    for r in records:
        by_class.setdefault(type(r), []).append(r)
    default = Record._after_insert.__func__  # type: ignore[attr-defined]
    for cls, group in by_class.items():
        if cls._after_insert.__func__ is not default:  # type: ignore[attr-defined]
            cls._after_insert(session, group)


def _flatten(records: Iterable[Any]) -> list[Any]:
    out: list[Any] = []
    for r in records:
        if isinstance(r, list | tuple | set | RelatedRecords) or (
            hasattr(r, "statement") and hasattr(r, "all")
        ):
            out.extend(r)
        else:
            out.append(r)
    return out
