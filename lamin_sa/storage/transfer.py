"""Moving bytes into, out of and inside storage roots (a facade).

The work is split by concept: :mod:`~lamin_sa.storage.upload` (sinks and the
hash-while-copying pump), :mod:`~lamin_sa.storage.staging` (temporary objects,
atomic moves, crash recovery), :mod:`~lamin_sa.storage.objects` (inspecting and
deleting stored objects) and :mod:`~lamin_sa.storage.cache` (the local cache of
remote objects). This module keeps the old import paths working.
"""

from __future__ import annotations

from lamin_sa.storage.cache import add_to_cache, cache
from lamin_sa.storage.objects import (
    HashInfo,
    delete,
    exists,
    info,
    size,
    stat_remote_hash,
)
from lamin_sa.storage.staging import Staged, purge_tmp, put_file, stage, stage_dir
from lamin_sa.storage.upload import (
    DIR_WORKERS,
    MAX_PARTS,
    PART_SIZE,
    UPLOAD_CONCURRENCY,
    ProgressCallback,
    Source,
)

__all__ = [
    "DIR_WORKERS",
    "MAX_PARTS",
    "PART_SIZE",
    "UPLOAD_CONCURRENCY",
    "HashInfo",
    "ProgressCallback",
    "Source",
    "Staged",
    "add_to_cache",
    "cache",
    "delete",
    "exists",
    "info",
    "purge_tmp",
    "put_file",
    "size",
    "stage",
    "stage_dir",
    "stat_remote_hash",
]
