"""Artifact and collection services: what the thin model methods call.

- :mod:`~lamin_sa.artifact.create`: constructors, path classification, dedup
- :mod:`~lamin_sa.artifact.store`: atomic saves (single and bulk)
- :mod:`~lamin_sa.artifact.access`: ``path``, ``cache``, ``load``, ``open``,
  ``replace``
- :mod:`~lamin_sa.artifact.versions`: version families and ``is_latest``
- :mod:`~lamin_sa.artifact.trash`: trash, restore, permanent deletion
- :mod:`~lamin_sa.artifact.collection`: collections
- :mod:`~lamin_sa.artifact.commands`: what the CLI commands call
"""

from __future__ import annotations

from typing import Any

from lamin_sa.artifact.store import save_artifact, save_artifacts

__all__ = ["save_artifact", "save_artifacts"]

# What model methods call, imported on first use (``import lamin_sa`` stays light
# and no import cycle forms): name -> (submodule, attribute).
_LAZY: dict[str, tuple[str, str]] = {
    "artifact_path": ("access", "artifact_path"),
    "cache": ("access", "cache"),
    "cache_collection": ("collection", "cache_collection"),
    "delete_artifact": ("trash", "delete_artifact"),
    "delete_collection": ("trash", "delete_collection"),
    "from_anndata": ("create", "from_anndata"),
    "from_df": ("create", "from_df"),
    "from_dir": ("create", "from_dir"),
    "get_latest": ("versions", "get_latest"),
    "init_artifact": ("create", "init_artifact"),
    "init_collection": ("collection", "init_collection"),
    "load": ("access", "load"),
    "load_collection": ("collection", "load_collection"),
    "new_artifact": ("create", "new_artifact"),
    "new_collection": ("collection", "new_collection"),
    "open_artifact": ("access", "open_artifact"),
    "ordered_artifacts": ("collection", "ordered_artifacts"),
    "replace": ("access", "replace"),
    "restore": ("trash", "restore"),
    "save_artifact": ("store", "save_artifact"),
    "save_collection": ("collection", "save_collection"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        value = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
