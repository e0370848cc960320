"""Column and relationship mixins shared by the registries (reference §1)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from lamin_sa.db.base import utcnow
from lamin_sa.errors import InstanceNotConnected

if TYPE_CHECKING:
    from lamin_sa.models.core import Run, User


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
    @declared_attr
    def created_by_id(cls) -> Mapped[int]:
        return fk("core_user.id", nullable=False, default=current_user_id)

    @declared_attr
    def created_by(cls) -> Mapped[User]:
        return relationship("User", foreign_keys=[cls.created_by_id])  # type: ignore[list-item]


class TracksRun(CreatedAt, CreatedBy):
    """``created_at``, ``created_by`` and ``run`` (the run that created the record)."""

    #: name of the reverse accessor on Run (None: no reverse accessor).
    _run_backref: ClassVar[str | None] = None

    @declared_attr
    def run_id(cls) -> Mapped[int | None]:
        return fk("core_run.id", default=current_run_id)

    @declared_attr
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
