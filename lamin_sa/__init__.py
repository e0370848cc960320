"""lamin-sa: an open data framework for biology on SQLAlchemy and Alembic.

Usage::

    import lamin_sa as ln

    ln.init(storage="./lamin-intro", modules=["bionty"])
    ln.ULabel(name="my label").save()
    ln.ULabel.filter(name__startswith="my").df()

Public names are imported lazily so that ``import lamin_sa`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from lamin_sa.db import context as _context

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    # registries
    "User": "lamin_sa.models.core",
    "Storage": "lamin_sa.models.core",
    "Transform": "lamin_sa.models.core",
    "Run": "lamin_sa.models.core",
    "Param": "lamin_sa.models.core",
    "ParamValue": "lamin_sa.models.core",
    "ULabel": "lamin_sa.models.core",
    "Feature": "lamin_sa.models.core",
    "FeatureValue": "lamin_sa.models.core",
    "FeatureSet": "lamin_sa.models.core",
    "Artifact": "lamin_sa.models.core",
    "Collection": "lamin_sa.models.core",
    "Annotate": "lamin_sa.curate.annotate",
    "Base": "lamin_sa.db.base",
    "metadata": "lamin_sa.db.base",
    # queries
    "Q": "lamin_sa.query.q",
    "QuerySet": "lamin_sa.query.queryset",
    # instances and settings
    "init": "lamin_sa.instance",
    "connect": "lamin_sa.instance",
    "close": "lamin_sa.instance",
    "login": "lamin_sa.instance",
    "use_session": "lamin_sa.api",
    "save": "lamin_sa.api",
    "view": "lamin_sa.api",
    # lineage
    "track": "lamin_sa.lineage.track",
    "finish": "lamin_sa.lineage.track",
}
_SUBMODULES = {
    "config",
    "errors",
    "lineage",
    "migrate",
    "models",
    "db",
    "query",
    "settings",
    "storage",
}

__all__ = [
    "Annotate",
    "Artifact",
    "Base",
    "Collection",
    "Feature",
    "FeatureSet",
    "FeatureValue",
    "Param",
    "ParamValue",
    "Q",
    "QuerySet",
    "Run",
    "Storage",
    "Transform",
    "ULabel",
    "User",
    "close",
    "config",
    "connect",
    "db",
    "errors",
    "finish",
    "init",
    "lineage",
    "login",
    "metadata",
    "migrate",
    "models",
    "query",
    "save",
    "settings",
    "storage",
    "track",
    "use_session",
    "view",
]


def _autoconnect() -> bool:
    """Connect to the last used instance on first use (the context's hook)."""
    from lamin_sa.instance import autoconnect

    return autoconnect()


# Installed here, at the one import every entry point runs (ln.X, a direct
# `from lamin_sa.models.core import ULabel`, the CLI); the context module is light.
_context.set_autoconnect(_autoconnect)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        module = importlib.import_module(f"lamin_sa.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'lamin_sa' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from lamin_sa import settings
    from lamin_sa.api import save, use_session, view
    from lamin_sa.curate.annotate import Annotate
    from lamin_sa.db.base import Base, metadata
    from lamin_sa.instance import close, connect, init, login
    from lamin_sa.lineage.track import finish, track
    from lamin_sa.models.core import (
        Artifact,
        Collection,
        Feature,
        FeatureSet,
        FeatureValue,
        Param,
        ParamValue,
        Run,
        Storage,
        Transform,
        ULabel,
        User,
    )
    from lamin_sa.query.q import Q
    from lamin_sa.query.queryset import QuerySet
