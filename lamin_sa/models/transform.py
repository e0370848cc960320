"""Transform: code that makes data (``core_transform``) and its link tables."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lamin_sa.models.links import MANY, link_table
from lamin_sa.models.mixins import (
    CreatedAt,
    CreatedBy,
    IsVersioned,
    TracksUpdates,
    fk,
)
from lamin_sa.models.record import Record

if TYPE_CHECKING:
    from lamin_sa.models.artifact import Artifact
    from lamin_sa.models.collection import Collection
    from lamin_sa.models.run import Run
    from lamin_sa.models.ulabel import ULabel


transform_parent = link_table(
    "core_transform_parent",
    from_transform_id=("core_transform.id", "CASCADE"),
    to_transform_id=("core_transform.id", "CASCADE"),
)


transform_ulabel = link_table(
    "core_transform_ulabel",
    transform_id=("core_transform.id", "CASCADE"),
    ulabel_id=("core_ulabel.id", "RESTRICT"),
)


class Transform(CreatedAt, CreatedBy, TracksUpdates, IsVersioned, Record):
    """Code that makes data: a notebook, script, pipeline or function."""

    __tablename__ = "core_transform"
    _len_uid = 16
    _len_stem_uid = 12
    _natural_key = ("name", "key", "version")
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(16), unique=True, index=True)
    name: Mapped[str | None] = mapped_column(String(150), index=True)
    key: Mapped[str | None] = mapped_column(String(120), index=True)
    description: Mapped[str | None] = mapped_column(String(255), index=True)
    type: Mapped[str] = mapped_column(String(20), index=True, default="pipeline")
    reference: Mapped[str | None] = mapped_column(String(255), index=True)
    reference_type: Mapped[str | None] = mapped_column(String(25), index=True)
    source_code_id: Mapped[int | None] = fk("core_artifact.id", use_alter=True)
    latest_report_id: Mapped[int | None] = fk("core_artifact.id", use_alter=True)
    source_code: Mapped[Artifact | None] = relationship(
        foreign_keys=[source_code_id], back_populates="source_code_of"
    )
    latest_report: Mapped[Artifact | None] = relationship(
        foreign_keys=[latest_report_id], back_populates="latest_report_of"
    )
    parents: Mapped[list[Transform]] = relationship(
        secondary=transform_parent,
        primaryjoin=lambda: Transform.id == transform_parent.c.from_transform_id,
        secondaryjoin=lambda: Transform.id == transform_parent.c.to_transform_id,
        back_populates="children",
        **MANY,
    )
    children: Mapped[list[Transform]] = relationship(
        secondary=transform_parent,
        primaryjoin=lambda: Transform.id == transform_parent.c.to_transform_id,
        secondaryjoin=lambda: Transform.id == transform_parent.c.from_transform_id,
        back_populates="parents",
        **MANY,
    )
    ulabels: Mapped[list[ULabel]] = relationship(
        secondary=transform_ulabel, back_populates="transforms", **MANY
    )
    runs: Mapped[list[Run]] = relationship(back_populates="transform", **MANY)
    output_artifacts: Mapped[list[Artifact]] = relationship(
        back_populates="transform", foreign_keys="Artifact.transform_id", **MANY
    )
    output_collections: Mapped[list[Collection]] = relationship(
        back_populates="transform", foreign_keys="Collection.transform_id", **MANY
    )

    @property
    def latest_run(self) -> Run | None:
        """The most recently started run of this transform."""
        from lamin_sa.models.run import Run

        return Run.filter(transform=self).order_by("-started_at").first()

    def view_parents(
        self,
        field: str | None = None,
        with_children: bool = False,
        distance: int = 5,
        **kwargs: Any,
    ) -> Any:
        """Draw the transforms this one used data from (``parents``).

        Args:
            field: The field labelling nodes (default: key, else name).
            with_children: Also draw the transforms that used its data.
            distance: Steps to walk in each direction.
            **kwargs: ``filename=`` (svg/png/pdf/dot) or ``return_graph=True``
                (see :func:`lamin_sa.lineage.graph.view_parents`).

        Example:
            >>> transform.view_parents()
        """
        from lamin_sa.lineage import view_parents

        return view_parents(self, field, with_children, distance, **kwargs)

    def delete(self) -> None:
        """Delete the transform, its runs and their hidden artifacts permanently.

        See :func:`lamin_sa.lineage.delete_transform`; outputs of its runs are
        never deleted (they block the deletion instead).

        Raises:
            NotSavedError: The transform is not saved.
            IntegrityError: Records created by its runs still exist.

        Example:
            >>> ln.Transform.get("FPnfDtJz8qbE").delete()
        """
        from lamin_sa.lineage import delete_transform

        delete_transform(self)


__all__ = ["Transform"]
