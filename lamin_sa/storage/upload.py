"""Writing bytes into storage: sinks and the hash-while-copying pump.

Sinks write locally, to S3 (multipart) or to any fsspec filesystem. Every byte
lamin-sa stores goes through :func:`_write`.
"""

from __future__ import annotations

import logging
import mimetypes
import os
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from lamin_sa.errors import StorageError
from lamin_sa.progress import ProgressCallback, steps
from lamin_sa.storage.hashing import (
    CHUNK_SIZE,
    FIRST_LAST_SIZE,
    StreamHasher,
)
from lamin_sa.storage.paths import (
    StorageRoot,
)

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

logger = logging.getLogger(__name__)


Source = str | os.PathLike[str] | BinaryIO

PART_SIZE = 8 * 1024 * 1024  # S3 multipart part size (min 5 MiB)
MAX_PARTS = 9000  # S3 allows 10000; keep headroom for streams of unknown size
UPLOAD_CONCURRENCY = 4
DIR_WORKERS = 8


# --------------------------------------------------------------------------- sinks


class _LocalSink:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.file = open(path, "wb", buffering=0)

    def write(self, chunk: bytes) -> None:
        n = self.file.write(chunk)
        if n != len(chunk):
            self._write_rest(memoryview(chunk)[n or 0 :])

    def _write_rest(self, view: memoryview) -> None:
        # an unbuffered write may store fewer bytes than given (a nearly full
        # disk); keep writing, and fail loudly when nothing more fits
        while view:
            n = self.file.write(view)
            if not n:
                raise StorageError(
                    f"Only part of the data fit into {self.path} (is the disk "
                    "full?); free space and retry."
                )
            view = view[n:]

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
        if isinstance(sink, _LocalSink):
            sink.close()
        else:  # the last parts are still in flight when every byte was read
            with steps(
                f"finishing upload of {Path(_describe(src)).name}",
                ["completing the upload"],
                work=report.done,
            ):
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
