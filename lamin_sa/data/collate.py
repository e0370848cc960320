"""Batches of a mapped collection: contiguous arrays, tensors without copies.

``MappedCollection.__getitems__`` returns a :class:`MappedBatch`. It behaves
as the list of item dicts that PyTorch's default collate expects, while
:func:`collate` takes its arrays as they are: numeric arrays become tensors
through ``torch.from_numpy`` (no copy), labels that are not encoded stay a
list, as with the default collate.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

_TORCH: Any = None
_NUMBER = (int, float, np.integer, np.floating)


def _torch() -> Any:
    """The torch module, or False when it is not installed (looked up once)."""
    global _TORCH
    if _TORCH is None:
        try:
            import torch
        except ImportError:
            _TORCH = False
        else:
            _TORCH = torch
    return _TORCH


def batch_array(shape: tuple[int, ...], dtype: Any) -> tuple[np.ndarray, Any]:
    """A zeroed array for a batch, and the tensor it belongs to (or None).

    Inside a DataLoader worker the memory is allocated as shared memory, as
    PyTorch's default collate does, so sending the batch to the main process
    does not copy it once more.
    """
    torch = sys.modules.get("torch")  # a worker has imported torch already
    if torch is not None and torch.utils.data.get_worker_info() is not None:
        dtype = np.dtype(dtype)
        t_dtype = torch.from_numpy(np.empty(0, dtype=dtype)).dtype
        nbytes = int(np.prod(shape)) * dtype.itemsize
        storage = torch.UntypedStorage._new_shared(nbytes)
        tensor = torch.empty(0, dtype=t_dtype).set_(storage, 0, shape)
        tensor.zero_()
        return tensor.numpy(), tensor
    return np.zeros(shape, dtype=dtype), None


class MappedBatch(Sequence):
    """Items of one batch backed by one array per key.

    ``batch.arrays[key]`` holds the whole batch (rows in request order);
    ``batch[i]`` is the i-th item dict, with views into those arrays.
    """

    def __init__(
        self,
        arrays: dict[str, np.ndarray],
        encoded: set[str],
        tensors: dict[str, Any] | None = None,
    ) -> None:
        self.arrays = arrays
        self.tensors = tensors or {}  # shared-memory tensors behind some arrays
        self._encoded = encoded

    def __len__(self) -> int:
        return len(self.arrays["_store_idx"])

    def __getitem__(self, i: int) -> dict[str, Any]:  # type: ignore[override]
        if isinstance(i, slice):
            raise TypeError("MappedBatch supports integer indexing only")
        item: dict[str, Any] = {}
        for key, values in self.arrays.items():
            value = values[i]
            if values.ndim == 1:
                value = value.item() if isinstance(value, np.generic) else value
            item[key] = value
        return item


def collate(batch: MappedBatch | Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Collate items into a dict of tensors (numpy arrays without torch).

    Rows become one 2-D tensor per key, codes and ``_store_idx`` 1-D int64
    tensors, labels that are not encoded a list. A :class:`MappedBatch`'s
    arrays are used without copying.

    Example::

        DataLoader(ds, batch_size=256, shuffle=True, collate_fn=ds.collate_fn)
    """
    tensors: dict[str, Any] = {}
    if isinstance(batch, MappedBatch):
        arrays, tensors = batch.arrays, batch.tensors
    else:
        items = list(batch)
        if not items:
            return {}
        arrays = {}
        for key in items[0]:
            values = [item[key] for item in items]
            if isinstance(values[0], np.ndarray):
                arrays[key] = np.stack(values)
            elif all(
                isinstance(v, int | np.integer | float | np.floating) for v in values
            ):
                arrays[key] = np.asarray(values)
            else:
                arrays[key] = np.asarray(values, dtype=object)
    torch = _torch()
    out: dict[str, Any] = {}
    for key, values in arrays.items():
        if values.dtype == object:
            out[key] = values.tolist()
        elif torch and key in tensors:
            out[key] = tensors[key]
        elif torch:
            out[key] = torch.from_numpy(np.ascontiguousarray(values))
        else:
            out[key] = values
    return out
