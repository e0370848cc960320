"""``my_lab`` registries: Thing, linked to artifacts with a feature."""

from __future__ import annotations

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lamin_sa.models import links as L
from lamin_sa.models.core import Artifact


class Thing(L.CanValidate, L.TracksRun, L.TracksUpdates, L.Record):
    """Something a lab keeps track of."""

    __tablename__ = "my_lab_thing"
    _len_uid = 8
    _required = ("name",)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(8), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(150), unique=True, index=True)
    synonyms: Mapped[str | None] = mapped_column(Text)


ArtifactThing = L.link_model(
    Artifact, Thing, host_accessor="things", target_accessor="artifacts", feature=True
)
