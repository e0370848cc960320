"""Inspecting and deleting stored objects: exists, info, size, remote hashes."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from lamin_sa.errors import StorageError
from lamin_sa.storage.hashing import (
    hash_dir,
    hash_file,
    hash_from_etag,
    hash_remote_dir,
)
from lamin_sa.storage.paths import (
    StorageRoot,
    as_root,
    get_fs,
    protocol_of,
)

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

logger = logging.getLogger(__name__)


class HashInfo(NamedTuple):
    """Hash, hash type, size and (for folders) number of objects."""

    hash: str
    hash_type: str
    size: int
    n_objects: int | None = None


# --------------------------------------------------------------------------- inspect


def delete(root: str | os.PathLike[str] | StorageRoot, key: str) -> bool:
    """Delete the file or folder at ``root/key``.

    Returns:
        True if something was deleted, False if nothing existed.
    """
    root = as_root(root)
    path = root.join(key)
    if root.is_local:
        p = Path(path)
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
            return True
        try:
            p.unlink()
        except FileNotFoundError:
            return False
        return True
    fs = root.fs
    if not fs.exists(path):
        return False
    fs.rm(path, recursive=True)
    return True


def exists(root: str | os.PathLike[str] | StorageRoot, key: str) -> bool:
    """Whether a file or folder exists at ``root/key``."""
    root = as_root(root)
    return bool(root.fs.exists(root.join(key)))


def _normalize_info(fs: AbstractFileSystem, path: str, raw: Mapping[str, Any]) -> dict:
    is_dir = raw.get("type") == "directory"
    etag = raw.get("ETag") or raw.get("etag") or raw.get("md5Hash")
    mtime: Any = raw.get("LastModified") or raw.get("mtime") or raw.get("updated")
    if hasattr(mtime, "timestamp"):
        mtime = mtime.timestamp()
    elif isinstance(mtime, str):
        from datetime import datetime

        mtime = datetime.fromisoformat(mtime.replace("Z", "+00:00")).timestamp()
    out = {
        "path": path,
        "type": "directory" if is_dir else "file",
        "size": int(raw.get("size") or 0),
        "mtime": float(mtime) if mtime is not None else None,
        "etag": str(etag).strip('"') if etag and not is_dir else None,
        "n_objects": None,
    }
    if is_dir:
        objects = fs.find(path, detail=True)
        out["size"] = sum(int(o.get("size") or 0) for o in objects.values())
        out["n_objects"] = len(objects)
    return out


def info(root: str | os.PathLike[str] | StorageRoot, key: str) -> dict[str, Any]:
    """Describe the object at ``root/key`` without downloading it.

    Returns:
        ``{"path", "type" ("file"|"directory"), "size", "mtime" (epoch seconds or
        None), "etag" (unquoted, cloud files only), "n_objects" (folders)}``.

    Raises:
        StorageError: Nothing exists at the key.
    """
    root = as_root(root)
    path = root.join(key)
    try:
        raw = root.fs.info(path)
    except FileNotFoundError as e:
        raise StorageError(f"{path} does not exist.") from e
    return _normalize_info(root.fs, path, raw)


def size(root: str | os.PathLike[str] | StorageRoot, key: str) -> int:
    """Size in bytes of the file, or total size of the folder, at ``root/key``."""
    return int(info(root, key)["size"])


def stat_remote_hash(
    path: str | os.PathLike[str], storage_options: Mapping[str, Any] | None = None
) -> HashInfo:
    """LaminDB hash of a stored file or folder, from ETags where possible.

    Cloud files use their ETag (``md5`` / ``md5-n``), cloud folders the ETags of
    their objects (``md5-d``); nothing is downloaded. Local paths are hashed.

    Raises:
        StorageError: The path does not exist, or the store offers no ETags.
    """
    protocol = protocol_of(path)
    if protocol == "file":
        local = Path(os.fspath(path).removeprefix("file://"))
        if local.is_dir():
            return HashInfo(*hash_dir(local))
        if not local.exists():
            raise StorageError(f"{local} does not exist.")
        return HashInfo(*hash_file(local), local.stat().st_size)
    fs = get_fs(protocol, storage_options)
    path = os.fspath(path)
    try:
        raw = fs.info(path)
    except FileNotFoundError as e:
        raise StorageError(f"{path} does not exist.") from e
    if raw.get("type") == "directory":
        return HashInfo(*hash_remote_dir(fs.find(path, detail=True).values()))
    etag = raw.get("ETag") or raw.get("etag")
    try:
        return HashInfo(*hash_from_etag(etag), int(raw["size"]))
    except (TypeError, ValueError) as e:
        raise StorageError(
            f"{path} has no md5-based ETag ({etag!r}); cache it and use hash_file()."
        ) from e


def _remote_mtime(raw: Mapping[str, Any]) -> float | None:
    mtime: Any = raw.get("LastModified") or raw.get("mtime")
    if hasattr(mtime, "timestamp"):
        return float(mtime.timestamp())
    return float(mtime) if isinstance(mtime, int | float) else None
