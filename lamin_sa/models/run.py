"""Run: one execution of a transform (``core_run``) and the run link tables."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lamin_sa.db.base import utcnow
from lamin_sa.models.links import MANY, BigId, link_table
from lamin_sa.models.mixins import (
    current_user_id,
    fk,
)
from lamin_sa.models.record import Record

if TYPE_CHECKING:
    from lamin_sa.models.artifact import Artifact
    from lamin_sa.models.collection import Collection
    from lamin_sa.models.param import ParamValue
    from lamin_sa.models.transform import Transform
    from lamin_sa.models.user import User


run_paramvalue = link_table(
    "core_run_paramvalue",
    run_id=("core_run.id", "CASCADE"),
    paramvalue_id=("core_paramvalue.id", "RESTRICT"),
)


artifact_input = link_table(
    "core_artifact_input",
    artifact_id=("core_artifact.id", "CASCADE"),
    run_id=("core_run.id", "CASCADE"),
)


collection_input = link_table(
    "core_collection_input",
    collection_id=("core_collection.id", "CASCADE"),
    run_id=("core_run.id", "CASCADE"),
)


artifact_previous_run = link_table(
    "core_artifact_previous_run",
    artifact_id=("core_artifact.id", "CASCADE"),
    run_id=("core_run.id", "CASCADE"),
)


collection_previous_run = link_table(
    "core_collection_previous_run",
    collection_id=("core_collection.id", "CASCADE"),
    run_id=("core_run.id", "CASCADE"),
)


class Run(Record):
    """One execution of a transform."""

    __tablename__ = "core_run"
    _len_uid = 20
    _name_field = "started_at"
    _required = ("transform",)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    uid: Mapped[str] = mapped_column(String(20), unique=True, index=True)
    transform_id: Mapped[int] = fk(
        "core_transform.id", ondelete="CASCADE", nullable=False
    )
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    is_consecutive: Mapped[bool | None] = mapped_column(Boolean)
    reference: Mapped[str | None] = mapped_column(String(255), index=True)
    reference_type: Mapped[str | None] = mapped_column(String(25), index=True)
    report_id: Mapped[int | None] = fk("core_artifact.id", use_alter=True)
    environment_id: Mapped[int | None] = fk("core_artifact.id", use_alter=True)
    created_by_id: Mapped[int] = fk(
        "core_user.id", ondelete="CASCADE", nullable=False, default=current_user_id
    )
    transform: Mapped[Transform] = relationship(back_populates="runs")
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    report: Mapped[Artifact | None] = relationship(
        foreign_keys=[report_id], back_populates="report_of"
    )
    environment: Mapped[Artifact | None] = relationship(
        foreign_keys=[environment_id], back_populates="environment_of"
    )
    param_values: Mapped[list[ParamValue]] = relationship(
        secondary=run_paramvalue, back_populates="runs", **MANY
    )
    input_artifacts: Mapped[list[Artifact]] = relationship(
        secondary=artifact_input, back_populates="input_of", **MANY
    )
    input_collections: Mapped[list[Collection]] = relationship(
        secondary=collection_input, back_populates="input_of", **MANY
    )
    output_artifacts: Mapped[list[Artifact]] = relationship(
        back_populates="run", foreign_keys="Artifact.run_id", **MANY
    )
    output_collections: Mapped[list[Collection]] = relationship(
        back_populates="run", foreign_keys="Collection.run_id", **MANY
    )
    output_artifacts_with_later_updates: Mapped[list[Artifact]] = relationship(
        secondary=artifact_previous_run, back_populates="previous_runs", **MANY
    )
    output_collections_with_later_updates: Mapped[list[Collection]] = relationship(
        secondary=collection_previous_run, back_populates="previous_runs", **MANY
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Create a run of a saved transform: ``Run(transform, reference=None)``.

        Example:
            >>> run = ln.Run(transform).save()  # doctest: +SKIP
        """
        if len(args) == 1 and "transform" not in kwargs:
            kwargs["transform"] = args[0]
            args = ()
        if kwargs.get("transform") is None and kwargs.get("transform_id") is None:
            raise TypeError("Pass transform parameter")
        transform = kwargs.get("transform")
        if transform is not None and transform.id is None:
            raise ValueError("Please save transform record before creating a run")
        super().__init__(*args, **kwargs)

    def view_lineage(self, **kwargs: Any) -> Any:
        """Draw the data this run used and made, and the runs before and after.

        Args:
            **kwargs: ``filename=`` (svg/png/pdf/dot) or ``return_graph=True``
                (see :func:`lamin_sa.lineage.graph.view_lineage`).

        Example:
            >>> ln.Run.get(uid).view_lineage()
        """
        from lamin_sa.lineage import view_lineage

        return view_lineage(self, **kwargs)

    @property
    def lineage(self) -> Any:
        """Up- and downstream data, runs and transforms as recursive SQL.

        ``run.lineage.ancestors().artifacts()``, ``.descendants().runs()``...
        """
        from lamin_sa.lineage import LineageAccessor

        return LineageAccessor(self)


__all__ = ["Run"]
