"""Atomic saves: write under a temporary key, commit the row, move into place.

    staged = stage(src, root, ".lamindb/<uid>.parquet")  # temp object + hash
    ...commit the database row...
    staged.commit()   # move into place; on any failure call staged.abort()

Temporary objects live under ``<root>/.lamindb/_tmp/``; :func:`purge_tmp` removes
ones left behind by crashed processes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import shutil
import socket
import time
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from lamin_sa.errors import StorageError
from lamin_sa.progress import folder_progress, progress_bar, steps
from lamin_sa.storage.hashing import (
    _iter_files,
    fingerprint,
    hash_from_hashes,
)
from lamin_sa.storage.objects import _remote_mtime, delete, exists
from lamin_sa.storage.objects import size as objects_size
from lamin_sa.storage.paths import (
    TMP_PREFIX,
    StorageRoot,
    as_root,
    validate_key,
)
from lamin_sa.storage.upload import (
    DIR_WORKERS,
    ProgressCallback,
    Source,
    _is_dir_source,
    _write,
)

if TYPE_CHECKING:
    pass

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- staging


def _start_time(pid: int) -> str:
    """The kernel's start time of ``pid`` (tells a reused pid apart), or ""."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return ""


_HOST = hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]
#: objects of a folder moved into place per server-side copy call
COMMIT_BATCH = 200
_TAGS: dict[int, str] = {}


def process_tag() -> str:
    """``<host>.<pid>.<start>`` of this process: names its temporary objects.

    Example:
        >>> is_dead(process_tag())
        False
    """
    pid = os.getpid()
    tag = _TAGS.get(pid)
    if tag is None:
        tag = _TAGS[pid] = f"{_HOST}.{pid}.{_start_time(pid)}"
    return tag


def is_dead(tag: str) -> bool:
    """Whether the process that made ``tag`` surely ended (same host only).

    A tag of another host, or one that cannot be parsed, is never dead: its
    objects are left to the age rule.
    """
    host, _, rest = tag.partition(".")
    pid_text, _, start = rest.partition(".")
    if host != _HOST or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return bool(start) and _start_time(pid) not in ("", start)


def tag_of_tmp(key: str) -> str | None:
    """The process tag in a temporary key (None for keys of older versions)."""
    name = key.rstrip("/").removeprefix(TMP_PREFIX).split("/", 1)[0]
    tag, sep, _ = name.partition("-")
    return tag if sep and tag.count(".") == 2 else None


def _tmp_key(final_key: str) -> str:
    # never longer than a short name: keys up to 255 characters must work; the
    # suffix keeps the content type guessable on object stores
    suffix = PurePosixPath(final_key).suffix
    token = secrets.token_hex(8)
    return f"{TMP_PREFIX}{process_tag()}-{token}{suffix if len(suffix) <= 30 else ''}"


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

    def commit(self, *, prune: bool = True) -> str:
        """Move the temporary object (or folder) to its final key.

        Locally this is an atomic ``os.replace`` (a folder replaces an existing
        folder at the key); on object stores it is a server-side copy followed by
        deleting the temporary object (for folders, objects at the final prefix
        that are not part of the new folder are removed, unless ``prune`` is
        False). Idempotent.

        Args:
            prune: Remove objects of an older folder at the final prefix (object
                stores). Crash recovery passes False: a half-deleted temporary
                folder must not decide what the final folder keeps.

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
                self._commit_remote_dir(prune)
            else:
                # a server-side copy of a large object takes a while: say so
                with steps(
                    f"finishing upload: {self.final_path}",
                    ["moving into place", "cleaning up"],
                    work=self.size,
                ) as bar:
                    self.root.fs.cp_file(self.tmp_path, self.final_path)
                    bar.advance()
                    self.root.fs.rm_file(self.tmp_path)
        except Exception as e:
            if self._moved_by_another():
                self.state = "committed"
                return self.final_path
            raise StorageError(
                f"Moving {self.tmp_path} to {self.final_path} failed ({e}). "
                "Call abort() to remove the temporary object."
            ) from e
        self.state = "committed"
        return self.final_path

    def _moved_by_another(self) -> bool:
        """Whether a repair (or a reader) already moved the object into place."""
        try:
            if exists(self.root, self.tmp_key) or not exists(self.root, self.final_key):
                return False
            return self.is_dir or objects_size(self.root, self.final_key) == self.size
        except Exception:
            return False

    def _commit_local(self) -> None:
        tmp = Path(self.root.root, self.tmp_key)
        final = self.root.local_target(self.final_key)
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

    def _commit_remote_dir(self, prune: bool) -> None:
        fs, src_prefix, dst_prefix = self.root.fs, self.tmp_path, self.final_path
        sources = sorted(fs.find(src_prefix))
        src_base = fs._strip_protocol(src_prefix).rstrip("/") + "/"
        rels = [fs._strip_protocol(s)[len(src_base) :] for s in sources]
        targets = [f"{dst_prefix}/{r}" for r in rels]
        desc = f"finishing upload: moving files into {self.final_path}/"
        bar = folder_progress(len(sources), self.size, desc)
        if bar is None:
            fs.copy(sources, targets)
        else:  # in batches, to show progress by file
            for i in range(0, len(sources), COMMIT_BATCH):
                fs.copy(sources[i : i + COMMIT_BATCH], targets[i : i + COMMIT_BATCH])
                n = min(i + COMMIT_BATCH, len(sources))
                bar(n, self.size * n // len(sources))
        dst_base = fs._strip_protocol(dst_prefix).rstrip("/") + "/"
        keep = {dst_base + r for r in rels}
        stale = [p for p in fs.find(dst_prefix) if fs._strip_protocol(p) not in keep]
        if stale and prune:
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
    known_stat: tuple[int, int] | None = None,
) -> Staged:
    """Write a local file (or folder) under a temporary key of ``root``.

    The source is read once; its LaminDB hash is computed while copying, unless
    the caller already hashed the file (``known_hash``): then a local copy runs
    at kernel speed without hashing, trusted only while the file's
    ``(size, mtime_ns)`` still equals ``known_stat`` before and after the copy;
    otherwise the file is copied again while hashing it, so the returned hash
    always describes the stored bytes.

    Args:
        local_src: A local file or folder path, or a readable binary file object.
        root: The storage root (its temporary area ``.lamindb/_tmp/`` is used).
        final_key: Where :meth:`Staged.commit` will move the object; internal
            ``.lamindb/`` keys are allowed.
        progress: Optional ``progress(bytes_done, bytes_total)`` callback.
        known_hash: ``(hash, hash_type)`` of a local source file, computed earlier.
        known_stat: :func:`~lamin_sa.storage.hashing.fingerprint` of the file
            taken before ``known_hash`` was computed.

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
    if root.is_local:
        root.local_target(final_key)  # refuse symlinked keys before writing
    tmp_key = _tmp_key(final_key)
    if known_hash is not None and root.is_local and not hasattr(local_src, "read"):
        size_ = _copy_local(local_src, root, tmp_key, progress, known_stat)  # type: ignore[arg-type]
        if size_ is not None:
            return Staged(root, tmp_key, final_key, *known_hash, size_)
        logger.warning(
            "%s changed since it was hashed; hashing it again while copying",
            local_src,
        )
    hash_, hash_type, size_ = _write(local_src, root, tmp_key, progress)
    return Staged(root, tmp_key, final_key, hash_, hash_type, size_)


def _copy_local(
    src: str | os.PathLike[str],
    root: StorageRoot,
    key: str,
    progress: ProgressCallback | None,
    known_stat: tuple[int, int] | None = None,
) -> int | None:
    """Copy a local file into a local root with the kernel's copy; no hashing.

    Returns:
        The size, or None (nothing copied) if the file's fingerprint differs
        from ``known_stat`` before or after the copy.
    """
    if known_stat is not None and fingerprint(src) != known_stat:
        return None
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
    if known_stat is not None and (
        fingerprint(src) != known_stat or size_ != known_stat[0]
    ):
        dest.unlink(missing_ok=True)
        return None
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
    if root.is_local:
        root.local_target(final_key)  # refuse symlinked keys before writing
    tmp_key = _tmp_key(final_key)
    sizes = {f: f.stat().st_size for f in files}
    # many small files are slow too: by file count then, else by bytes
    bar = (
        None
        if progress
        else folder_progress(
            len(files),
            sum(sizes.values()),
            (f"{'copying' if root.is_local else 'uploading'} {base.name}/"),
        )
    )
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
                    if bar is not None:
                        bar(len(hashes), done)
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


def finish_move(
    root: str | os.PathLike[str] | StorageRoot,
    tmp_key: str,
    final_key: str,
    *,
    is_dir: bool = False,
    size: int | None = None,
) -> bool:
    """Roll a committed save forward: move its temporary object into place.

    Safe to run while the saving process is still alive (both moves end with the
    object at its final key) and to repeat.

    Args:
        root: The storage root.
        tmp_key: The temporary key the object was staged under.
        final_key: Its final key.
        is_dir: The object is a folder.
        size: The expected size of a file; a final object of another size does
            not count as moved.

    Returns:
        True if the object is now at its final key, False if it is lost (neither
        the temporary nor a matching final object exists).
    """
    root = as_root(root)
    staged = Staged(root, tmp_key, final_key, "", "", size or 0, None, is_dir)
    if exists(root, tmp_key):
        try:
            staged.commit(prune=False)
            return True
        except StorageError:
            if not exists(root, final_key):
                raise
    if not exists(root, final_key):
        return False
    return is_dir or size is None or objects_size(root, final_key) == size


def purge_tmp(
    root: str | os.PathLike[str] | StorageRoot,
    older_than: float = 24 * 3600,
    *,
    keep: Collection[str] = (),
) -> int:
    """Remove temporary objects and unfinished uploads left by crashed saves.

    Args:
        root: The storage root.
        older_than: Minimum age in seconds (keep recent ones: they may belong to a
            save in progress). Objects of processes on this host that ended are
            removed at any age.
        keep: Temporary keys a pending save still needs (never removed).

    Returns:
        The number of files/objects (and aborted multipart uploads) removed.
    """
    root = as_root(root)
    fs, base = root.fs, root.join(TMP_PREFIX.rstrip("/"))
    cutoff, removed = time.time() - older_than, 0
    kept = [root.join(k).rstrip("/") for k in keep]
    if root.protocol == "s3":
        removed += _abort_stale_uploads(root, cutoff, kept)
    try:
        objects = fs.find(base, detail=True)
    except FileNotFoundError:
        return removed
    for name, raw in objects.items():
        full = name if root.is_local else f"{root.protocol}://{name}"
        if any(full == k or full.startswith(k + "/") for k in kept):
            continue
        tag = tag_of_tmp(full[len(root.root) + 1 :])
        mtime = raw.get("mtime") if root.is_local else _remote_mtime(raw)
        stale = mtime is not None and float(mtime) < cutoff
        if not (stale or (tag is not None and is_dead(tag))):
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


def _abort_stale_uploads(root: StorageRoot, cutoff: float, kept: list[str]) -> int:
    """Abort multipart uploads under the temporary prefix started before cutoff."""
    fs = root.fs
    bucket, prefix, _ = fs.split_path(root.join(TMP_PREFIX.rstrip("/")) + "/")
    aborted = 0
    try:
        listing = fs.call_s3("list_multipart_uploads", Bucket=bucket, Prefix=prefix)
    except Exception as e:  # listing is best effort: report and go on
        logger.warning("could not list unfinished uploads in %s: %s", bucket, e)
        return 0
    for upload in listing.get("Uploads", []):
        key, started = upload["Key"], upload.get("Initiated")
        full = f"{root.protocol}://{bucket}/{key}"
        if any(full == k or full.startswith(k + "/") for k in kept):
            continue
        tag = tag_of_tmp(full[len(root.root) + 1 :])
        dead = tag is not None and is_dead(tag)
        if not dead and started is not None and started.timestamp() >= cutoff:
            continue
        try:
            fs.call_s3(
                "abort_multipart_upload",
                Bucket=bucket,
                Key=key,
                UploadId=upload["UploadId"],
            )
            aborted += 1
        except Exception as e:
            logger.warning("could not abort the upload of %s: %s", key, e)
    return aborted
