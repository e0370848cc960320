"""One AnnData file opened for row reads: ``.h5ad`` via h5py, ``.zarr`` via zarr.

A :class:`FileHandle` is opened lazily, in the process that reads (never
inherited across a fork), and serves rows of ``X``, ``layers/<key>`` and
``obsm/<key>``. Rows are asked for as a sorted array of unique indices and read
in one pass per element: dense rows as one block, CSR rows as the
concatenated ``data``/``indices`` of just those rows plus per-row counts.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from lamin_sa.errors import StorageError, ValidationError
from lamin_sa.storage.paths import get_fs, protocol_of

logger = logging.getLogger(__name__)

# fsspec read-ahead for remote HDF5: big enough for a few rows, small enough
# not to pull the whole object
_REMOTE_BLOCK = 2**20
_SHORT = "The .h5ad file ended early: it changed while being read; open it again"


@dataclass(frozen=True)
class FileSpec:
    """Where a file is and how to open it (picklable; no open state)."""

    path: str
    kind: str  # "h5ad" | "zarr"
    storage_options: tuple[tuple[str, Any], ...] = ()

    @property
    def is_remote(self) -> bool:
        return protocol_of(self.path) != "file"


def file_kind(path: str) -> str | None:
    """``"h5ad"``, ``"zarr"`` or None from a path's suffix."""
    name = path.rstrip("/").lower()
    if name.endswith(".h5ad"):
        return "h5ad"
    if name.endswith(".zarr"):
        return "zarr"
    return None


@dataclass
class CsrBlock:
    """Rows of a CSR matrix: concatenated entries and entries per row."""

    data: np.ndarray
    indices: np.ndarray
    counts: np.ndarray


class DirectRanges:
    """Element ranges of an unfiltered HDF5 dataset read straight from the file.

    For a local ``.h5ad`` whose dataset is stored contiguously or in 1-D
    chunks without compression, the byte offset of every element is known,
    so ranges are read with ``os.preadv`` into the output buffer: one system
    call per piece of contiguous bytes, no HDF5 chunk cache in between.
    """

    def __init__(self, fd: int, dset: Any) -> None:
        from h5py import h5d

        self.fd = fd
        self.dtype = np.dtype(dset.dtype)
        plist = dset.id.get_create_plist()
        if plist.get_nfilters() or self.dtype.hasobject:
            raise _NoDirect
        layout = plist.get_layout()
        if layout == h5d.CONTIGUOUS:
            offset = dset.id.get_offset()
            if offset is None:  # never written
                raise _NoDirect
            self.chunk = 0
            self.offsets = np.array([offset], dtype=np.int64)
        elif layout == h5d.CHUNKED and len(dset.chunks) == 1:
            self.chunk = int(dset.chunks[0])
            n_chunks = -(-int(dset.shape[0]) // self.chunk)
            offsets = np.full(n_chunks, -1, dtype=np.int64)

            def visit(info: Any) -> None:
                offsets[info.chunk_offset[0] // self.chunk] = info.byte_offset

            try:
                dset.id.chunk_iter(visit)
            except (AttributeError, NotImplementedError):  # HDF5 < 1.12.3
                for i in range(dset.id.get_num_chunks()):
                    visit(dset.id.get_chunk_info(i))
            if (offsets < 0).any():  # unallocated chunks hold the fill value
                raise _NoDirect
            self.offsets = offsets
        else:
            raise _NoDirect

    def read_range(self, start: int, stop: int) -> np.ndarray:
        """``dset[start:stop]`` with plain integer arithmetic (one item's row)."""
        out = np.empty(max(stop - start, 0), dtype=self.dtype)
        buffer = memoryview(out.view(np.uint8))
        size = self.dtype.itemsize
        pos, at = 0, start
        while at < stop:
            if self.chunk:
                k, within = divmod(at, self.chunk)
                end = min(stop, (k + 1) * self.chunk)
                offset = int(self.offsets[k]) + within * size
            else:
                end, offset = stop, int(self.offsets[0]) + at * size
            length = (end - at) * size
            if os.preadv(self.fd, [buffer[pos : pos + length]], offset) != length:
                raise StorageError(f"{_SHORT} (byte {offset})")
            pos += length
            at = end
        return out

    def read(self, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
        """``concatenate([dset[s:e] for s, e in ranges])`` (ranges ascending)."""
        counts = (stops - starts).astype(np.int64)
        keep = counts > 0
        starts, stops, counts = starts[keep], stops[keep], counts[keep]
        out = np.empty(int(counts.sum()), dtype=self.dtype)
        if not len(out):
            return out
        size = self.dtype.itemsize
        if self.chunk:
            first = starts // self.chunk
            n_pieces = (stops - 1) // self.chunk - first + 1
            chunk = ragged_arange(first, n_pieces)
            owner = np.repeat(np.arange(len(starts)), n_pieces)
            lo = np.maximum(starts[owner], chunk * self.chunk)
            hi = np.minimum(stops[owner], (chunk + 1) * self.chunk)
            where = self.offsets[chunk] + (lo - chunk * self.chunk) * size
        else:
            lo, hi = starts, stops
            where = self.offsets[0] + lo * size
        nbytes = (hi - lo) * size
        # pieces that follow each other in the file are one read
        if len(where) > 1:
            joins = where[1:] != where[:-1] + nbytes[:-1]
            heads = np.concatenate(([0], np.flatnonzero(joins) + 1))
            nbytes = np.add.reduceat(nbytes, heads)
            where = where[heads]
        buffer = memoryview(out.view(np.uint8))
        pos = 0
        for offset, length in zip(where.tolist(), nbytes.tolist(), strict=True):
            got = os.preadv(self.fd, [buffer[pos : pos + length]], offset)
            if got != length:
                raise StorageError(f"{_SHORT} (byte {offset})")
            pos += length
        return out


class _NoDirect(Exception):
    """The dataset cannot be read around HDF5 (filters, layout); use h5py."""


def _direct(fd: int | None, dset: Any) -> DirectRanges | None:
    if fd is None:
        return None
    try:
        return DirectRanges(fd, dset)
    except _NoDirect:
        return None


class DenseRows:
    """Rows of a dense 2-D array."""

    sparse = False

    def __init__(self, array: Any, is_h5: bool, fd: int | None = None) -> None:
        self.array = array
        self.is_h5 = is_h5
        self.shape = tuple(int(n) for n in array.shape)
        self.dtype = np.dtype(array.dtype)
        # contiguous rows only: chunked 2-D arrays go through h5py
        direct = _direct(fd, array) if is_h5 else None
        self.direct = direct if direct is not None and not direct.chunk else None

    def read_one(self, row: int) -> np.ndarray:
        if self.direct is not None:
            n_cols = self.shape[1]
            return self.direct.read_range(row * n_cols, (row + 1) * n_cols)
        return np.asarray(self.array[row])

    def read(self, rows: np.ndarray) -> np.ndarray:
        n_cols = self.shape[1]
        if self.direct is not None:
            flat = self.direct.read(rows * n_cols, (rows + 1) * n_cols)
            return flat.reshape(len(rows), n_cols)
        if self.is_h5:
            return _h5_read_rows(self.array, rows, n_cols)
        return np.asarray(self.array.get_orthogonal_selection((rows, slice(None))))


class CsrRows:
    """Rows of a CSR matrix (``data``, ``indices``, ``indptr``); indptr in memory."""

    sparse = True

    def __init__(self, group: Any, is_h5: bool, fd: int | None = None) -> None:
        self.data = group["data"]
        self.indices = group["indices"]
        self.indptr = np.asarray(group["indptr"][...], dtype=np.int64)
        self.is_h5 = is_h5
        self.shape = tuple(int(n) for n in group.attrs["shape"])
        self.dtype = np.dtype(self.data.dtype)
        self.direct_data = _direct(fd, self.data) if is_h5 else None
        self.direct_indices = _direct(fd, self.indices) if is_h5 else None

    def read_one(self, row: int) -> CsrBlock:
        start, stop = int(self.indptr[row]), int(self.indptr[row + 1])
        if self.direct_data is not None and self.direct_indices is not None:
            data = self.direct_data.read_range(start, stop)
            indices = self.direct_indices.read_range(start, stop)
            return CsrBlock(data, indices, np.array([stop - start]))
        # a plain slice is h5py's fastest path for one range
        data = np.asarray(self.data[start:stop])
        indices = np.asarray(self.indices[start:stop])
        return CsrBlock(data, indices, np.array([stop - start]))

    def read(self, rows: np.ndarray) -> CsrBlock:
        starts = self.indptr[rows]
        stops = self.indptr[rows + 1]
        counts = stops - starts
        # adjacent rows are one contiguous range on disk
        if len(rows) > 1:
            breaks = np.flatnonzero(starts[1:] != stops[:-1]) + 1
            run_starts = starts[np.concatenate(([0], breaks))]
            run_stops = stops[np.concatenate((breaks - 1, [len(rows) - 1]))]
        else:
            run_starts, run_stops = starts, stops
        if self.direct_data is not None and self.direct_indices is not None:
            data = self.direct_data.read(run_starts, run_stops)
            indices = self.direct_indices.read(run_starts, run_stops)
        elif self.is_h5:
            data = _h5_read_ranges(self.data, run_starts, run_stops)
            indices = _h5_read_ranges(self.indices, run_starts, run_stops)
        else:
            where = ragged_arange(run_starts, run_stops - run_starts)
            data = np.asarray(self.data.get_orthogonal_selection(where))
            indices = np.asarray(self.indices.get_orthogonal_selection(where))
        return CsrBlock(data, indices, counts)


def ragged_arange(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, s + c) for s, c in zip(starts, counts)])``."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.cumsum(counts) - counts
    return np.arange(total, dtype=np.int64) + np.repeat(
        np.asarray(starts, dtype=np.int64) - offsets, counts
    )


def _h5_read_ranges(dset: Any, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Read ``dset[s:e]`` for all ranges with a single HDF5 read call."""
    from h5py import h5s

    total = int((stops - starts).sum())
    out = np.empty(total, dtype=dset.dtype)
    if total == 0:
        return out
    fspace = dset.id.get_space()
    if len(starts) == 1:
        fspace.select_hyperslab((int(starts[0]),), (total,))
    else:
        fspace.select_none()
        for start, stop in zip(starts.tolist(), stops.tolist(), strict=True):
            if stop > start:
                fspace.select_hyperslab((start,), (stop - start,), op=h5s.SELECT_OR)
    dset.id.read(h5s.create_simple((total,)), fspace, out)
    return out


def _h5_read_rows(dset: Any, rows: np.ndarray, n_cols: int) -> np.ndarray:
    """Read whole rows ``dset[rows]`` (sorted, unique) with one HDF5 read call."""
    from h5py import h5s

    out = np.empty((len(rows), n_cols), dtype=dset.dtype)
    if len(rows) == 0 or n_cols == 0:
        return out
    fspace = dset.id.get_space()
    fspace.select_none()
    breaks = np.flatnonzero(np.diff(rows) != 1) + 1
    for run in np.split(rows, breaks):
        fspace.select_hyperslab((int(run[0]), 0), (len(run), n_cols), op=h5s.SELECT_OR)
    dset.id.read(h5s.create_simple(out.shape), fspace, out)
    return out


class FileHandle:
    """An open AnnData file and the row readers of its elements."""

    def __init__(self, spec: FileSpec, direct: bool = True) -> None:
        self.spec = spec
        self.pid = os.getpid()  # the process that opened it (and may use it)
        self._fileobj: Any = None
        self.is_h5 = spec.kind == "h5ad"
        self.root = self._open()
        # raw reads of local, unfiltered datasets bypass HDF5 (see DirectRanges)
        self.fd: int | None = None
        if direct and self.is_h5 and not spec.is_remote:
            self.fd = os.open(spec.path, os.O_RDONLY)
        self._readers: dict[str, DenseRows | CsrRows] = {}

    def _open(self) -> Any:
        options = dict(self.spec.storage_options)
        if self.is_h5:
            import h5py

            if not self.spec.is_remote:
                return h5py.File(self.spec.path, "r")
            fs = get_fs(protocol_of(self.spec.path), options)
            self._fileobj = fs.open(
                self.spec.path, "rb", block_size=_REMOTE_BLOCK, cache_type="blockcache"
            )
            return h5py.File(self._fileobj, "r")
        import zarr

        if not self.spec.is_remote:
            return zarr.open_group(os.fspath(self.spec.path), mode="r")
        return zarr.open_group(_async_store(self.spec.path, options), mode="r")

    def element(self, key: str) -> Any:
        """``X``, ``layers/<key>`` or ``obsm/<key>`` as a row reader (cached)."""
        reader = self._readers.get(key)
        if reader is None:
            reader = self._readers[key] = row_reader(
                self.root, key, self.is_h5, self.fd
            )
        return reader

    def close(self) -> None:
        self._readers.clear()
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        if self.is_h5:
            try:
                self.root.close()
            except Exception:  # already closed or never fully opened
                logger.debug("closing %s failed", self.spec.path, exc_info=True)
        if self._fileobj is not None:
            self._fileobj.close()
            self._fileobj = None
        if not self.is_h5 and self.spec.is_remote:
            _close_async_fs(self.root.store.fs)


def _async_store(url: str, options: dict[str, Any]) -> Any:
    """A read-only zarr store over fsspec with an asynchronous filesystem."""
    import fsspec
    from zarr.storage import FsspecStore

    sync_fs = get_fs(protocol_of(url), options)
    protocol = protocol_of(url)
    fs = fsspec.filesystem(
        protocol,
        asynchronous=True,
        skip_instance_cache=True,
        **{
            k: v
            for k, v in sync_fs.storage_options.items()
            if k not in ("asynchronous", "skip_instance_cache")
        },
    )
    return FsspecStore(fs, read_only=True, path=url.split("://", 1)[1])


def _close_async_fs(fs: Any) -> None:
    """Close the HTTP session of an asynchronous filesystem zarr used."""
    client = getattr(fs, "_s3", None)
    if client is None:
        return
    try:
        from zarr.core.sync import sync

        sync(client.close())
    except Exception:  # closing is best effort; the process may be exiting
        logger.debug("closing the S3 session failed", exc_info=True)


def row_reader(
    root: Any, key: str, is_h5: bool, fd: int | None = None
) -> DenseRows | CsrRows:
    """A reader for the 2-D element at ``key`` in an AnnData group."""
    try:
        element = root[key]
    except KeyError:
        raise ValidationError(
            f"{key!r} is not in the file; pass keys that every file has."
        ) from None
    encoding = _attr(element, "encoding-type")
    if encoding == "csr_matrix":
        return CsrRows(element, is_h5, fd)
    if encoding == "csc_matrix":
        raise ValidationError(
            f"{key!r} is a CSC matrix: row access needs CSR or dense; write the "
            "file with the matrix converted to CSR (adata.X = adata.X.tocsr())."
        )
    if _is_group(element):
        raise ValidationError(
            f"{key!r} is a {encoding or 'group'}, not a dense or CSR array."
        )
    if len(element.shape) != 2:
        raise ValidationError(f"{key!r} is not a 2-D array.")
    return DenseRows(element, is_h5, fd)


def _attr(element: Any, name: str) -> Any:
    value = element.attrs.get(name)
    if isinstance(value, bytes):
        value = value.decode()
    return value


def _is_group(element: Any) -> bool:
    return not hasattr(element, "dtype")


def _read_elem(element: Any) -> Any:
    try:
        from anndata.io import read_elem
    except ImportError:  # anndata < 0.11
        from anndata.experimental import read_elem
    return read_elem(element)


def read_index(root: Any, df_key: str) -> np.ndarray:
    """The index of the dataframe at ``df_key`` (``obs`` or ``var``) as an array."""
    group = root[df_key]
    name = _attr(group, "_index") or "_index"
    return np.asarray(_read_elem(group[name]))


def read_obs_column(root: Any, column: str) -> Any:
    """An obs column as a pandas Categorical (strings and numbers made categorical).

    Raises:
        ValidationError: The file has no such obs column.
    """
    import pandas as pd

    obs = root["obs"]
    if column not in obs:
        raise ValidationError(
            f"obs column {column!r} is missing; pass obs_keys that every file has."
        )
    values = _read_elem(obs[column])
    if isinstance(values, pd.Categorical):
        return values
    return pd.Categorical(np.asarray(values))


def n_obs(root: Any) -> int:
    """Number of observations, from the length of the obs index."""
    group = root["obs"]
    return int(group[_attr(group, "_index") or "_index"].shape[0])
