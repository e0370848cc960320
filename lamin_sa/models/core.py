"""Core registries (reference §1), tables prefixed ``core_``.

Each registry lives in its own file (``lamin_sa.models.artifact``, ...); this
module re-exports them all, so ``from lamin_sa.models.core import Artifact`` keeps
working, as do the link tables and the relationship options of earlier versions.
"""

from __future__ import annotations

from lamin_sa.models.artifact import (
    Artifact,
    ArtifactFeatureSet,
    ArtifactFeatureValue,
    ArtifactULabel,
)
from lamin_sa.models.collection import (
    Collection,
    CollectionArtifact,
    CollectionFeatureSet,
    CollectionULabel,
)
from lamin_sa.models.feature import Feature, FeatureValue
from lamin_sa.models.feature_set import FeatureSet, featureset_feature
from lamin_sa.models.instance_record import Instance
from lamin_sa.models.links import MANY, OWNED, VIEW, BigId, LinkRecord
from lamin_sa.models.module_record import Module
from lamin_sa.models.param import Param, ParamValue
from lamin_sa.models.run import (
    Run,
    artifact_input,
    artifact_previous_run,
    collection_input,
    collection_previous_run,
    run_paramvalue,
)
from lamin_sa.models.storage import Storage
from lamin_sa.models.transform import Transform, transform_parent, transform_ulabel
from lamin_sa.models.ulabel import ULabel, ulabel_parent
from lamin_sa.models.user import User

__all__ = [
    "Instance",
    "Module",
    "User",
    "Storage",
    "Transform",
    "Run",
    "Param",
    "ParamValue",
    "ULabel",
    "Feature",
    "FeatureValue",
    "FeatureSet",
    "Artifact",
    "Collection",
    "ArtifactULabel",
    "CollectionULabel",
    "ArtifactFeatureSet",
    "CollectionFeatureSet",
    "CollectionArtifact",
    "ArtifactFeatureValue",
]

# Names kept importable from here for code written against one big module.
_COMPAT = (
    MANY,
    OWNED,
    VIEW,
    BigId,
    LinkRecord,
    artifact_input,
    artifact_previous_run,
    collection_input,
    collection_previous_run,
    featureset_feature,
    run_paramvalue,
    transform_parent,
    transform_ulabel,
    ulabel_parent,
)
