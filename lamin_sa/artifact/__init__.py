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

from lamin_sa.artifact.store import save_artifact, save_artifacts

__all__ = ["save_artifact", "save_artifacts"]
