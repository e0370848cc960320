"""The schema modules mounted on an instance (``core_module``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from lamin_sa.db.base import utcnow
from lamin_sa.models.record import Record


class Module(Record):
    """A schema module mounted on the instance (core, bionty, wetlab, ...)."""

    __tablename__ = "core_module"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    mounted_at: Mapped[datetime] = mapped_column(default=utcnow)


__all__ = ["Module"]
