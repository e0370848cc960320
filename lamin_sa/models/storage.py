"""Storage: a storage location, local folder or bucket prefix (``core_storage``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import (
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lamin_sa.models.links import MANY
from lamin_sa.models.mixins import (
    TracksRun,
    TracksUpdates,
)
from lamin_sa.models.record import Record

if TYPE_CHECKING:
    from lamin_sa.models.artifact import Artifact


class Storage(TracksRun, TracksUpdates, Record):
    """A storage location: a local folder or a bucket prefix."""

    __tablename__ = "core_storage"
    _len_uid = 12
    _name_field = "root"
    _required = ("root",)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(12), unique=True, index=True)
    root: Mapped[str] = mapped_column(String(255), unique=True, index=True)
    description: Mapped[str | None] = mapped_column(String(255), index=True)
    type: Mapped[str] = mapped_column(String(30), index=True, default="local")
    region: Mapped[str | None] = mapped_column(String(64), index=True)
    instance_uid: Mapped[str | None] = mapped_column(String(12), index=True)
    artifacts: Mapped[list[Artifact]] = relationship(back_populates="storage", **MANY)


__all__ = ["Storage"]
