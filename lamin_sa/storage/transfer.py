"""Moving bytes into, out of and inside storage roots (local or cloud).

Every byte lamin-sa stores goes through this module. Files are hashed while they
are copied (one read of the source). Saves are atomic in three steps::

    staged = stage(src, root, ".lamindb/<uid>.parquet")  # temp object + hash
    ...commit the database row...
    staged.commit()   # move into place; on any failure call staged.abort()

Temporary objects live under ``<root>/.lamindb/_tmp/``; :func:`purge_tmp` removes
ones left behind by crashed processes.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import os
import secrets
import shutil
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, BinaryIO, NamedTuple

from lamin_sa.config import atomic_write
from lamin_sa.errors import StorageError
from lamin_sa.progress import ProgressCallback, progress_bar
from lamin_sa.storage.hashing import (
    CHUNK_SIZE,
    FIRST_LAST_SIZE,
    StreamHasher,
    _iter_files,
    hash_dir,
    hash_file,
    hash_from_etag,
    hash_from_hashes,
    hash_remote_dir,
)
from lamin_sa.storage.paths import (
    TMP_PREFIX,
    StorageRoot,
    as_root,
    get_fs,
    protocol_of,
    split_url,
    validate_key,
)

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

logger = logging.getLogger(__name__)

"""Called as ``progress(bytes_done, bytes_total_or_None)`` from the calling thread."""

Source = str | os.PathLike[str] | BinaryIO

PART_SIZE = 8 * 1024 * 1024  # S3 multipart part size (min 5 MiB)
MAX_PARTS = 9000  # S3 allows 10000; keep headroom for streams of unknown size
UPLOAD_CONCURRENCY = 4
DIR_WORKERS = 8
_META_DIR = ".lamin_sa"  # sidecars of the cache live in <cache_dir>/.lamin_sa/

__all__ = [
    "HashInfo",
    "ProgressCallback",
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


class HashInfo(NamedTuple):
    """Hash, hash type, size and (for folders) number of objects."""

    hash: str
    hash_type: str
    size: int
    n_objects: int | None = None


# --------------------------------------------------------------------------- sinks


class _LocalSink:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.file = open(path, "wb", buffering=0)

    def write(self, chunk: bytes) -> None:
        self.file.write(chunk)

    def close(self) -> None:
        self.file.close()

    def abort(self) -> None:
        self.file.close()
        self.path.unlink(missing_ok=True)


class _S3Sink:
    """Multipart upload with a few parts in flight; single PUT for small objects.

    The object only appears once the upload completes, so a failure never leaves
    a partial object behind (the multipart upload is aborted).
    """

    def __init__(self, fs: Any, path: str, size_hint: int | None = None) -> None:
        self.fs = fs
        self.bucket, self.key, _ = fs.split_path(path)
        content_type = mimetypes.guess_type(self.key)[0]
        self.extra = {"ContentType": content_type} if content_type else {}
        self.part_size = max(PART_SIZE, -(-(size_hint or 0) // MAX_PARTS))
        self.unknown_size = size_hint is None
        self.buffer: list[bytes] = []
        self.buffered = 0
        self.upload_id: str | None = None
        self.pool: ThreadPoolExecutor | None = None
        self.futures: list[Future[str]] = []

    def write(self, chunk: bytes) -> None:
        self.buffer.append(chunk)
        self.buffered += len(chunk)
        if self.buffered >= self.part_size:
            self._send_part()

    def _body(self) -> bytes:
        body = self.buffer[0] if len(self.buffer) == 1 else b"".join(self.buffer)
        self.buffer, self.buffered = [], 0
        return body

    def _send_part(self) -> None:
        if self.upload_id is None:
            mpu = self.fs.call_s3(
                "create_multipart_upload",
                Bucket=self.bucket,
                Key=self.key,
                **self.extra,
            )
            self.upload_id = mpu["UploadId"]
            self.pool = ThreadPoolExecutor(UPLOAD_CONCURRENCY, "lamin-sa-upload")
        assert self.pool is not None
        in_flight = [f for f in self.futures if not f.done()]
        if len(in_flight) >= UPLOAD_CONCURRENCY:
            in_flight[0].result()
        for f in self.futures:
            if f.done() and f.exception() is not None:
                f.result()
        number = len(self.futures) + 1
        self.futures.append(self.pool.submit(self._upload_part, number, self._body()))
        if self.unknown_size and number % 1000 == 0:
            self.part_size *= 2  # unknown total: grow parts to stay below 10000

    def _upload_part(self, number: int, body: bytes) -> str:
        out = self.fs.call_s3(
            "upload_part",
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self.upload_id,
            PartNumber=number,
            Body=body,
        )
        return out["ETag"]

    def close(self) -> None:
        if self.upload_id is None:
            self.fs.call_s3(
                "put_object",
                Bucket=self.bucket,
                Key=self.key,
                Body=self._body(),
                **self.extra,
            )
            return
        if self.buffer:
            self._send_part()
        parts = [
            {"PartNumber": i + 1, "ETag": f.result()}
            for i, f in enumerate(self.futures)
        ]
        self.fs.call_s3(
            "complete_multipart_upload",
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self.upload_id,
            MultipartUpload={"Parts": parts},
        )
        self._shutdown()

    def _shutdown(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def abort(self) -> None:
        self.buffer = []
        self._shutdown()
        if self.upload_id is not None:
            try:
                self.fs.call_s3(
                    "abort_multipart_upload",
                    Bucket=self.bucket,
                    Key=self.key,
                    UploadId=self.upload_id,
                )
            except Exception as e:
                logger.warning("could not abort multipart upload %s: %s", self.key, e)


class _FsspecSink:
    """Any other fsspec filesystem, through its buffered writer."""

    def __init__(self, fs: AbstractFileSystem, path: str) -> None:
        self.fs, self.path = fs, path
        fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        self.file = fs.open(path, "wb")

    def write(self, chunk: bytes) -> None:
        self.file.write(chunk)

    def close(self) -> None:
        self.file.close()

    def abort(self) -> None:
        discard = getattr(self.file, "discard", None)
        if discard is not None:
            discard()
        try:
            self.fs.rm(self.path)
        except (FileNotFoundError, OSError):
            pass


def _open_sink(root: StorageRoot, key: str, size_hint: int | None) -> Any:
    if root.is_local:
        return _LocalSink(Path(root.root, key))
    if root.protocol == "s3":
        return _S3Sink(root.fs, root.join(key), size_hint)
    return _FsspecSink(root.fs, root.join(key))


# --------------------------------------------------------------------------- copy


@contextmanager
def _open_source(src: Source) -> Iterator[tuple[BinaryIO, int | None, bool]]:
    """Yield ``(readable, total size or None, opened here as a raw file)``."""
    if hasattr(src, "read"):
        f: BinaryIO = src  # type: ignore[assignment]
        total = None
        try:
            if f.seekable():
                start = f.tell()
                total = f.seek(0, os.SEEK_END) - start
                f.seek(start)
        except (AttributeError, OSError, ValueError):
            total = None
        yield f, total, False
        return
    with open(src, "rb", buffering=0) as f:
        yield f, os.fstat(f.fileno()).st_size, True  # type: ignore[misc]


class _Progress:
    """Counts copied bytes and forwards them to the user's callback."""

    __slots__ = ("callback", "done", "total")

    def __init__(self, callback: ProgressCallback | None, total: int | None) -> None:
        self.callback, self.done, self.total = callback, 0, total

    def __call__(self, n: int) -> None:
        self.done += n
        if self.callback is not None:
            self.callback(self.done, self.total)


