"""Validation, standardization, search and features (reference §1 and §4).

Registries expose this through :class:`lamin_sa.models.mixins.CanValidate` and
QuerySet methods. The submodules take a registry class or a QuerySet:
:mod:`lamin_sa.curate.validate` (validate, inspect, standardize, from_values,
lookup, synonyms), :mod:`lamin_sa.curate.search` (ranked search) and
:mod:`lamin_sa.curate.features` (Feature dtypes, FeatureSet).
"""

from __future__ import annotations

from lamin_sa.curate.describe import describe
from lamin_sa.curate.validate import InspectResult, Lookup

__all__ = ["InspectResult", "Lookup", "describe"]
