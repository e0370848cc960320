"""Storage layer: roots and keys, LaminDB-compatible hashes, transfers and cache.

Imports only the bottom layer (:mod:`lamin_sa.errors`, :mod:`lamin_sa.config`,
:mod:`lamin_sa.progress`), the standard library and fsspec (heavy libraries such as
s3fs are imported when first used).
"""

from __future__ import annotations

from lamin_sa.storage.hashing import (
    StreamHasher,
    hash_dir,
    hash_file,
    hash_from_etag,
    hash_from_hashes,
    hash_remote_dir,
    hash_set,
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
from lamin_sa.storage.transfer import (
    HashInfo,
    ProgressCallback,
    Staged,
    add_to_cache,
    cache,
    delete,
    exists,
    info,
    purge_tmp,
    put_file,
    size,
    stage,
    stage_dir,
    stat_remote_hash,
)

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
    "get_fs",
    "hash_dir",
    "hash_file",
    "hash_from_etag",
    "hash_from_hashes",
    "hash_remote_dir",
    "hash_set",
    "info",
    "is_inside",
    "join",
    "parse_root",
    "purge_tmp",
    "put_file",
    "relative_key",
    "size",
    "stage",
    "stage_dir",
    "stat_remote_hash",
    "validate_key",
]
