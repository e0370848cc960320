"""User: who created a record (``core_user``)."""

from __future__ import annotations

from sqlalchemy import (
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from lamin_sa.models.mixins import (
    CanValidate,
    CreatedAt,
    TracksUpdates,
)
from lamin_sa.models.record import Record


class User(CanValidate, CreatedAt, TracksUpdates, Record):
    """A user (local identity; ``lamin-sa login HANDLE``)."""

    __tablename__ = "core_user"
    _len_uid = 8
    _name_field = "handle"
    _required = ("handle",)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(8), unique=True, index=True)
    handle: Mapped[str] = mapped_column(String(30), unique=True, index=True)
    name: Mapped[str | None] = mapped_column(String(150), index=True)


__all__ = ["User"]
