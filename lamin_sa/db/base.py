"""The one declarative base and the MetaData that lamin-sa owns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, declared_attr
from sqlalchemy.orm.base import opt_manager_of_class
from sqlalchemy.types import TypeDecorator

# Named constraints from the first revision on: SQLite batch migrations can only drop
# constraints that have names, and Postgres limits names to 63 characters.
MAX_NAME = 63


def fit_name(name: str) -> str:
    """A constraint name cut to Postgres' 63 characters with a stable hash suffix."""
    if len(name) <= MAX_NAME:
        return name
    import hashlib

    digest = hashlib.md5(name.encode()).hexdigest()[:8]
    return f"{name[: MAX_NAME - 9]}_{digest}"


def _fk_name(constraint: Any, table: Any) -> str:
    column = constraint.columns[0] if constraint.columns else None
    referred = constraint.elements[0].target_fullname.split(".")[0]
    key = column.name if column is not None else constraint.elements[0].parent.name
    return fit_name(f"fk_{table.name}_{key}_{referred}")


def _uq_name(constraint: Any, table: Any) -> str:
    columns = "_".join(c.name for c in constraint.columns)
    return fit_name(f"uq_{table.name}_{columns}")


def _ix_name(index: Any, table: Any) -> str:
    return fit_name(f"ix_{table.name}_{index.columns[0].name}")


# Names longer than Postgres' limit (module tables: ``bionty_artifact_
# experimentalfactor``) get a hash suffix; shorter ones keep the plain pattern.
NAMING_CONVENTION: dict[str, Any] = {
    "ix_name": _ix_name,
    "uq_name": _uq_name,
    "fk_name": _fk_name,
    "ix": "%(ix_name)s",
    "uq": "%(uq_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "%(fk_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend.

    SQLite has no timezone type, so values are stored as naive UTC and handed back
    aware; Postgres stores ``timestamptz``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def bind_processor(self, dialect: Any) -> Any:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        # SQLite stores text; one C-level isoformat is much faster than the
        # generic two-step conversion (this runs for every row of a bulk save).
        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            if value.tzinfo is not None:
                value = value.astimezone(UTC).replace(tzinfo=None)
            return value.isoformat(" ", timespec="microseconds")

        return process

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        def process(value: str | None) -> datetime | None:
            if value is None:
                return None
            return datetime.fromisoformat(value).replace(tzinfo=UTC)

        return process

    def process_result_value(self, value: datetime | None, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base of every lamin-sa model (core and modules)."""

    metadata = metadata
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        Any: JSON(),
        str: String(255),
        int: BigInteger().with_variant(BigInteger(), "postgresql"),
    }


__all__ = ["Base", "metadata", "NAMING_CONVENTION", "UTCDateTime", "utcnow", "Text"]


class mixin_attr(declared_attr[Any]):
    """``declared_attr`` for mixins that stays quiet when read from the mixin itself.

    SQLAlchemy warns ("Unmanaged access of declarative attribute") whenever a
    declared attribute is read from a class that is not mapped, which
    ``help(ln.Artifact)`` and other introspection do for every mixin in the MRO.
    Read from an unmapped class, this returns the descriptor instead.

    Example:
        >>> class HasOwner:  # doctest: +SKIP
        ...     @mixin_attr
        ...     def owner_id(cls) -> Mapped[int]:
        ...         return fk("core_user.id")
    """

    def __get__(self, instance: object | None, owner: Any) -> Any:
        if opt_manager_of_class(owner) is None:
            return self
        return super().__get__(instance, owner)
