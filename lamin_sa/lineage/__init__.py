"""Lineage: which code (transform) ran (run) on which data, and what it made.

- :mod:`lamin_sa.lineage.track`: ``ln.track()`` / ``ln.finish()`` and
  ``save_source(path)`` (finish after the fact); the tracked run.
- :mod:`lamin_sa.lineage.source`: a script's or notebook's key, hash, name and
  stored copies (source code, HTML report).
- :mod:`lamin_sa.lineage.notebook`: which notebook a kernel runs, also headless
  (nbconvert, papermill, nbclient).
- :mod:`lamin_sa.lineage.transforms`: finding, versioning and deleting
  transforms; runs.
- :mod:`lamin_sa.lineage.params`: run parameters.
- :mod:`lamin_sa.lineage.environment`: the installed distributions of a run.
- :mod:`lamin_sa.lineage.inputs`: ``link_run_inputs(records)``, called when a
  tracked run loads, caches or opens data.
- :mod:`lamin_sa.lineage.sql`: ``ancestors(record)`` / ``descendants(record)``
  as recursive SQL.
- :mod:`lamin_sa.lineage.graph`: ``networkx`` graphs and their rendering.

Submodules are imported on use so that ``import lamin_sa`` stays fast.
"""

from __future__ import annotations

from typing import Any


def delete_transform(transform: Any) -> None:
    """Delete a transform, its runs and their hidden artifacts permanently.

    See :func:`lamin_sa.lineage.transforms.delete_transform`.

    Example:
        >>> delete_transform(ln.Transform.get(key="old.py"))
    """
    from lamin_sa.lineage.transforms import delete_transform as delete

    delete(transform)


__all__ = ["delete_transform"]

# What model methods call, imported on first use (``import lamin_sa`` stays light
# and no import cycle forms): name -> (submodule, attribute).
_LAZY: dict[str, tuple[str, str]] = {
    "LineageAccessor": ("sql", "LineageAccessor"),
    "link_run_inputs": ("inputs", "link_run_inputs"),
    "view_lineage": ("graph", "view_lineage"),
    "view_parents": ("graph", "view_parents"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        value = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
