"""MappedCollection over real .h5ad and .zarr files: items, joins, labels, batches,
DataLoader workers, handles."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from lamin_sa.data.mapped import MappedCollection
from lamin_sa.errors import StorageError, ValidationError
from tests.mapped_fixtures import expected_row, genes, make_adata, write


def _row_by_gene(ds: MappedCollection, row: np.ndarray) -> dict[str, float]:
    names = list(ds.var_joint)
    return {names[j]: float(row[j]) for j in np.flatnonzero(row)}


@pytest.fixture
def two(tmp_path: Path) -> list[Path]:
    """Two files with the same vars: dense X (h5ad) and CSR X (h5ad)."""
    g = genes(0, 1, 2, 3, 4)
    a = make_adata(0, 6, g, labels=["x", "y", "x", "x", "z", "y"])
    b = make_adata(6, 4, g, sparse_every=2, labels=["y", "w", "w", "x"])
    return [write(a, tmp_path / "a.h5ad"), write(b, tmp_path / "b.h5ad")]


def test_items_same_vars_dense_and_sparse(two: list[Path]) -> None:
    ds = MappedCollection(two, obs_keys=["label"])
    assert len(ds) == 10 and ds.shape == (10, 5)
    assert ds.original_shapes == [(6, 5), (4, 5)]
    assert list(ds.var_joint) == genes(0, 1, 2, 3, 4)
    for i in range(10):
        item = ds[i]
        file, offset, every = (0, 0, 0) if i < 6 else (1, 6, 2)
        assert item["_store_idx"] == file
        assert item["X"].shape == (5,) and item["X"].dtype == np.float32
        assert _row_by_gene(ds, item["X"]) == expected_row(
            offset, i - offset, genes(0, 1, 2, 3, 4), every
        )
    assert ds[-1]["X"].tolist() == ds[9]["X"].tolist()
    with pytest.raises(IndexError):
        ds[10]


@pytest.fixture
def three(tmp_path: Path) -> list[Path]:
    """Three files with overlapping vars; the middle one CSR, the last zarr."""
    return [
        write(make_adata(0, 3, genes(0, 1, 2, 3, 4, 5)), tmp_path / "a.h5ad"),
        write(
            make_adata(3, 4, genes(7, 5, 2, 3, 4, 6), sparse_every=3),
            tmp_path / "b.h5ad",
        ),
        write(make_adata(7, 2, genes(3, 4, 9, 2, 5, 8)), tmp_path / "c.zarr"),
    ]


FILE_GENES = [genes(0, 1, 2, 3, 4, 5), genes(7, 5, 2, 3, 4, 6), genes(3, 4, 9, 2, 5, 8)]
FILE_ROWS = [(0, 3, 0), (3, 4, 3), (7, 2, 0)]  # offset, n_obs, sparse_every


def _expected(i: int, keep: set[str] | None) -> dict[str, float]:
    for f, (offset, n, every) in enumerate(FILE_ROWS):
        if i < offset + n:
            gs = [g for g in FILE_GENES[f] if keep is None or g in keep]
            return expected_row(offset, i - offset, gs, every)
    raise AssertionError


def test_inner_join_is_the_intersection(three: list[Path]) -> None:
    ds = MappedCollection(three, join="inner")
    assert list(ds.var_joint) == genes(2, 3, 4, 5)  # first file's order
    assert ds.shape == (9, 4)
    keep = set(genes(2, 3, 4, 5))
    for i in range(9):
        assert _row_by_gene(ds, ds[i]["X"]) == _expected(i, keep)
    batch = ds.__getitems__(list(range(9))[::-1])
    for j, i in enumerate(range(9)[::-1]):
        assert _row_by_gene(ds, batch.arrays["X"][j]) == _expected(i, keep)


def test_outer_join_is_the_union_with_zero_fill(three: list[Path]) -> None:
    ds = MappedCollection(three, join="outer")
    assert sorted(ds.var_joint) == sorted(genes(0, 1, 2, 3, 4, 5, 6, 7, 8, 9))
    assert ds.shape == (9, 10)
    for i in range(9):
        row = ds[i]["X"]
        assert _row_by_gene(ds, row) == _expected(i, None)
        assert (row == 0).sum() >= 4  # genes the file does not have
    order = [8, 0, 4, 4, 2, 7]
    batch = ds.__getitems__(order)
    for j, i in enumerate(order):
        assert _row_by_gene(ds, batch.arrays["X"][j]) == _expected(i, None)


def test_join_none_keeps_rows_as_stored(three: list[Path]) -> None:
    ds = MappedCollection(three, join=None)
    assert ds.var_joint is None and ds.shape == (9, None)
    assert ds[0]["X"].shape == (6,) and ds[8]["X"].shape == (6,)
    items = ds.__getitems__([8, 1])  # no common width: a list of items
    assert isinstance(items, list) and items[0]["_store_idx"] == 2


def test_inner_join_without_shared_vars_fails(tmp_path: Path) -> None:
    paths = [
        write(make_adata(0, 2, genes(0, 1)), tmp_path / "a.h5ad"),
        write(make_adata(2, 2, genes(2, 3)), tmp_path / "b.h5ad"),
    ]
    with pytest.raises(ValidationError, match="join='outer'"):
        MappedCollection(paths)
    ds = MappedCollection(paths, join="outer")
    assert ds.shape == (4, 4)
    assert _row_by_gene(ds, ds[3]["X"]) == expected_row(2, 1, genes(2, 3), 0)


def test_layers_obsm_and_dtype(three: list[Path]) -> None:
    ds = MappedCollection(
        three, layers_keys=["X", "counts"], obsm_keys=["pca"], dtype="float64"
    )
    keep = set(genes(2, 3, 4, 5))
    for i in (0, 4, 8):
        item = ds[i]
        assert item["X"].dtype == np.float64 and item["counts"].dtype == np.float64
        assert {g: v / 2 for g, v in _row_by_gene(ds, item["counts"]).items()} == (
            _expected(i, keep)
        )
        assert item["obsm_pca"].tolist() == [i, -i]
    batch = ds.collate_fn(ds.__getitems__([8, 4, 0]))
    assert batch["X"].dtype.is_floating_point and str(batch["X"].dtype) == (
        "torch.float64"
    )
    assert batch["obsm_pca"][:, 0].tolist() == [8, 4, 0]
    as_float16 = MappedCollection(three, dtype="float16")
    assert as_float16[1]["X"].dtype == np.float16
    assert as_float16.__getitems__([1, 5]).arrays["X"].dtype == np.float16


@pytest.fixture
def labelled(tmp_path: Path) -> list[Path]:
    """Categorical labels (with an unused category) and string labels."""
    g = genes(0, 1)
    a = make_adata(0, 5, g, labels=["T", "B", "T", "T", "NK"], extra_categories=["DC"])
    b = make_adata(5, 4, g, labels=["B", "unknown", "T", "mono"], string_labels=True)
    c = make_adata(9, 3, g, labels=["mono", "T", "unknown"], sparse_every=2)
    return [
        write(a, tmp_path / "a.h5ad"),
        write(b, tmp_path / "b.zarr"),
        write(c, tmp_path / "c.h5ad"),
    ]


LABELS = ["T", "B", "T", "T", "NK", "B", "unknown", "T", "mono", "mono", "T", "unknown"]


def test_labels_merged_and_encoded(labelled: list[Path]) -> None:
    import h5py
    import zarr

    assert "categories" in h5py.File(labelled[0])["obs/label"]
    assert zarr.open_group(labelled[1])["obs/label"].attrs["encoding-type"] == (
        "string-array"
    )
    ds = MappedCollection(labelled, obs_keys=["label", "cell"], encode_labels=["label"])
    cats = ["B", "DC", "NK", "T", "mono", "unknown"]
    assert ds.get_merged_categories("label") == cats
    assert ds.get_merged_labels("label").tolist() == LABELS
    assert ds.encoders["label"] == {c: i for i, c in enumerate(cats)}
    assert [ds[i]["label"] for i in range(12)] == [cats.index(x) for x in LABELS]
    assert [ds[i]["cell"] for i in range(12)] == [f"cell{i}" for i in range(12)]
    batch = ds.__getitems__([11, 0, 6])
    assert batch.arrays["label"].tolist() == [5, 3, 5]
    assert batch.arrays["cell"].tolist() == ["cell11", "cell0", "cell6"]
    collated = ds.collate_fn(batch)
    assert collated["label"].tolist() == [5, 3, 5]
    assert collated["cell"] == ["cell11", "cell0", "cell6"]

    plain = MappedCollection(labelled, obs_keys="label", encode_labels=False)
    assert [plain[i]["label"] for i in range(12)] == LABELS
    assert plain.encoders == {}


def test_unknown_label_is_minus_one(labelled: list[Path]) -> None:
    ds = MappedCollection(labelled, obs_keys=["label"], unknown_label="unknown")
    enc = ds.encoders["label"]
    assert enc["unknown"] == -1
    assert sorted(v for k, v in enc.items() if k != "unknown") == [0, 1, 2, 3, 4]
    codes = [ds[i]["label"] for i in range(12)]
    assert [c == -1 for c in codes] == [x == "unknown" for x in LABELS]
    by_dict = MappedCollection(
        labelled, obs_keys=["label"], unknown_label={"label": "mono"}
    )
    assert by_dict[8]["label"] == -1 and by_dict[6]["label"] == 4
    with pytest.raises(ValidationError, match="not encoded"):
        MappedCollection(
            labelled,
            obs_keys=["label"],
            encode_labels=False,
            unknown_label={"label": "x"},
        )
    with pytest.raises(ValidationError, match="obs_keys"):
        MappedCollection(labelled, obs_keys=["label"], encode_labels=["cell"])
    with pytest.raises(ValidationError, match="missing"):
        MappedCollection(labelled, obs_keys=["nope"])


def test_label_weights(labelled: list[Path]) -> None:
    ds = MappedCollection(labelled, obs_keys=["label", "cell"])
    w = ds.get_label_weights("label")
    counts = {x: LABELS.count(x) for x in LABELS}
    assert np.allclose(w, [1 / counts[x] for x in LABELS])
    assert w.sum() == pytest.approx(len(counts))  # one unit of weight per label
    both = ds.get_label_weights(["label", "cell"])  # every cell is unique
    assert np.allclose(both, 1.0)
    scaled = ds.get_label_weights("label", scaler=2.0)
    assert np.allclose(scaled, [2 / (counts[x] + 2) for x in LABELS])
    assert ds.get_label_weights("label", return_categories=True) == {
        x: 1 / n for x, n in counts.items()
    }
    pairs = ds.get_label_weights(["label", "cell"], return_categories=True)
    assert pairs["T__cell0"] == 1.0 and len(pairs) == 12
    from torch.utils.data import WeightedRandomSampler

    sampler = WeightedRandomSampler(weights=w, num_samples=len(ds))
    assert all(0 <= i < len(ds) for i in sampler)


def test_getitems_matches_getitem_and_default_collate(labelled: list[Path]) -> None:
    import torch
    from torch.utils.data import default_collate

    ds = MappedCollection(
        labelled, layers_keys=["X", "counts"], obs_keys=["label"], obsm_keys="pca"
    )
    order = [7, 3, 3, 11, 0, 9, 7, 5]  # shuffled, with duplicates, across files
    batch = ds.__getitems__(order)
    assert len(batch) == len(order)
    for j, i in enumerate(order):
        single = ds[i]
        got = batch[j]
        assert got.keys() == single.keys()
        for key in ("X", "counts", "obsm_pca"):
            assert np.array_equal(got[key], single[key])
        assert got["label"] == single["label"]
        assert got["_store_idx"] == single["_store_idx"]
    ours, theirs = ds.collate_fn(batch), default_collate(list(batch))
    assert ours.keys() == theirs.keys()
    for key in ours:
        assert torch.equal(ours[key], theirs[key])
    assert ours["X"].is_contiguous()
    assert ds.collate_fn([ds[i] for i in order])["X"].tolist() == ours["X"].tolist()


def test_dataloader_two_workers_every_index_once(labelled: list[Path]) -> None:
    from torch.utils.data import DataLoader

    ds = MappedCollection(labelled, obs_keys=["cell"], encode_labels=False)
    ds[0]  # the parent opens a handle before the workers fork
    assert ds._handles
    parent = os.getpid()
    seen_pids: set[int] = set()

    def collate(batch: object) -> dict:
        out = ds.collate_fn(batch)
        # runs in the worker: every handle it used was opened there
        out["pids"] = [(os.getpid(), h.pid) for h in ds._handles.values()]
        return out

    loader = DataLoader(
        ds, batch_size=5, shuffle=True, num_workers=2, collate_fn=collate
    )
    for _ in range(2):  # two epochs
        cells: list[str] = []
        for batch in loader:
            cells += batch["cell"]
            for cell, row in zip(batch["cell"], batch["X"], strict=True):
                assert row.tolist() == ds[int(cell[4:])]["X"].tolist()
            for worker, opened_by in batch["pids"]:
                assert worker != parent and opened_by == worker
                seen_pids.add(worker)
        assert sorted(cells) == sorted(f"cell{i}" for i in range(12))
    assert len(seen_pids) >= 2
    # the default collate works too
    default = DataLoader(ds, batch_size=4, num_workers=2)
    assert sum(len(b["cell"]) for b in default) == 12


def test_handles_open_lazily_and_close(two: list[Path]) -> None:
    import h5py

    def open_files() -> int:
        return len(h5py.h5f.get_obj_ids(types=h5py.h5f.OBJ_FILE))

    before = open_files()
    ds = MappedCollection(two, obs_keys=["label"])
    assert ds._handles == {} and open_files() == before  # nothing open
    ds[0], ds[7]
    assert open_files() == before + 2
    ds.close()
    assert ds.closed and open_files() == before
    with pytest.raises(StorageError, match="closed"):
        ds[0]
    with MappedCollection(two) as ctx:
        ctx.__getitems__([1, 8])
    assert ctx.closed and open_files() == before


def test_parallel_keeps_no_handles(two: list[Path]) -> None:
    from torch.utils.data import DataLoader

    ds = MappedCollection(two, obs_keys=["cell"], encode_labels=False, parallel=True)
    serial = MappedCollection(two)
    for i in range(10):
        assert np.array_equal(ds[i]["X"], serial[i]["X"])
    assert ds.__getitems__([9, 0]).arrays["X"].tolist() == [
        serial[9]["X"].tolist(),
        serial[0]["X"].tolist(),
    ]
    assert ds._handles == {}
    loader = DataLoader(
        ds,
        batch_size=3,
        shuffle=True,
        num_workers=2,
        collate_fn=ds.collate_fn,
        worker_init_fn=ds.torch_worker_init_fn,
    )
    cells = [c for b in loader for c in b["cell"]]
    assert sorted(cells) == sorted(f"cell{i}" for i in range(10))


def test_rejects_other_files_and_csc(tmp_path: Path) -> None:
    import scipy.sparse as sp

    with pytest.raises(ValidationError, match="neither .h5ad nor .zarr"):
        MappedCollection([tmp_path / "x.parquet"])
    adata = make_adata(0, 3, genes(0, 1))
    adata.X = sp.csc_matrix(adata.X)
    path = write(adata, tmp_path / "csc.h5ad")
    with pytest.raises(ValidationError, match="CSR"):
        MappedCollection([path])
    with pytest.raises(ValidationError, match="'layers/nope'"):
        MappedCollection(
            [write(make_adata(0, 2, genes(0)), tmp_path / "l.h5ad")],
            layers_keys=["nope"],
        )


@pytest.mark.parametrize("chunks", [None, (7,), (1000,)])
def test_direct_reads_match_h5py(tmp_path: Path, chunks: tuple | None) -> None:
    import h5py

    from lamin_sa.data.stores import DirectRanges

    path = tmp_path / "d.h5"
    values = np.arange(5000, dtype=">f8") * 1.5  # big-endian: bytes kept as stored
    with h5py.File(path, "w") as f:
        f.create_dataset("v", data=values, chunks=chunks)
        f.create_dataset("z", data=values, chunks=(64,), compression="gzip")
    rng = np.random.default_rng(0)
    fd = os.open(path, os.O_RDONLY)
    try:
        with h5py.File(path) as f:
            direct = DirectRanges(fd, f["v"])
            for _ in range(20):
                cuts = np.sort(rng.choice(5001, 40, replace=False))
                starts, stops = cuts[0::2], cuts[1::2]
                stops[::3] = starts[::3]  # some empty ranges
                got = direct.read(starts, stops)
                pairs = list(zip(starts.tolist(), stops.tolist(), strict=True))
                want = np.concatenate([values[s:e] for s, e in pairs])
                assert got.dtype == values.dtype and np.array_equal(got, want)
                for s, e in pairs:
                    assert np.array_equal(direct.read_range(s, e), values[s:e])
            assert np.array_equal(direct.read(np.array([0]), np.array([5000])), values)
            from lamin_sa.data.stores import _direct

            assert _direct(fd, f["z"]) is None  # compressed: h5py reads it
    finally:
        os.close(fd)
