"""Validation, standardization, search and features (reference §1 and §4).

Registries expose this through :class:`lamin_sa.models.mixins.CanValidate` and
QuerySet methods. The submodules take a registry class or a QuerySet:
:mod:`lamin_sa.curate.validate` (validate, inspect, standardize, from_values),
:mod:`~lamin_sa.curate.values` (scope and value helpers),
:mod:`~lamin_sa.curate.lookup`, :mod:`~lamin_sa.curate.synonyms`,
:mod:`lamin_sa.curate.search` (ranked search) and
:mod:`lamin_sa.curate.features` (Feature dtypes, FeatureSet).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lamin_sa.curate.describe import describe
from lamin_sa.curate.lookup import Lookup
from lamin_sa.curate.validate import InspectResult

if TYPE_CHECKING:
    # lazy names that the models module reaches inside an import cycle, where a
    # type checker cannot see through __getattr__
    from lamin_sa.curate.lookup import lookup as lookup_records  # noqa: F401
    from lamin_sa.curate.search import search as search_records  # noqa: F401

__all__ = ["InspectResult", "Lookup", "describe"]

# What model methods call, imported on first use (``import lamin_sa`` stays light
# and no import cycle forms): name -> (submodule, attribute).
_LAZY: dict[str, tuple[str, str]] = {
    "FeatureManager": ("managers", "FeatureManager"),
    "LabelManager": ("managers", "LabelManager"),
    "add_synonym": ("synonyms", "add_synonym"),
    "feature_set_from_df": ("features", "feature_set_from_df"),
    "feature_set_from_values": ("features", "feature_set_from_values"),
    "features_from_df": ("features", "features_from_df"),
    "from_values": ("validate", "from_values"),
    "init_feature": ("features", "init_feature"),
    "init_feature_set": ("features", "init_feature_set"),
    "inspect": ("validate", "inspect"),
    "lookup_records": ("lookup", "lookup"),
    "members": ("features", "members"),
    "new_feature_set": ("features", "new_feature_set"),
    "remove_synonym": ("synonyms", "remove_synonym"),
    "save_feature_set": ("features", "save_feature_set"),
    "search_records": ("search", "search"),
    "set_abbr": ("synonyms", "set_abbr"),
    "standardize": ("validate", "standardize"),
    "validate_values": ("validate", "validate"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        value = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
