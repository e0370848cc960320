"""The instance identity row (``core_instance``)."""

from __future__ import annotations

from sqlalchemy import (
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from lamin_sa.models.mixins import (
    CreatedAt,
)
from lamin_sa.models.record import Record


class Instance(CreatedAt, Record):
    """The instance's identity (one row) as stored in its own database."""

    __tablename__ = "core_instance"
    _name_field = "name"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(12), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(150))


__all__ = ["Instance"]
