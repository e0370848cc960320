"""LaminDB-compatible content hashes for files, folders, S3 ETags and sets.

Hash types (reference §2):

- ``"md5"``: files up to 50 MiB, md5 of the whole content.
- ``"sha1-fl"``: larger files, sha1 over sha1(first 50 MiB) ‖ sha1(last 50 MiB).
- ``"md5-d"``: folders, md5 over the md5 digests of the sorted per-file hashes.
- ``"md5-n"``: multipart S3 uploads, the ETag carried over as ``<b64>-<n parts>``.

All digests are rendered as urlsafe base64 without padding, truncated to 22 chars.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections import deque
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

from lamin_sa.errors import StorageError

HASH_LENGTH = 22
SET_HASH_LENGTH = 20
FIRST_LAST_SIZE = 50 * 1024 * 1024  # 50 MiB, the md5 / sha1-fl threshold
CHUNK_SIZE = 8 * 1024 * 1024  # 8 MiB read size
_MAX_PENDING = 8  # chunks queued for the background hasher (~64 MiB)

__all__ = [
    "CHUNK_SIZE",
    "FIRST_LAST_SIZE",
    "HASH_LENGTH",
    "StreamHasher",
    "b64",
    "hash_dir",
    "hash_file",
    "hash_from_etag",
    "hash_from_hashes",
    "hash_remote_dir",
    "hash_set",
]


def b64(digest: bytes) -> str:
    """Render a digest as urlsafe base64 without ``=`` padding."""
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def hash_set(strings: Iterable[str]) -> str:
    """Hash a set of strings independently of their order.

    Used for FeatureSet (member uids) and Collection (artifact hashes).

    Args:
        strings: The strings; duplicates count once.

    Returns:
        md5 of the sorted strings joined by ``:``, urlsafe base64, 20 chars.
    """
    joined = ":".join(sorted(set(strings))).encode("utf-8")
    return b64(hashlib.md5(joined).digest())[:SET_HASH_LENGTH]


def hash_from_hashes(hashes: Iterable[str]) -> str:
    """Combine per-file hashes into one folder hash (the ``md5-d`` algorithm).

    Args:
        hashes: One hash string per file, in any order.

    Returns:
        md5 over the concatenated md5 digests of the sorted hash strings, 22 chars.
    """
    digests = b"".join(hashlib.md5(h.encode("utf-8")).digest() for h in sorted(hashes))
    return b64(hashlib.md5(digests).digest())[:HASH_LENGTH]


class StreamHasher:
    """Hash a byte stream chunk by chunk, with :func:`hash_file` semantics.

    If the total ``size`` is known in advance (a local file), the hash is computed
    on the fly: md5 of everything up to 50 MiB, otherwise sha1 of just the first
    and the last 50 MiB; with ``threaded=True`` this happens in a background
    thread so that hashing overlaps with I/O (hashlib releases the GIL).

    If the size is unknown, the hasher keeps the most recent 50 MiB of chunks (by
    reference, no copies) and hashes lazily: md5 at :meth:`result` time for
    streams up to 50 MiB; once the stream exceeds 50 MiB the first 50 MiB are
    hashed with sha1 and only the tail is kept. Memory stays below 50 MiB plus one
    chunk, and each byte is hashed at most once per digest.

    Chunks must not be mutated after being fed: pass ``bytes`` (as returned by
    ``file.read(n)``); ``bytearray`` and ``memoryview`` chunks are copied.

    Args:
        size: The total number of bytes that will be fed, if known.
        threaded: Hash in a background thread (only with a known ``size``); call
            :meth:`close` when abandoning the hasher before :meth:`result`.

    Example:
        >>> h = StreamHasher()
        >>> h.update(b"0")
        >>> h.result()
        ('z80ghJXVZe9m59_5-Ydk2g', 'md5')
    """

    def __init__(self, size: int | None = None, *, threaded: bool = False) -> None:
        self.size = 0
        self._expected = size
        self._chunks: deque[bytes] = deque()  # unknown size: the recent chunks
        self._buffered = 0
        self._head: bytes | None = None  # unknown size: sha1 of the first 50 MiB
        self._segments: list[tuple[Any, int, int]] = []  # known size: (h, lo, hi)
        self._pool: ThreadPoolExecutor | None = None
        self._pending: deque[Future[None]] = deque()
        if size is not None:
            if size <= FIRST_LAST_SIZE:
                self._segments = [(hashlib.md5(), 0, size)]
            else:
                last = size - FIRST_LAST_SIZE
                self._segments = [
                    (hashlib.sha1(), 0, FIRST_LAST_SIZE),
                    (hashlib.sha1(), last, size),
                ]
            if threaded:
                self._pool = ThreadPoolExecutor(1, "lamin-sa-hash")

    def update(self, chunk: bytes | bytearray | memoryview) -> None:
        """Feed the next chunk of the stream."""
        if not chunk:
            return
        if not isinstance(chunk, bytes):
            chunk = bytes(chunk)
        start = self.size
        self.size += len(chunk)
        if self._expected is None:
            self._update_unknown(chunk)
            return
        for hasher, lo, hi in self._segments:
            a, b = max(start, lo), min(self.size, hi)
            if a >= b:
                continue
            piece = memoryview(chunk)[a - start : b - start]
            if self._pool is None:
                hasher.update(piece)
            else:
                self._pending.append(self._pool.submit(hasher.update, piece))
        while len(self._pending) > _MAX_PENDING:
            self._pending.popleft().result()

    def skip(self, n: int) -> None:
        """Advance over ``n`` bytes that no digest needs (copied elsewhere).

        Only possible with a known ``size``, for bytes between the first and the
        last 50 MiB.

        Raises:
            ValueError: The skipped range is needed by the hash.
        """
        start, end = self.size, self.size + n
        if self._expected is None or any(
            max(start, lo) < min(end, hi) for _, lo, hi in self._segments
        ):
            raise ValueError(f"Bytes {start}-{end} are needed for the hash.")
        self.size = end

    def _update_unknown(self, chunk: bytes) -> None:
        self._chunks.append(chunk)
        self._buffered += len(chunk)
        if self._head is None:
            if self.size <= FIRST_LAST_SIZE:
                return
            self._head = _sha1_of(self._chunks, 0, FIRST_LAST_SIZE)
        # keep just enough chunks to cover the last 50 MiB
        while self._buffered - len(self._chunks[0]) >= FIRST_LAST_SIZE:
            self._buffered -= len(self._chunks.popleft())

    def result(self) -> tuple[str, str]:
        """Return ``(hash, hash_type)`` of everything fed.

        Raises:
            StorageError: A known ``size`` was given but a different number of
                bytes was fed (the source changed while it was read).
        """
        if self._expected is not None:
            while self._pending:
                self._pending.popleft().result()
            self.close()
            if self.size != self._expected:
                raise StorageError(
                    f"Expected {self._expected} bytes but read {self.size}: the "
                    "source changed while it was read. Retry once it is complete."
                )
            digests = [hasher.digest() for hasher, _, _ in self._segments]
        elif self._head is None:
            md5 = hashlib.md5()
            for chunk in self._chunks:
                md5.update(chunk)
            digests = [md5.digest()]
        else:
            skip = self._buffered - FIRST_LAST_SIZE
            digests = [self._head, _sha1_of(self._chunks, skip, FIRST_LAST_SIZE)]
        if len(digests) == 1:
            return b64(digests[0]), "md5"
        digest = hashlib.sha1(digests[0] + digests[1]).digest()
        return b64(digest)[:HASH_LENGTH], "sha1-fl"

    def close(self) -> None:
        """Stop the background thread (idempotent); pending work is dropped."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _sha1_of(chunks: Iterable[bytes], skip: int, length: int) -> bytes:
    """sha1 of ``length`` bytes of the concatenated ``chunks`` after ``skip``."""
    sha1 = hashlib.sha1()
    for chunk in chunks:
        if length <= 0:
            break
        n = len(chunk)
        if skip >= n:
            skip -= n
            continue
        view = memoryview(chunk)[skip : skip + length]
        sha1.update(view)
        length -= len(view)
        skip = 0
    return sha1.digest()


