"""Lineage: which code (transform) ran (run) on which data, and what it made.

- :mod:`lamin_sa.lineage.track`: ``ln.track()`` / ``ln.finish()`` and
  ``save_source(path)`` (finish after the fact).
- :mod:`lamin_sa.lineage.inputs`: ``link_run_inputs(records)``, called when a
  tracked run loads, caches or opens data.
- :mod:`lamin_sa.lineage.sql`: ``ancestors(record)`` / ``descendants(record)``
  as recursive SQL.
- :mod:`lamin_sa.lineage.graph`: ``networkx`` graphs and their rendering.

Submodules are imported on use so that ``import lamin_sa`` stays fast.
"""

from __future__ import annotations
