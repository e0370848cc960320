"""ULabel: universal labels (``core_ulabel``) with parents."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import (
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lamin_sa.models.links import MANY, VIEW, link_table
from lamin_sa.models.mixins import (
    CanValidate,
    TracksRun,
    TracksUpdates,
)
from lamin_sa.models.record import Record

if TYPE_CHECKING:
    from lamin_sa.models.artifact import Artifact, ArtifactULabel
    from lamin_sa.models.collection import Collection, CollectionULabel
    from lamin_sa.models.transform import Transform


ulabel_parent = link_table(
    "core_ulabel_parent",
    from_ulabel_id=("core_ulabel.id", "CASCADE"),
    to_ulabel_id=("core_ulabel.id", "CASCADE"),
)


class ULabel(CanValidate, TracksRun, TracksUpdates, Record):
    """A universal label: a tag, a category, anything without its own registry."""

    __tablename__ = "core_ulabel"
    _len_uid = 8
    _required = ("name",)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(8), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(150), unique=True, index=True)
    description: Mapped[str | None] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(String(255), index=True)
    reference_type: Mapped[str | None] = mapped_column(String(25), index=True)
    parents: Mapped[list[ULabel]] = relationship(
        secondary=ulabel_parent,
        primaryjoin=lambda: ULabel.id == ulabel_parent.c.from_ulabel_id,
        secondaryjoin=lambda: ULabel.id == ulabel_parent.c.to_ulabel_id,
        back_populates="children",
        **MANY,
    )
    children: Mapped[list[ULabel]] = relationship(
        secondary=ulabel_parent,
        primaryjoin=lambda: ULabel.id == ulabel_parent.c.to_ulabel_id,
        secondaryjoin=lambda: ULabel.id == ulabel_parent.c.from_ulabel_id,
        back_populates="parents",
        **MANY,
    )
    transforms: Mapped[list[Transform]] = relationship(
        secondary="core_transform_ulabel", back_populates="ulabels", **MANY
    )
    artifact_links: Mapped[list[ArtifactULabel]] = relationship(
        back_populates="ulabel", **MANY
    )
    collection_links: Mapped[list[CollectionULabel]] = relationship(
        back_populates="ulabel", **MANY
    )
    artifacts: Mapped[list[Artifact]] = relationship(
        secondary="core_artifact_ulabel", **VIEW
    )
    collections: Mapped[list[Collection]] = relationship(
        secondary="core_collection_ulabel", **VIEW
    )


__all__ = ["ULabel"]
