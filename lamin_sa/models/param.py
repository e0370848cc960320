"""Param and ParamValue: run parameters (``core_param``, ``core_paramvalue``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lamin_sa.models.links import MANY, BigId
from lamin_sa.models.mixins import (
    CreatedAt,
    CreatedBy,
    TracksRun,
    TracksUpdates,
    fk,
)
from lamin_sa.models.record import Record

if TYPE_CHECKING:
    from lamin_sa.models.run import Run


class Param(TracksRun, TracksUpdates, Record):
    """A run parameter (``ln.track(params=...)``)."""

    __tablename__ = "core_param"
    _required = ("name", "dtype")
    _natural_key = ("name",)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    dtype: Mapped[str] = mapped_column(String(64), index=True)
    values: Mapped[list[ParamValue]] = relationship(back_populates="param", **MANY)


class ParamValue(CreatedAt, CreatedBy, Record):
    """A value a run used for a parameter."""

    __tablename__ = "core_paramvalue"
    _name_field = None
    _required = ("param",)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    param_id: Mapped[int] = fk("core_param.id", ondelete="CASCADE", nullable=False)
    value: Mapped[Any] = mapped_column(JSON)
    param: Mapped[Param] = relationship(back_populates="values")
    runs: Mapped[list[Run]] = relationship(
        secondary="core_run_paramvalue", back_populates="param_values", **MANY
    )


__all__ = ["Param", "ParamValue"]