def _pump(
    f: BinaryIO,
    hasher: StreamHasher | None,
    sink: Any,
    report: _Progress,
    count: int | None = None,
) -> int:
    """Read, hash and write chunks until EOF or ``count`` bytes; return the count."""
    read, write, copied = f.read, sink.write, 0
    while count is None or copied < count:
        chunk = read(CHUNK_SIZE if count is None else min(CHUNK_SIZE, count - copied))
        if not chunk:
            break
        if hasher is not None:
            hasher.update(chunk)
        write(chunk)
        copied += len(chunk)
        report(len(chunk))
    return copied


def _copy_range(
    f: BinaryIO, sink: _LocalSink, start: int, end: int, report: _Progress
) -> None:
    """Copy bytes ``[start, end)`` in the kernel (copy_file_range), unhashed.

    Falls back to user space from wherever the kernel stopped.
    """
    src_fd, dst_fd, offset = f.fileno(), sink.file.fileno(), start
    while offset < end:
        try:
            n = os.copy_file_range(
                src_fd, dst_fd, min(16 * CHUNK_SIZE, end - offset), offset, offset
            )
        except OSError:
            break
        if n == 0:
            break
        offset += n
        report(n)
    if offset < end:
        f.seek(offset)
        sink.file.seek(offset)
        if _pump(f, None, sink, report, end - offset) != end - offset:
            raise StorageError("The source shrank while it was copied; retry.")


