"""Small AnnData files for the mapped-collection tests (no tests here).

Every value of ``X`` encodes where it came from: ``X[i, j] = 1000 * (offset + i)
+ gene number`` for non-zero entries, so a row read back can be checked
against the file, the row and the gene it claims to be.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def gene_number(name: str) -> int:
    return int(name[1:])


def expected_row(offset: int, row: int, genes: list[str], sparse_every: int) -> dict:
    """The non-zero values of one row by gene name."""
    values = {}
    for g in genes:
        n = gene_number(g)
        if sparse_every and (row + n) % sparse_every:
            continue  # zero in the sparse pattern
        values[g] = float(1000 * (offset + row) + n + 1)
    return values


def make_adata(
    offset: int,
    n_obs: int,
    genes: list[str],
    *,
    sparse_every: int = 0,
    labels: list[str] | None = None,
    string_labels: bool = False,
    extra_categories: list[str] | None = None,
) -> object:
    """An AnnData with rows as in :func:`expected_row`, obs and obsm.

    ``sparse_every=k`` makes X CSR with a zero wherever ``(row + gene) % k``.
    """
    import anndata as ad
    import scipy.sparse as sp

    X = np.zeros((n_obs, len(genes)), dtype=np.float32)
    for i in range(n_obs):
        for j, g in enumerate(genes):
            value = expected_row(offset, i, [g], sparse_every).get(g)
            if value is not None:
                X[i, j] = value
    labels = labels or ["a"] * n_obs
    if string_labels:
        label_col: object = np.array(labels, dtype=object)
    else:
        cats = sorted(set(labels) | set(extra_categories or []))
        label_col = pd.Categorical(labels, categories=cats)
    obs = pd.DataFrame(
        {
            "label": label_col,
            "cell": np.array([f"cell{offset + i}" for i in range(n_obs)], dtype=object),
        },
        index=[f"c{offset + i}" for i in range(n_obs)],
    )
    adata = ad.AnnData(
        X=sp.csr_matrix(X) if sparse_every else X,
        obs=obs,
        var=pd.DataFrame(index=genes),
    )
    adata.layers["counts"] = (X * 2).astype(np.float32)
    adata.obsm["pca"] = np.stack(
        [np.arange(n_obs) + offset, -(np.arange(n_obs) + offset)], axis=1
    ).astype(np.float64)
    return adata


def write(adata: object, path: Path) -> Path:
    """Write as .h5ad or .zarr by suffix (strings stay strings)."""
    if path.suffix == ".zarr":
        adata.write_zarr(path, convert_strings_to_categoricals=False)  # type: ignore[attr-defined]
    else:
        adata.write_h5ad(path, convert_strings_to_categoricals=False)  # type: ignore[attr-defined]
    return path


def genes(*numbers: int) -> list[str]:
    return [f"g{n}" for n in numbers]