def hash_file(path_or_fileobj: str | os.PathLike[str] | BinaryIO) -> tuple[str, str]:
    """Hash a local file like LaminDB does.

    Args:
        path_or_fileobj: A local path, or a binary file object positioned at the
            start of the content (seekable objects are read partially for large
            content, others are streamed once).

    Returns:
        ``(hash, hash_type)`` with ``hash_type`` ``"md5"`` (≤ 50 MiB) or
        ``"sha1-fl"``.
    """
    if hasattr(path_or_fileobj, "read"):
        return _hash_fileobj(path_or_fileobj)  # type: ignore[arg-type]
    with open(path_or_fileobj, "rb", buffering=0) as f:
        return _hash_fileobj(f)


def _hash_fileobj(f: BinaryIO) -> tuple[str, str]:
    try:
        seekable = f.seekable()
    except (AttributeError, OSError, ValueError):
        seekable = False
    if seekable:
        start = f.tell()
        end = f.seek(0, os.SEEK_END)
        size = end - start
        f.seek(start)
        if size > FIRST_LAST_SIZE:
            head = hashlib.sha1(_read_exactly(f, FIRST_LAST_SIZE)).digest()
            f.seek(end - FIRST_LAST_SIZE)
            tail = hashlib.sha1(_read_exactly(f, FIRST_LAST_SIZE)).digest()
            return b64(hashlib.sha1(head + tail).digest())[:HASH_LENGTH], "sha1-fl"
    hasher = StreamHasher()
    while chunk := f.read(CHUNK_SIZE):
        hasher.update(chunk)
    return hasher.result()


