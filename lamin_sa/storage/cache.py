"""The local cache of remote objects (downloads only when the remote changed)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import shutil
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lamin_sa.config import atomic_write
from lamin_sa.errors import StorageError
from lamin_sa.progress import folder_progress, progress_bar
from lamin_sa.storage.hashing import (
    _iter_files,
)
from lamin_sa.storage.objects import _remote_mtime
from lamin_sa.storage.paths import (
    get_fs,
    protocol_of,
    split_url,
)
from lamin_sa.storage.upload import DIR_WORKERS, ProgressCallback

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

logger = logging.getLogger(__name__)


_META_DIR = ".lamin_sa"  # sidecars of the cache live in <cache_dir>/.lamin_sa/


# --------------------------------------------------------------------------- cache


def _fingerprint(raw: Mapping[str, Any]) -> str:
    etag = raw.get("ETag") or raw.get("etag") or raw.get("md5Hash")
    if etag:
        return f"etag:{str(etag).strip(chr(34))}"
    mtime = raw.get("LastModified") or raw.get("mtime") or raw.get("updated")
    return f"mtime:{mtime}:{raw.get('size')}"


def _sidecar(cache_dir: Path, bucket: str, key: str) -> Path:
    folder, _, name = key.rpartition("/")
    if len(name) > 200:  # names may use all 255 characters; the sidecar too
        name = hashlib.sha1(name.encode()).hexdigest()
    return cache_dir / _META_DIR / bucket / folder / f"{name}.json"


def _part(local: Path) -> Path:
    """A temporary name next to ``local`` that is short whatever its name."""
    return local.with_name(f".{secrets.token_hex(8)}.part")


def _is_fresh(local: Path, sidecar: Path, raw: Mapping[str, Any]) -> bool:
    try:
        st = local.stat()
    except FileNotFoundError:
        return False
    if st.st_size != int(raw.get("size") or 0):
        return False
    try:
        meta = json.loads(sidecar.read_text())
    except (OSError, ValueError):
        remote_mtime = _remote_mtime(raw)  # no sidecar: LaminDB's mtime rule
        return remote_mtime is not None and st.st_mtime >= remote_mtime
    return (
        meta.get("fingerprint") == _fingerprint(raw)
        and meta.get("size") == st.st_size
        and meta.get("mtime_ns") == st.st_mtime_ns
    )


def _record(local: Path, sidecar: Path, raw: Mapping[str, Any]) -> None:
    remote_mtime = _remote_mtime(raw)
    if remote_mtime is not None:
        os.utime(local, (time.time(), remote_mtime))
    st = local.stat()
    meta = {"fingerprint": _fingerprint(raw), "size": st.st_size}
    meta["mtime_ns"] = st.st_mtime_ns
    atomic_write(sidecar, json.dumps(meta))


def _fsspec_callback(progress: ProgressCallback | None) -> Any:
    from fsspec.callbacks import Callback, NoOpCallback

    if progress is None:
        return NoOpCallback()
    report: ProgressCallback = progress  # narrowed, for the closure below

    class _FsspecProgress(Callback):
        def call(self, *args: Any, **kwargs: Any) -> None:
            report(self.value, self.size)

    return _FsspecProgress()


def _download(
    fs: AbstractFileSystem,
    rpath: str,
    raw: Mapping[str, Any],
    local: Path,
    sidecar: Path,
    progress: ProgressCallback | None,
) -> bool:
    """Download ``rpath`` to ``local`` unless fresh; returns True if downloaded."""
    if _is_fresh(local, sidecar, raw):
        return False
    local.parent.mkdir(parents=True, exist_ok=True)
    part = _part(local)
    try:
        fs.get_file(rpath, os.fspath(part), callback=_fsspec_callback(progress))
        os.replace(part, local)
    except BaseException as e:
        part.unlink(missing_ok=True)
        if isinstance(e, Exception):
            raise StorageError(
                f"Downloading {rpath} failed ({e}); the cache was left unchanged."
            ) from e
        raise
    _record(local, sidecar, raw)
    logger.debug("cached %s at %s", rpath, local)
    return True


def cache(
    remote_path: str | os.PathLike[str],
    cache_dir: str | os.PathLike[str],
    *,
    storage_options: Mapping[str, Any] | None = None,
    progress: ProgressCallback | None = None,
) -> Path:
    """Return a local copy of a stored file or folder, downloading only if needed.

    Cloud objects are mirrored at ``<cache_dir>/<bucket>/<key>`` and downloaded
    again only when the remote object changed (ETag, or size/mtime for stores
    without ETags; a small sidecar under ``<cache_dir>/.lamin_sa/`` remembers what
    was downloaded). Downloads go to a temporary file renamed into place, so a
    failure leaves no partial file. Folders are mirrored object by object; local
    files that no longer exist remotely are removed from the mirror.

    Args:
        remote_path: ``s3://bucket/key`` (or any fsspec URL); local paths are
            returned as they are.
        cache_dir: The cache root.
        storage_options: Optional fsspec options.
        progress: Optional callback (bytes for a file, bytes per finished file for
            a folder).

    Returns:
        The local path.

    Raises:
        StorageError: The object does not exist or a download failed.
    """
    protocol = protocol_of(remote_path)
    rpath = os.fspath(remote_path)
    if protocol == "file":
        local = Path(rpath.removeprefix("file://")).resolve()
        if not local.exists():
            raise StorageError(f"{local} does not exist.")
        return local
    fs = get_fs(protocol, storage_options)
    _, bucket, key = split_url(rpath)
    cache_root = Path(cache_dir).expanduser().resolve()
    local = cache_root / bucket / key
    try:
        raw = fs.info(rpath)
    except FileNotFoundError as e:
        raise StorageError(f"{rpath} does not exist.") from e
    if raw.get("type") != "directory":
        sidecar = _sidecar(cache_root, bucket, key)
        if progress is None and not _is_fresh(local, sidecar, raw):
            size = int(raw.get("size") or 0)
            progress = progress_bar(size, f"downloading {Path(key).name}")
        _download(fs, rpath, raw, local, sidecar, progress)
        return local
    _cache_dir_objects(fs, rpath, cache_root, bucket, key, progress)
    return local


def _cache_dir_objects(
    fs: AbstractFileSystem,
    rpath: str,
    cache_root: Path,
    bucket: str,
    key: str,
    progress: ProgressCallback | None,
) -> None:
    objects = fs.find(rpath, detail=True)
    local_dir = cache_root / bucket / key
    wanted: dict[Path, tuple[str, Mapping[str, Any], Path]] = {}
    for name, raw in objects.items():
        _, obj_bucket, obj_key = split_url(f"{protocol_of(rpath)}://{name}")
        if obj_key.endswith("/") or raw.get("type") == "directory":
            continue
        target = cache_root / obj_bucket / obj_key
        wanted[target] = (name, raw, _sidecar(cache_root, obj_bucket, obj_key))
    total = sum(int(raw.get("size") or 0) for _, raw, _ in wanted.values())
    done = n_done = 0
    missing = any(not _is_fresh(t, sc, raw) for t, (_, raw, sc) in wanted.items())
    bar = None
    if progress is None and missing:  # an up-to-date folder shows nothing
        desc = f"downloading {Path(key).name}/"
        bar = folder_progress(len(wanted), total, desc)
    with ThreadPoolExecutor(DIR_WORKERS, "lamin-sa-cache") as pool:
        futures = {
            pool.submit(_download, fs, name, raw, target, sidecar, None): raw
            for target, (name, raw, sidecar) in wanted.items()
        }
        for future in as_completed(futures):
            future.result()
            done += int(futures[future].get("size") or 0)
            n_done += 1
            if progress is not None:
                progress(done, total)
            if bar is not None:
                bar(n_done, done)
    if local_dir.is_dir():  # drop files deleted remotely
        for stale in _iter_files(local_dir):
            if stale not in wanted:
                rel = stale.relative_to(cache_root / bucket).as_posix()
                stale.unlink(missing_ok=True)
                _sidecar(cache_root, bucket, rel).unlink(missing_ok=True)


def add_to_cache(
    local_file: str | os.PathLike[str],
    remote_path: str,
    cache_dir: str | os.PathLike[str],
    *,
    move: bool = False,
    storage_options: Mapping[str, Any] | None = None,
) -> Path:
    """Place a local copy of an already uploaded object into the cache mirror.

    Use after uploading a file that was written locally first (e.g. a serialized
    DataFrame), so that :func:`cache` does not download it again.

    Args:
        local_file: The local file with the same bytes as ``remote_path``.
        remote_path: The uploaded object's URL.
        cache_dir: The cache root.
        move: Move ``local_file`` instead of copying it.
        storage_options: Optional fsspec options.

    Returns:
        The path in the cache mirror.
    """
    protocol = protocol_of(remote_path)
    if protocol == "file":
        return Path(remote_path.removeprefix("file://")).resolve()
    fs = get_fs(protocol, storage_options)
    raw = fs.info(remote_path)
    _, bucket, key = split_url(remote_path)
    cache_root = Path(cache_dir).expanduser().resolve()
    local = cache_root / bucket / key
    local.parent.mkdir(parents=True, exist_ok=True)
    part = _part(local)
    try:
        if move:
            shutil.move(os.fspath(local_file), part)
        else:
            shutil.copyfile(local_file, part)
        os.replace(part, local)
    finally:
        part.unlink(missing_ok=True)
    _record(local, _sidecar(cache_root, bucket, key), raw)
    return local
