"""Collection.mapped(): AnnData members on local and S3 storage (cached or
streamed), other members skipped, run inputs, the seed's weighted sampler."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lamin_sa as ln
from lamin_sa.config import CACHE_MARKER
from lamin_sa.errors import ValidationError
from lamin_sa.lineage import track as tracking
from lamin_sa.settings import settings
from tests import test_artifact_fixtures as fx
from tests.mapped_fixtures import expected_row, genes, make_adata
from tests.s3_server import s3_bucket, s3_server  # noqa: F401
from tests.test_artifact_fixtures import Inst

inst = fx.inst
inst_local = fx.inst_local


def _collection(tmp: Path) -> tuple[object, list]:
    """h5ad (dense), h5ad (CSR), zarr and a parquet member, in this order."""
    g = genes(0, 1, 2, 3)
    a = make_adata(0, 4, g, labels=["DMSO", "IFNG", "DMSO", "DMSO"])
    b = make_adata(4, 3, g, sparse_every=2, labels=["IFNG", "IFNG", "DMSO"])
    c = make_adata(7, 2, g, labels=["DMSO", "IFNG"])
    arts = [
        ln.Artifact.from_anndata(a, description="a").save(),
        ln.Artifact.from_anndata(b, description="b").save(),
        ln.Artifact.from_anndata(c, description="c", format="zarr").save(),
        ln.Artifact.from_df(pd.DataFrame({"x": [1]}), description="table").save(),
    ]
    assert [x.suffix for x in arts] == [".h5ad", ".h5ad", ".zarr", ".parquet"]
    return ln.Collection(arts, name="cells").save(), arts


def _check_rows(ds: object) -> None:
    rows = [(0, 4, 0), (4, 3, 2), (7, 2, 0)]
    names = list(ds.var_joint)  # type: ignore[attr-defined]
    for f, (offset, n, every) in enumerate(rows):
        for r in range(n):
            item = ds[offset + r]  # type: ignore[index]
            got = {names[j]: float(item["X"][j]) for j in np.flatnonzero(item["X"])}
            assert got == expected_row(offset, r, genes(0, 1, 2, 3), every)
            assert item["_store_idx"] == f


def test_mapped_over_members(inst: Inst, caplog: pytest.LogCaptureFixture) -> None:
    collection, arts = _collection(inst.tmp)
    fresh = ln.Collection.get(collection.uid)
    with caplog.at_level(logging.WARNING):
        ds = fresh.mapped(obs_keys=["label"])
    assert f"skipping artifact {arts[3].uid}" in caplog.text
    assert len(ds) == 9 and ds.shape == (9, 4)
    assert all(not p.startswith("s3://") for p in ds.path_list)  # cached copies
    _check_rows(ds)
    weights = ds.get_label_weights("label")
    assert weights.sum() == pytest.approx(2.0)
    from torch.utils.data import DataLoader, WeightedRandomSampler

    sampler = WeightedRandomSampler(weights=weights, num_samples=len(ds))
    loader = DataLoader(ds, batch_size=2, sampler=sampler)
    assert sum(len(b["label"]) for b in loader) == 9
    ds.close()

    only_table = ln.Collection([arts[3]], name="table only").save()
    with pytest.raises(ValidationError, match=".h5ad or .zarr"):
        only_table.mapped()


@pytest.fixture
def inst_s3(
    request: pytest.FixtureRequest, db_url: str, tmp_path: Path
) -> Iterator[Inst]:
    yield from fx.make_instance(request, db_url, tmp_path, "s3")


def test_mapped_streams_from_s3(inst_s3: Inst) -> None:
    collection, arts = _collection(inst_s3.tmp)
    # a bigger member: streaming it must not fetch the whole object
    import anndata as ad

    n, width = 3000, 1000
    X = (1000 * (9 + np.arange(n))[:, None] + np.arange(width) + 1).astype("f4")
    big = ad.AnnData(X=X, var=pd.DataFrame(index=genes(*range(width))))
    big_art = ln.Artifact.from_anndata(big, description="big").save()
    shutil.rmtree(settings.cache_dir, ignore_errors=True)
    ds = collection.mapped(obs_keys=["label"], stream=True)
    assert [p.startswith("s3://") for p in ds.path_list] == [True] * 3
    _check_rows(ds)
    batch = ds.__getitems__([8, 0, 5])
    assert batch.arrays["_store_idx"].tolist() == [2, 0, 1]
    cache = Path(settings.cache_dir)
    # nothing downloaded (the cache's own marker file aside)
    downloaded = [p for p in cache.rglob("*.*") if p.name != CACHE_MARKER]
    assert not downloaded, downloaded
    ds.close()

    big_coll = ln.Collection([big_art], name="big").save()
    big_ds = big_coll.mapped(stream=True)
    rows = [0, 1500, 2999]
    for r in rows:
        assert big_ds[r]["X"][:3].tolist() == [
            1000 * (9 + r) + 1,
            1000 * (9 + r) + 2,
            1000 * (9 + r) + 3,
        ]
    handle = big_ds._handles[0]
    fetched = handle._fileobj.cache.total_requested_bytes
    assert 0 < fetched < big_art.size / 2
    big_ds.close()

    local = collection.mapped(obs_keys=["label"])  # stream=False: cached
    assert all(Path(p).exists() for p in local.path_list)
    _check_rows(local)


@pytest.fixture
def tracked(inst_local: Inst) -> Iterator[Inst]:
    try:
        yield inst_local
    finally:
        settings.transform.stem_uid = None
        settings.transform.version = None
        settings.track_run_inputs = True
        tracking._tracked = None


def test_mapped_records_run_inputs(tracked: Inst) -> None:
    collection, arts = _collection(tracked.tmp)
    ln.track(transform=ln.Transform(name="train model", version="1"))
    run = tracking.run_context.run
    collection.mapped(obs_keys=["label"], is_run_input=False)
    assert ln.Run.get(run.uid).input_collections == []
    collection.mapped(obs_keys=["label"])
    fresh = ln.Run.get(run.uid)
    assert [c.uid for c in fresh.input_collections] == [collection.uid]
    assert sorted(a.uid for a in fresh.input_artifacts) == sorted(
        a.uid for a in arts[:3]
    )  # the parquet member was not read