def _read_exactly(f: BinaryIO, n: int) -> bytes:
    parts = []
    while n > 0 and (chunk := f.read(n)):
        parts.append(chunk)
        n -= len(chunk)
    return b"".join(parts)


def _iter_files(path: Path) -> list[Path]:
    """All regular files below ``path`` (symlinked files followed), sorted."""
    files = []
    for dirpath, _dirnames, filenames in os.walk(path):
        for name in filenames:
            file = Path(dirpath, name)
            if file.is_file():
                files.append(file)
    files.sort()
    return files


def hash_dir(
    path: str | os.PathLike[str], max_workers: int | None = None
) -> tuple[str, str, int, int]:
    """Hash a local folder like LaminDB does (``md5-d``).

    Every file below ``path`` is hashed with :func:`hash_file` in a thread pool
    (hashlib releases the GIL), then combined with :func:`hash_from_hashes`.

    Args:
        path: The folder.
        max_workers: Threads for per-file hashing; default
            ``min(32, cpu_count + 4)``.

    Returns:
        ``(hash, "md5-d", total_size, n_objects)``.

    Raises:
        StorageError: The folder does not exist or holds no files.
    """
    root = Path(path)
    if not root.is_dir():
        raise StorageError(f"{root} is not a folder; pass an existing folder path.")
    files = _iter_files(root)
    if not files:
        raise StorageError(
            f"The folder {root} contains no files; add files or pass a file instead."
        )
    size = sum(f.stat().st_size for f in files)
    if len(files) == 1:
        hashes = [hash_file(files[0])[0]]
    else:
        with ThreadPoolExecutor(max_workers=max_workers) as pool:
            hashes = [h for h, _ in pool.map(hash_file, files)]
    return hash_from_hashes(hashes), "md5-d", size, len(files)


def hash_from_etag(etag: str) -> tuple[str, str]:
    """Convert an S3 ETag into a LaminDB hash without reading the object.

    Args:
        etag: The ETag as returned by S3, quoted or not: ``"<hex md5>"`` for plain
            uploads, ``"<hex>-<n>"`` for multipart uploads.

    Returns:
        ``(b64, "md5")`` for plain ETags (equal to :func:`hash_file` of the same
        bytes) or ``(f"{b64}-{n}", "md5-n")`` for multipart ETags.

    Raises:
        ValueError: The ETag is not hex (e.g. an SSE-KMS or unknown format).
    """
    stripped = etag.strip().strip('"')
    hex_part, sep, n_parts = stripped.partition("-")
    try:
        digest = base64.b16decode(hex_part, casefold=True)
    except ValueError as e:
        raise ValueError(f"ETag {etag!r} is not a hex md5 digest.") from e
    if sep:
        if not n_parts.isdigit():
            raise ValueError(f"ETag {etag!r} has an invalid part count.")
        return f"{b64(digest)[:HASH_LENGTH]}-{n_parts}", "md5-n"
    return b64(digest)[:HASH_LENGTH], "md5"


def _etag_of(entry: Mapping[str, Any] | str) -> str:
    if isinstance(entry, str):
        return entry
    for field in ("ETag", "etag", "md5Hash"):
        value = entry.get(field)
        if value:
            return str(value)
    raise ValueError(f"Object {entry.get('name', entry)!r} has no ETag.")


def hash_remote_dir(
    entries: Iterable[Mapping[str, Any] | str],
) -> tuple[str, str, int, int]:
    """Hash a cloud folder from the ETags of its objects (``md5-d``).

    As in LaminDB, the raw ETag strings (quotes and ``=`` stripped) are combined
    with :func:`hash_from_hashes`, so the result differs from :func:`hash_dir` of
    the same files on disk.

    Args:
        entries: fsspec info dicts of the folder's objects (with ``ETag`` or
            ``md5Hash``, and ``size``), e.g. ``fs.find(path, detail=True).values()``,
            or bare ETag strings (size then counts as 0).

    Returns:
        ``(hash, "md5-d", total_size, n_objects)``.

    Raises:
        StorageError: There are no objects.
    """
    etags: list[str] = []
    size = 0
    for entry in entries:
        etags.append(_etag_of(entry).strip().strip('"='))
        if not isinstance(entry, str):
            size += int(entry.get("size") or 0)
    if not etags:
        raise StorageError("The cloud folder contains no objects.")
    return hash_from_hashes(etags), "md5-d", size, len(etags)


def fingerprint(path: str | os.PathLike[str]) -> tuple[int, int]:
    """``(size, mtime_ns)`` of a local file: an earlier hash holds while it matches.

    Example:
        >>> before = fingerprint(path); h = hash_file(path)
        >>> trusted = fingerprint(path) == before
    """
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns
