"""MappedCollection: many AnnData files as one map-style dataset for PyTorch.

The metadata that defines the dataset (observation counts, var names, the
requested obs columns as codes) is read once at construction, through file
handles that are closed again before the constructor returns. Rows are read
through handles opened lazily per process: a DataLoader worker (forked or
spawned) opens its own and never uses its parent's. With ``parallel=True``
no handle is kept at all; every read opens and closes the file.

Batches (``__getitems__``) group the requested indices per file, read each
file's rows sorted and unique in one pass, densify only those CSR rows and
return contiguous arrays that :func:`~lamin_sa.data.collate.collate` turns
into tensors without copying.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np

from lamin_sa.data.collate import MappedBatch, batch_array, collate
from lamin_sa.data.stores import (
    CsrBlock,
    FileHandle,
    FileSpec,
    file_kind,
    n_obs,
    ragged_arange,
    read_index,
    read_obs_column,
)
from lamin_sa.errors import StorageError, ValidationError

logger = logging.getLogger(__name__)

_JOINS = ("inner", "outer", None)


class _Alignment:
    """How one file's columns map onto the joint var space."""

    def __init__(self, n_in: int, col_map: np.ndarray | None, n_out: int) -> None:
        self.n_in = n_in
        self.n_out = n_out
        self.col_map = col_map  # file column -> joint column, -1 if dropped
        self.take: np.ndarray | None = None  # inner: file columns, joint order
        self.put: np.ndarray | None = None  # outer: joint positions of file columns
        if col_map is not None:
            if (col_map >= 0).all():
                self.put = col_map
            else:
                order = np.full(n_out, -1, dtype=np.int64)
                kept = np.flatnonzero(col_map >= 0)
                order[col_map[kept]] = kept
                self.take = order


class MappedCollection:
    """A map-style dataset over the rows of several ``.h5ad`` / ``.zarr`` files.

    Works with ``torch.utils.data.DataLoader`` (torch is imported only by
    :meth:`collate_fn`, and only if installed). An item is a dict: each
    layer key (``"X"`` for ``.X``) as a dense 1-D row, ``obsm_<key>`` rows,
    each obs key as an integer code (encoded) or its label, and
    ``_store_idx``, the position of the source file.

    Args:
        path_list: Local paths or URLs (``s3://...``) of ``.h5ad`` / ``.zarr`` files.
        layers_keys: Layers to return; ``"X"`` is ``.X``. Default ``["X"]``.
        obs_keys: obs columns to return.
        obsm_keys: obsm arrays to return as ``obsm_<key>``.
        join: Var alignment when the files' var names differ: ``"inner"``
            (intersection), ``"outer"`` (union, zero fill) or None (rows as stored).
        encode_labels: Return integer codes for all obs keys (True), none
            (False) or the listed ones.
        unknown_label: A label (or ``{obs_key: label}``) encoded as -1.
        parallel: Keep no open file handles; every read opens the file.
        dtype: Cast ``X``, layers and obsm rows to this dtype.
        storage_options: fsspec options for remote paths.

    Example::

        ds = MappedCollection(["a.h5ad", "b.zarr"], obs_keys=["cell_type"])
        loader = DataLoader(ds, batch_size=256, shuffle=True,
                            collate_fn=ds.collate_fn, num_workers=2)
    """

    collate_fn = staticmethod(collate)

    def __init__(
        self,
        path_list: Sequence[str | os.PathLike[str]],
        layers_keys: str | list[str] | None = None,
        obs_keys: str | list[str] | None = None,
        obsm_keys: str | list[str] | None = None,
        join: Literal["inner", "outer"] | None = "inner",
        encode_labels: bool | list[str] = True,
        unknown_label: str | dict[str, str] | None = None,
        parallel: bool = False,
        dtype: str | np.dtype | None = None,
        storage_options: Mapping[str, Any] | None = None,
    ) -> None:
        if join not in _JOINS:
            raise ValidationError(
                f"join must be 'inner', 'outer' or None, not {join!r}."
            )
        options = tuple(sorted((storage_options or {}).items()))
        self._specs: list[FileSpec] = []
        for path in path_list:
            text = os.fspath(path)
            kind = file_kind(text)
            if kind is None:
                raise ValidationError(
                    f"{text} is neither .h5ad nor .zarr; pass AnnData files only."
                )
            self._specs.append(FileSpec(text, kind, options))
        if not self._specs:
            raise ValidationError("Pass at least one .h5ad or .zarr file.")
        self.path_list = [s.path for s in self._specs]
        self.layers_keys = _as_list(layers_keys) or ["X"]
        self.obs_keys = _as_list(obs_keys)
        self.obsm_keys = _as_list(obsm_keys)
        self.join_vars = join
        self.parallel = parallel
        self.dtype = None if dtype is None else np.dtype(dtype)
        self.encode_labels = self._check_encode(encode_labels)
        self.unknown_label = self._check_unknown(unknown_label)
        self._handles: dict[int, FileHandle] = {}
        self._pid = os.getpid()
        self._closed = False
        self._read_metadata()

    # ---- construction ------------------------------------------------------------

    def _check_encode(self, encode_labels: bool | list[str]) -> list[str]:
        if encode_labels is True:
            return list(self.obs_keys)
        if encode_labels is False:
            return []
        encode = _as_list(encode_labels)
        missing = [k for k in encode if k not in self.obs_keys]
        if missing:
            raise ValidationError(
                f"encode_labels {missing} are not in obs_keys {self.obs_keys}; "
                "encode only keys you pass in obs_keys."
            )
        return encode

    def _check_unknown(self, unknown: str | dict[str, str] | None) -> dict[str, str]:
        if unknown is None:
            return {}
        if isinstance(unknown, str):
            return {k: unknown for k in self.encode_labels}
        missing = [k for k in unknown if k not in self.encode_labels]
        if missing:
            raise ValidationError(
                f"unknown_label keys {missing} are not encoded labels "
                f"{self.encode_labels}; add them to encode_labels."
            )
        return dict(unknown)

    def _read_metadata(self) -> None:
        import pandas as pd

        n_obs_list: list[int] = []
        var_list: list[Any] = []
        elements: list[dict[str, tuple[tuple[int, int], np.dtype]]] = []
        columns: list[dict[str, Any]] = []
        for spec in self._specs:
            handle = FileHandle(spec, direct=False)
            try:
                root = handle.root
                n_obs_list.append(n_obs(root))
                var_list.append(pd.Index(read_index(root, "var")))
                shapes = {}
                for key in self._element_keys():
                    reader = handle.element(key)
                    shapes[key] = (reader.shape, reader.dtype)
                elements.append(shapes)
                columns.append({k: read_obs_column(root, k) for k in self.obs_keys})
            finally:
                handle.close()
        self.n_obs_list = n_obs_list
        self.n_obs = int(sum(n_obs_list))
        self._offsets = np.concatenate(([0], np.cumsum(n_obs_list))).astype(np.int64)
        self.original_shapes = [
            (n, len(v)) for n, v in zip(n_obs_list, var_list, strict=True)
        ]
        self.var_list = var_list
        self._make_alignment(var_list)
        self._out_dtypes = {}
        for key in self._element_keys():
            dtypes = [shapes[key][1] for shapes in elements]
            self._out_dtypes[key] = self.dtype or np.result_type(*dtypes)
        # obsm rows batch into one array only if every file has the same width
        self._obsm_width: dict[str, int | None] = {}
        for key in self.obsm_keys:
            widths = {shapes[self._obsm_key(key)][0][1] for shapes in elements}
            self._obsm_width[key] = widths.pop() if len(widths) == 1 else None
        self._make_labels(columns)

    def _element_keys(self) -> list[str]:
        return [self._layer_key(k) for k in self.layers_keys] + [
            self._obsm_key(k) for k in self.obsm_keys
        ]

    @staticmethod
    def _layer_key(key: str) -> str:
        return "X" if key == "X" else f"layers/{key}"

    @staticmethod
    def _obsm_key(key: str) -> str:
        return f"obsm/{key}"

    def _make_alignment(self, var_list: list[Any]) -> None:
        from functools import reduce

        first = var_list[0]
        if all(v.equals(first) for v in var_list[1:]):
            self.var_joint = first
            self._aligned = [_Alignment(len(v), None, len(v)) for v in var_list]
            self.n_vars: int | None = len(first)
            return
        if self.join_vars is None:
            self.var_joint = None
            self._aligned = [_Alignment(len(v), None, len(v)) for v in var_list]
            self.n_vars = None
            return
        if self.join_vars == "inner":
            joint = reduce(lambda a, b: a.intersection(b, sort=False), var_list)
            if len(joint) == 0:
                raise ValidationError(
                    "The files don't have shared variables; use join='outer'."
                )
        else:
            joint = reduce(lambda a, b: a.union(b), var_list)
        self.var_joint = joint
        self.n_vars = len(joint)
        self._aligned = []
        for v in var_list:
            if v.has_duplicates:
                raise ValidationError(
                    "A file has duplicate var names; make them unique "
                    "(adata.var_names_make_unique()) to align files."
                )
            col_map = joint.get_indexer(v).astype(np.int64)
            self._aligned.append(_Alignment(len(v), col_map, len(joint)))

    def _make_labels(self, columns: list[dict[str, Any]]) -> None:
        self._categories: dict[str, list[Any]] = {}
        self._codes: dict[str, np.ndarray] = {}  # into merged categories, -1 missing
        self._encoded: dict[str, np.ndarray] = {}
        self._values: dict[str, np.ndarray] = {}  # merged categories + None
        self.encoders: dict[str, dict[Any, int]] = {}
        for key in self.obs_keys:
            merged = sorted({c for cols in columns for c in cols[key].categories})
            position = {c: i for i, c in enumerate(merged)}
            parts = []
            for cols in columns:
                cat = cols[key]
                lut = np.array([position[c] for c in cat.categories], dtype=np.int64)
                codes = np.asarray(cat.codes, dtype=np.int64)
                parts.append(
                    np.where(codes >= 0, lut[np.maximum(codes, 0)], -1)
                    if len(lut)
                    else np.full(len(codes), -1, dtype=np.int64)
                )
            self._categories[key] = merged
            values = np.empty(len(merged) + 1, dtype=object)  # last: missing
            values[: len(merged)] = merged
            self._values[key] = values
            self._codes[key] = np.concatenate(parts) if parts else np.zeros(0, int)
            if key in self.encode_labels:
                unknown = self.unknown_label.get(key)
                known = [c for c in merged if c != unknown]
                encoder = {c: i for i, c in enumerate(known)}
                if unknown is not None:
                    encoder[unknown] = -1
                self.encoders[key] = encoder
                code_map = np.array([encoder[c] for c in merged] + [-1], dtype=np.int64)
                self._encoded[key] = code_map[self._codes[key]]  # -1 indexes "missing"

    # ---- size --------------------------------------------------------------------

    def __len__(self) -> int:
        return self.n_obs

    @property
    def shape(self) -> tuple[int, int | None]:
        """``(n_obs, n_vars)``; n_vars is None for ``join=None`` over differing vars."""
        return (self.n_obs, self.n_vars)

    @property
    def closed(self) -> bool:
        return self._closed

    # ---- file handles ------------------------------------------------------------

    def _handle(self, file: int) -> FileHandle:
        if self._closed:
            raise StorageError(
                "The MappedCollection is closed; create a new one with mapped()."
            )
        if self.parallel:
            # opened for one read: indexing chunk offsets would cost more
            return FileHandle(self._specs[file], direct=False)
        pid = os.getpid()
        if pid != self._pid:
            # a forked child: the parent's handles are not ours to use or close
            self._handles = {}
            self._pid = pid
        handle = self._handles.get(file)
        if handle is None:
            handle = self._handles[file] = FileHandle(self._specs[file])
        return handle

    def _release(self, handle: FileHandle) -> None:
        if self.parallel:
            handle.close()

    def close(self) -> None:
        """Close the file handles of this process."""
        if os.getpid() == self._pid:
            for handle in self._handles.values():
                handle.close()
        self._handles = {}
        self._closed = True

    def __enter__(self) -> MappedCollection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_handles"] = {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._pid = os.getpid()

    @staticmethod
    def torch_worker_init_fn(worker_id: int) -> None:
        """DataLoader ``worker_init_fn``: drop any handles the worker inherited."""
        from torch.utils.data import get_worker_info

        info = get_worker_info()
        if info is not None and isinstance(info.dataset, MappedCollection):
            info.dataset._handles = {}
            info.dataset._pid = os.getpid()

    # ---- items -------------------------------------------------------------------

    def _locate(self, idx: int) -> tuple[int, int]:
        if idx < 0:
            idx += self.n_obs
        if not 0 <= idx < self.n_obs:
            raise IndexError(
                f"index {idx} is out of range for {self.n_obs} observations"
            )
        file = int(np.searchsorted(self._offsets, idx, side="right")) - 1
        return file, idx - int(self._offsets[file])

    def __getitem__(self, idx: int) -> dict[str, Any]:
        file, row = self._locate(int(idx))
        out: dict[str, Any] = {}
        handle = self._handle(file)
        try:
            for key in self.layers_keys:
                element = self._layer_key(key)
                out[key] = self._one_row(handle, file, element, row, align=True)
            for key in self.obsm_keys:
                element = self._obsm_key(key)
                out[f"obsm_{key}"] = self._one_row(handle, file, element, row, False)
        finally:
            self._release(handle)
        gidx = int(self._offsets[file]) + row
        for key in self.obs_keys:
            out[key] = self._label(key, gidx)
        out["_store_idx"] = file
        return out

    def _label(self, key: str, gidx: int) -> Any:
        if key in self._encoded:
            return int(self._encoded[key][gidx])
        code = self._codes[key][gidx]
        return None if code < 0 else self._categories[key][code]

    def _one_row(
        self, handle: FileHandle, file: int, element: str, row: int, align: bool
    ) -> np.ndarray:
        reader = handle.element(element)
        dtype = self.dtype or reader.dtype
        alignment = self._aligned[file] if align else None
        block = reader.read_one(row)
        if isinstance(block, CsrBlock):
            width = alignment.n_out if alignment is not None else reader.shape[1]
            out = np.zeros(width, dtype=dtype)
            cols = block.indices
            if alignment is not None and alignment.col_map is not None:
                cols = alignment.col_map[cols]
                keep = cols >= 0
                out[cols[keep]] = block.data[keep]
            else:
                out[cols] = block.data
            return out
        if alignment is None or alignment.col_map is None:
            return block.astype(dtype, copy=False)
        if alignment.take is not None:
            return block[alignment.take].astype(dtype, copy=False)
        out = np.zeros(alignment.n_out, dtype=dtype)
        out[alignment.put] = block
        return out

    def __getitems__(
        self, indices: Sequence[int]
    ) -> MappedBatch | list[dict[str, Any]]:
        """Items for a list of indices, read per file in one sorted pass.

        Returns a :class:`~lamin_sa.data.collate.MappedBatch`: a sequence of
        item dicts (what the default collate expects) backed by one contiguous
        array per key (what :meth:`collate_fn` returns as tensors).
        """
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        idx = np.where(idx < 0, idx + self.n_obs, idx)
        if len(idx) and (idx.min() < 0 or idx.max() >= self.n_obs):
            bad = int(idx[(idx < 0) | (idx >= self.n_obs)][0])
            raise IndexError(
                f"index {bad} is out of range for {self.n_obs} observations"
            )
        if self.n_vars is None:  # rows of different widths: no contiguous batch
            return [self[int(i)] for i in idx]
        files = np.searchsorted(self._offsets, idx, side="right") - 1
        rows = idx - self._offsets[files]
        if any(self._obsm_width[key] is None for key in self.obsm_keys):
            return [self[int(i)] for i in idx]
        arrays: dict[str, np.ndarray] = {}
        tensors: dict[str, Any] = {}
        widths = [(key, self._layer_key(key), self.n_vars) for key in self.layers_keys]
        widths += [
            (f"obsm_{key}", self._obsm_key(key), self._obsm_width[key])
            for key in self.obsm_keys
        ]
        for name, element, width in widths:
            shape = (len(idx), int(width))  # type: ignore[arg-type]
            arrays[name], tensor = batch_array(shape, self._out_dtypes[element])
            if tensor is not None:
                tensors[name] = tensor
        for file in np.unique(files).tolist():
            positions = np.flatnonzero(files == file)
            file_rows = rows[positions]
            order = np.argsort(file_rows, kind="stable")
            positions, file_rows = positions[order], file_rows[order]
            unique, inverse = np.unique(file_rows, return_inverse=True)
            handle = self._handle(file)
            try:
                for key in self.layers_keys:
                    block = handle.element(self._layer_key(key)).read(unique)
                    _place(arrays[key], block, positions, inverse, self._aligned[file])
                for key in self.obsm_keys:
                    block = handle.element(self._obsm_key(key)).read(unique)
                    _place(arrays[f"obsm_{key}"], block, positions, inverse, None)
            finally:
                self._release(handle)
        labels: dict[str, Any] = {}
        for key in self.obs_keys:
            if key in self._encoded:
                labels[key] = self._encoded[key][idx]
            else:
                labels[key] = self._values[key][self._codes[key][idx]]
        arrays.update(labels)
        arrays["_store_idx"] = files
        return MappedBatch(arrays, encoded=set(self._encoded), tensors=tensors)

    # ---- labels ------------------------------------------------------------------

    def _check_key(self, key: str) -> None:
        if key not in self._codes:
            raise ValidationError(
                f"{key!r} is not one of obs_keys {self.obs_keys}; pass it in obs_keys."
            )

    def get_merged_categories(self, label_key: str) -> list[Any]:
        """The sorted union of the label's categories over all files.

        Example::

            ds.get_merged_categories("cell_type")  # ['B cell', 'T cell']
        """
        self._check_key(label_key)
        return list(self._categories[label_key])

    def get_merged_labels(self, label_key: str) -> np.ndarray:
        """The label of every observation, in dataset order (missing: None).

        Example::

            ds.get_merged_labels("cell_type")[:3]
        """
        self._check_key(label_key)
        return self._values[label_key][self._codes[label_key]]

    def get_label_weights(
        self,
        obs_keys: str | list[str],
        scaler: float | None = None,
        return_categories: bool = False,
    ) -> np.ndarray | dict[str, float]:
        """Per-observation weights: the inverse frequency of its label(s).

        With several keys, the combination of labels counts (``"a__b"``). With
        ``scaler``, the weight is ``scaler / (count + scaler)``. Pass the result
        to ``torch.utils.data.WeightedRandomSampler``.

        Args:
            obs_keys: One obs key or several.
            scaler: Damp the weights of rare labels.
            return_categories: Return ``{label: weight}`` instead.

        Example::

            w = ds.get_label_weights("perturbation")
            WeightedRandomSampler(weights=w, num_samples=len(ds))
        """
        keys = _as_list(obs_keys)
        if not keys:
            raise ValidationError("Pass at least one obs key.")
        for key in keys:
            self._check_key(key)
        # missing values (-1) count as a label of their own
        stacked = np.stack([self._codes[k] for k in keys], axis=1)
        combos, codes = np.unique(stacked, axis=0, return_inverse=True)
        codes = codes.reshape(-1)
        per_combo = np.bincount(codes, minlength=len(combos)).astype(np.float64)
        weight = 1.0 / per_combo if scaler is None else scaler / (per_combo + scaler)
        if return_categories:
            names = []
            for combo in combos:
                parts = [
                    str(self._categories[k][c]) if c >= 0 else "nan"
                    for k, c in zip(keys, combo.tolist(), strict=True)
                ]
                names.append("__".join(parts))
            return dict(zip(names, weight.tolist(), strict=True))
        return weight[codes]

    def __repr__(self) -> str:
        return (
            f"MappedCollection(n_files={len(self._specs)}, shape={self.shape}, "
            f"layers_keys={self.layers_keys}, obs_keys={self.obs_keys}, "
            f"join={self.join_vars!r})"
        )


def _place(
    out: np.ndarray,
    block: np.ndarray | CsrBlock,
    positions: np.ndarray,
    inverse: np.ndarray,
    alignment: _Alignment | None,
) -> None:
    """Write a file's rows (unique, sorted) into the batch rows ``positions``."""
    col_map = None if alignment is None else alignment.col_map
    if isinstance(block, CsrBlock):
        data, cols, counts = block.data, block.indices, block.counts
        if len(inverse) != len(counts):  # duplicates: repeat the unique rows
            starts = np.cumsum(counts) - counts
            where = ragged_arange(starts[inverse], counts[inverse])
            data, cols, counts = data[where], cols[where], counts[inverse]
        dst = np.repeat(positions, counts)
        if col_map is not None:
            cols = col_map[cols]
            if alignment is not None and alignment.take is not None:
                keep = cols >= 0
                dst, cols, data = dst[keep], cols[keep], data[keep]
        out[dst, cols] = data
        return
    if len(inverse) != len(block):
        block = block[inverse]
    if col_map is None:
        out[positions] = block
    elif alignment is not None and alignment.take is not None:
        out[positions] = block[:, alignment.take]
    else:
        assert alignment is not None and alignment.put is not None
        out[np.ix_(positions, alignment.put)] = block


def _as_list(keys: str | Iterable[str] | None) -> list[str]:
    if keys is None:
        return []
    if isinstance(keys, str):
        return [keys]
    return list(keys)