def _write(
    src: Source,
    root: StorageRoot,
    key: str,
    progress: ProgressCallback | None = None,
) -> tuple[str, str, int]:
    """Copy ``src`` to ``root/key`` while hashing it; nothing remains on failure.

    Files above 50 MiB only need their first and last 50 MiB hashed. Between
    local files, the head and the tail are copied (and hashed in a background
    thread) first, then the middle is copied by the kernel while the hash of the
    tail completes.
    """
    sink = hasher = None
    try:
        with _open_source(src) as (f, total, raw):
            report = _Progress(progress, total)
            hasher = StreamHasher(total, threaded=(total or 0) > 2 * CHUNK_SIZE)
            sink = _open_sink(root, key, total)
            if (
                raw
                and total is not None
                and total > 2 * FIRST_LAST_SIZE + CHUNK_SIZE
                and isinstance(sink, _LocalSink)
                and hasattr(os, "copy_file_range")
            ):
                head_end, tail_start = FIRST_LAST_SIZE, total - FIRST_LAST_SIZE
                _pump(f, hasher, sink, report, head_end)
                hasher.skip(tail_start - head_end)
                f.seek(tail_start)
                sink.file.seek(tail_start)
                _pump(f, hasher, sink, report)
                _copy_range(f, sink, head_end, tail_start, report)
            else:
                _pump(f, hasher, sink, report)
        hash_, hash_type = hasher.result()
        sink.close()
    except BaseException as e:
        if hasher is not None:
            hasher.close()
        if sink is not None:
            sink.abort()
        if isinstance(e, Exception) and not isinstance(e, StorageError):
            raise StorageError(
                f"Copying {_describe(src)} to {root.join(key)} failed ({e}); nothing "
                "was stored. Check the source and the storage, then retry."
            ) from e
        raise
    return hash_, hash_type, report.done


def _describe(src: Source) -> str:
    if hasattr(src, "read"):
        return str(getattr(src, "name", None) or type(src).__name__)
    return os.fspath(src)  # type: ignore[arg-type]


def _is_dir_source(src: Source) -> bool:
    return not hasattr(src, "read") and os.path.isdir(src)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- staging


def _tmp_key(final_key: str) -> str:
    return f"{TMP_PREFIX}{secrets.token_hex(8)}-{PurePosixPath(final_key).name}"


@dataclass
class Staged:
    """An object written under a temporary key, waiting to be moved into place.

    Use as a context manager to abort automatically unless committed::

        with stage(src, root, key) as staged:
            save_row(hash=staged.hash)
            staged.commit()
    """

    root: StorageRoot
    tmp_key: str
    final_key: str
    hash: str
    hash_type: str
    size: int
    n_objects: int | None = None
    is_dir: bool = False
    state: str = "staged"  # "staged" | "committed" | "aborted"

    @property
    def tmp_path(self) -> str:
        return self.root.join(self.tmp_key)

    @property
    def final_path(self) -> str:
        return self.root.join(self.final_key)

    def commit(self) -> str:
        """Move the temporary object (or folder) to its final key.

        Locally this is an atomic ``os.replace`` (a folder replaces an existing
        folder at the key); on object stores it is a server-side copy followed by
        deleting the temporary object (for folders, objects at the final prefix
        that are not part of the new folder are removed). Idempotent.

        Returns:
            The final path.

        Raises:
            StorageError: The move failed; the temporary object is kept, so call
                :meth:`abort` to clean up.
        """
        if self.state == "committed":
            return self.final_path
        if self.state == "aborted":
            raise StorageError(f"Cannot commit {self.final_key!r}: it was aborted.")
        try:
            if self.root.is_local:
                self._commit_local()
            elif self.is_dir:
                self._commit_remote_dir()
            else:
                self.root.fs.cp_file(self.tmp_path, self.final_path)
                self.root.fs.rm_file(self.tmp_path)
        except Exception as e:
            raise StorageError(
                f"Moving {self.tmp_path} to {self.final_path} failed ({e}). "
                "Call abort() to remove the temporary object."
            ) from e
        self.state = "committed"
        return self.final_path

    def _commit_local(self) -> None:
        tmp = Path(self.root.root, self.tmp_key)
        final = Path(self.root.root, self.final_key)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.is_dir() and not final.is_symlink():
            if not self.is_dir:
                raise StorageError(f"{final} is a folder; cannot replace it by a file.")
            old = Path(self.root.root, _tmp_key(self.final_key) + "-old")
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)

    def _commit_remote_dir(self) -> None:
        fs, src_prefix, dst_prefix = self.root.fs, self.tmp_path, self.final_path
        sources = sorted(fs.find(src_prefix))
        src_base = fs._strip_protocol(src_prefix).rstrip("/") + "/"
        rels = [fs._strip_protocol(s)[len(src_base) :] for s in sources]
        fs.copy(sources, [f"{dst_prefix}/{r}" for r in rels])
        dst_base = fs._strip_protocol(dst_prefix).rstrip("/") + "/"
        keep = {dst_base + r for r in rels}
        stale = [p for p in fs.find(dst_prefix) if fs._strip_protocol(p) not in keep]
        if stale:
            fs.rm(stale)
        fs.rm(sources)

    def abort(self) -> bool:
        """Remove the temporary object. Never raises; a no-op after commit.

        Returns:
            True if something was removed.
        """
        if self.state != "staged":
            return False
        self.state = "aborted"
        try:
            return delete(self.root, self.tmp_key)
        except Exception as e:
            logger.warning("could not remove temporary %s: %s", self.tmp_path, e)
            return False

    def __enter__(self) -> Staged:
        return self

    def __exit__(self, *exc: object) -> None:
        self.abort()


def stage(
    local_src: Source,
    root: str | os.PathLike[str] | StorageRoot,
    final_key: str,
    *,
    progress: ProgressCallback | None = None,
    known_hash: tuple[str, str] | None = None,
) -> Staged:
    """Write a local file (or folder) under a temporary key of ``root``.

    The source is read once; its LaminDB hash is computed while copying, unless
    the caller already hashed the file (``known_hash``): then a local copy runs
    at kernel speed without hashing.

    Args:
        local_src: A local file or folder path, or a readable binary file object.
        root: The storage root (its temporary area ``.lamindb/_tmp/`` is used).
        final_key: Where :meth:`Staged.commit` will move the object; internal
            ``.lamindb/`` keys are allowed.
        progress: Optional ``progress(bytes_done, bytes_total)`` callback.
        known_hash: ``(hash, hash_type)`` of a local source file, computed earlier.

    Returns:
        A :class:`Staged` with hash, hash_type and size.

    Raises:
        InvalidKeyError: ``final_key`` escapes the root.
        StorageError: Reading or writing failed (no temporary object remains).
    """
    root = as_root(root)
    final_key = validate_key(final_key, allow_internal=True)
    if _is_dir_source(local_src):
        return stage_dir(local_src, root, final_key, progress=progress)  # type: ignore[arg-type]
    if progress is None and not hasattr(local_src, "read"):
        size_hint = os.path.getsize(local_src)  # type: ignore[arg-type]
        progress = progress_bar(size_hint, f"copying {Path(local_src).name}")  # type: ignore[arg-type]
    tmp_key = _tmp_key(final_key)
    if known_hash is not None and root.is_local and not hasattr(local_src, "read"):
        size_ = _copy_local(local_src, root, tmp_key, progress)  # type: ignore[arg-type]
        return Staged(root, tmp_key, final_key, *known_hash, size_)
    hash_, hash_type, size_ = _write(local_src, root, tmp_key, progress)
    return Staged(root, tmp_key, final_key, hash_, hash_type, size_)


def _copy_local(
    src: str | os.PathLike[str],
    root: StorageRoot,
    key: str,
    progress: ProgressCallback | None,
) -> int:
    """Copy a local file into a local root with the kernel's copy; no hashing."""
    dest = Path(root.join(key))
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        shutil.copyfile(src, dest)
    except BaseException as e:
        dest.unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise StorageError(
                f"Copying {os.fspath(src)} to {dest} failed ({e}); nothing was "
                "stored. Check the source and the storage, then retry."
            ) from e
        raise
    size_ = dest.stat().st_size
    if progress is not None:
        progress(size_, size_)
    return size_


def stage_dir(
    local_dir: str | os.PathLike[str],
    root: str | os.PathLike[str] | StorageRoot,
    final_key: str,
    *,
    progress: ProgressCallback | None = None,
    max_workers: int = DIR_WORKERS,
) -> Staged:
    """Copy a local folder under a temporary prefix, hashing it (``md5-d``).

    Files are copied and hashed in a thread pool, each read once.

    Args:
        local_dir: The folder; every file below it is copied.
        root: The storage root.
        final_key: The folder key after commit.
        progress: Optional callback, called after each file completes.
        max_workers: Files copied in parallel.

    Returns:
        A :class:`Staged` with ``is_dir=True`` and ``n_objects``.

    Raises:
        StorageError: The folder holds no files, or a copy failed (the partial
            temporary folder is removed).
    """
    root = as_root(root)
    final_key = validate_key(final_key, allow_internal=True)
    base = Path(local_dir)
    if not base.is_dir():
        raise StorageError(f"{base} is not a folder; pass an existing folder.")
    files = _iter_files(base)
    if not files:
        raise StorageError(
            f"The folder {base} contains no files; add files or save a file instead."
        )
    tmp_key = _tmp_key(final_key)
    sizes = {f: f.stat().st_size for f in files}
    if progress is None:
        progress = progress_bar(sum(sizes.values()), f"copying {base.name}/")
    total, done, hashes = sum(sizes.values()), 0, []
    staged = Staged(root, tmp_key, final_key, "", "md5-d", 0, len(files), True)
    try:
        with ThreadPoolExecutor(max_workers, "lamin-sa-stage") as pool:
            futures = {
                pool.submit(
                    _write, f, root, f"{tmp_key}/{f.relative_to(base).as_posix()}"
                ): f
                for f in files
            }
            try:
                for future in as_completed(futures):
                    hash_, _, n = future.result()
                    hashes.append(hash_)
                    done += n
                    if progress is not None:
                        progress(done, total)
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
    except BaseException as e:
        staged.abort()
        if isinstance(e, Exception) and not isinstance(e, StorageError):
            raise StorageError(f"Copying folder {base} failed ({e}).") from e
        raise
    staged.hash, staged.size = hash_from_hashes(hashes), done
    return staged


def put_file(
    local_src: Source,
    root: str | os.PathLike[str] | StorageRoot,
    key: str,
    *,
    tmp: bool = True,
    progress: ProgressCallback | None = None,
) -> tuple[str, str, int]:
    """Copy a local file (or folder) to ``root/key``, hashing it in the same read.

    Args:
        local_src: A local path or readable binary file object.
        root: The storage root.
        key: The destination key (internal ``.lamindb/`` keys allowed).
        tmp: Never expose a partial object at ``key``: locally write to a
            temporary key and rename; object stores (S3) are atomic by protocol
            and written directly. ``False`` writes locally in place.
        progress: Optional ``progress(bytes_done, bytes_total)`` callback.

    Returns:
        ``(hash, hash_type, size)``.
    """
    root = as_root(root)
    key = validate_key(key, allow_internal=True)
    if _is_dir_source(local_src) or (tmp and root.is_local):
        staged = stage(local_src, root, key, progress=progress)
        with staged:
            staged.commit()
        return staged.hash, staged.hash_type, staged.size
    return _write(local_src, root, key, progress)


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
    mtime = raw.get("LastModified") or raw.get("mtime") or raw.get("updated")
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


# --------------------------------------------------------------------------- cache


def _fingerprint(raw: Mapping[str, Any]) -> str:
    etag = raw.get("ETag") or raw.get("etag") or raw.get("md5Hash")
    if etag:
        return f"etag:{str(etag).strip(chr(34))}"
    mtime = raw.get("LastModified") or raw.get("mtime") or raw.get("updated")
    return f"mtime:{mtime}:{raw.get('size')}"


def _remote_mtime(raw: Mapping[str, Any]) -> float | None:
    mtime = raw.get("LastModified") or raw.get("mtime")
    if hasattr(mtime, "timestamp"):
        return float(mtime.timestamp())
    return float(mtime) if isinstance(mtime, int | float) else None


def _sidecar(cache_dir: Path, bucket: str, key: str) -> Path:
    return cache_dir / _META_DIR / bucket / f"{key}.json"


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

    class _FsspecProgress(Callback):
        def call(self, *args: Any, **kwargs: Any) -> None:
            progress(self.value, self.size)

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
    part = local.with_name(f".{local.name}.{secrets.token_hex(6)}.part")
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
        _download(fs, rpath, raw, local, _sidecar(cache_root, bucket, key), progress)
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
    done = 0
    with ThreadPoolExecutor(DIR_WORKERS, "lamin-sa-cache") as pool:
        futures = {
            pool.submit(_download, fs, name, raw, target, sidecar, None): raw
            for target, (name, raw, sidecar) in wanted.items()
        }
        for future in as_completed(futures):
            future.result()
            done += int(futures[future].get("size") or 0)
            if progress is not None:
                progress(done, total)
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
    part = local.with_name(f".{local.name}.{secrets.token_hex(6)}.part")
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


def purge_tmp(
    root: str | os.PathLike[str] | StorageRoot, older_than: float = 24 * 3600
) -> int:
    """Remove temporary objects left by crashed saves.

    Args:
        root: The storage root.
        older_than: Minimum age in seconds (keep recent ones: they may belong to a
            save in progress).

    Returns:
        The number of files/objects removed.
    """
    root = as_root(root)
    fs, base = root.fs, root.join(TMP_PREFIX.rstrip("/"))
    cutoff, removed = time.time() - older_than, 0
    try:
        objects = fs.find(base, detail=True)
    except FileNotFoundError:
        return 0
    for name, raw in objects.items():
        mtime = raw.get("mtime") if root.is_local else _remote_mtime(raw)
        if mtime is None or float(mtime) >= cutoff:
            continue
        try:
            fs.rm_file(name)
            removed += 1
        except FileNotFoundError:
            continue
    if root.is_local:  # drop emptied temporary folders
        for dirpath, _, _ in sorted(os.walk(base), reverse=True):
            if dirpath != base:
                try:
                    os.rmdir(dirpath)
                except OSError:
                    pass
    return removed
