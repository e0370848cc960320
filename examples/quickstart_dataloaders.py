"""The seed's "Data loaders" section: a collection of AnnData files as one
PyTorch dataset, sampled with weights that balance ``perturbation``.

``examples/quickstart.py`` calls :func:`run` with ``lamin_sa`` and the two
versions of its DataFrame.
"""

from __future__ import annotations

from typing import Any


def run(ln: Any, frames: list[Any]) -> Any:
    """Save the frames as AnnData, collect them and batch-iterate the collection."""
    import anndata as ad
    import pandas as pd
    from torch.utils.data import DataLoader, WeightedRandomSampler

    genes = ["CD8A", "CD4", "CD14"]
    artifacts = []
    for i, df in enumerate(frames):
        adata = ad.AnnData(
            X=df[genes].to_numpy(dtype="float32"),
            obs=df[["perturbation"]].astype("category"),
            var=pd.DataFrame(index=genes),
        )
        artifacts.append(
            ln.Artifact.from_anndata(adata, description=f"my RNA-seq AnnData {i + 1}")
        )
    ln.save(artifacts)
    collection = ln.Collection(artifacts, name="my RNA-seq AnnData collection").save()

    # to train models, batch iterate through the collection as if it was one array
    dataset = collection.mapped(obs_keys=["perturbation"])
    sampler = WeightedRandomSampler(
        weights=dataset.get_label_weights("perturbation"), num_samples=len(dataset)
    )
    data_loader = DataLoader(dataset, batch_size=2, sampler=sampler)
    for batch in data_loader:  # noqa: B007 (the seed's loop)
        pass
    print(dataset, "last batch:", batch["X"].shape, batch["perturbation"].tolist())
    # batches as contiguous arrays, read per file in one pass
    fast = DataLoader(
        dataset, batch_size=4, shuffle=True, collate_fn=dataset.collate_fn
    )
    print("shuffled batch shapes:", [tuple(b["X"].shape) for b in fast])
    dataset.close()
    return collection
