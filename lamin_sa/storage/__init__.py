"""Storage layer: roots and keys, LaminDB-compatible hashes, transfers and cache.

Imports only the bottom layer (:mod:`lamin_sa.errors`, :mod:`lamin_sa.config`,
:mod:`lamin_sa.progress`), the standard library and fsspec (heavy libraries such as
s3fs are imported when first used).
"""

from __future__ import annotations

from lamin_sa.storage.cache import add_to_cache, cache
from lamin_sa.storage.hashing import (
    StreamHasher,
    fingerprint,
    hash_dir,
    hash_file,
    hash_from_etag,
    hash_from_hashes,
    hash_remote_dir,
    hash_set,
)
from lamin_sa.storage.objects import (
    HashInfo,
    delete,
    exists,
    info,
    size,
    stat_remote_hash,
)
from lamin_sa.storage.paths import (
    INTERNAL_PREFIX,
    TMP_PREFIX,
    StorageRoot,
    as_root,
    bucket_root,
    get_fs,
    is_inside,
    join,
    parse_root,
    relative_key,
    validate_key,
)
from lamin_sa.storage.staging import (
    Staged,
    finish_move,
    is_dead,
    process_tag,
    purge_tmp,
    put_file,
    stage,
    stage_dir,
)
from lamin_sa.storage.upload import ProgressCallback

__all__ = [
    "INTERNAL_PREFIX",
    "TMP_PREFIX",
    "HashInfo",
    "ProgressCallback",
    "Staged",
    "StorageRoot",
    "StreamHasher",
    "add_to_cache",
    "as_root",
    "bucket_root",
    "cache",
    "delete",
    "exists",
    "finish_move",
    "fingerprint",
    "get_fs",
    "hash_dir",
    "hash_file",
    "hash_from_etag",
    "hash_from_hashes",
    "hash_remote_dir",
    "hash_set",
    "info",
    "is_dead",
    "is_inside",
    "join",
    "parse_root",
    "process_tag",
    "purge_tmp",
    "put_file",
    "relative_key",
    "size",
    "stage",
    "stage_dir",
    "stat_remote_hash",
    "validate_key",
]
