"""wetlab's links to artifacts (label registries with a ``feature_id``)."""

from __future__ import annotations

from lamin_sa.models import links as L
from lamin_sa.models.core import Artifact
from lamin_sa.wetlab.models import ACCESSORS

#: registry → its Artifact link record (``ArtifactBiosample``, ...).
ARTIFACT_LINKS: dict[type, type] = {
    model: L.link_model(
        Artifact,
        model,
        host_accessor=accessor,
        target_accessor="artifacts",
        feature=True,
    )
    for model, accessor in ACCESSORS.items()
}

__all__ = ["ARTIFACT_LINKS"]
