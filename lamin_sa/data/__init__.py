"""Data loaders: a collection's AnnData files as one PyTorch map-style dataset.

- :mod:`lamin_sa.data.mapped`: :class:`MappedCollection` over file paths
- :mod:`lamin_sa.data.stores`: lazily opened ``.h5ad`` (h5py) / ``.zarr`` row readers
- :mod:`lamin_sa.data.collate`: contiguous batches and their ``collate_fn``

:func:`mapped_collection` is what ``Collection.mapped()`` calls: it picks the ``.h5ad``
and ``.zarr`` artifacts, caches them (or streams them with ``stream=True``)
and records the collection and those artifacts as inputs of a tracked run.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any, Literal

from lamin_sa.errors import ValidationError

if TYPE_CHECKING:
    from lamin_sa.data.mapped import MappedCollection

logger = logging.getLogger(__name__)

__all__ = ["MappedCollection", "mapped_collection"]


def __getattr__(name: str) -> Any:
    # numpy and friends load when the class is first used
    if name == "MappedCollection":
        from lamin_sa.data.mapped import MappedCollection

        return MappedCollection
    raise AttributeError(name)


def mapped_collection(
    collection: Any,
    layers_keys: str | list[str] | None = None,
    obs_keys: str | list[str] | None = None,
    obsm_keys: str | list[str] | None = None,
    join: Literal["inner", "outer"] | None = "inner",
    encode_labels: bool | list[str] = True,
    unknown_label: str | dict[str, str] | None = None,
    cache_categories: bool = True,
    parallel: bool = False,
    dtype: Any = None,
    stream: bool = False,
    is_run_input: bool | None = None,
) -> MappedCollection:
    """A :class:`MappedCollection` over the collection's ``.h5ad``/``.zarr`` artifacts.

    Other artifacts are skipped with a warning. Cloud artifacts are cached
    locally first; with ``stream=True`` they are read in place (``.h5ad``
    through ranged reads, ``.zarr`` chunk by chunk) without a full download.
    Inside a tracked run the collection and the mapped artifacts become
    inputs of the run. ``cache_categories`` is accepted for compatibility with
    LaminDB; labels are always read once and held as codes.

    Raises:
        ValidationError: No member artifact is ``.h5ad`` or ``.zarr``.

    Example::

        ds = collection.mapped(obs_keys=["perturbation"])
        DataLoader(ds, batch_size=256, shuffle=True, collate_fn=ds.collate_fn)
    """
    from lamin_sa.artifact.access import artifact_path, cache
    from lamin_sa.data.mapped import MappedCollection
    from lamin_sa.data.stores import file_kind
    from lamin_sa.lineage.inputs import link_run_inputs

    del cache_categories  # labels are always cached (see the docstring)

    artifacts = []
    for artifact in collection.ordered_artifacts():
        if file_kind(artifact.suffix or "") is None:
            logger.warning(
                "skipping artifact %s: mapped() reads .h5ad and .zarr, not %r",
                artifact.uid,
                artifact.suffix,
            )
            continue
        artifacts.append(artifact)
    if not artifacts:
        raise ValidationError(
            "The collection has no .h5ad or .zarr artifacts; mapped() reads AnnData "
            "files only (use load() or cache() for others)."
        )
    paths = [os.fspath(artifact_path(a) if stream else cache(a)) for a in artifacts]
    dataset = MappedCollection(
        paths,
        layers_keys=layers_keys,
        obs_keys=obs_keys,
        obsm_keys=obsm_keys,
        join=join,
        encode_labels=encode_labels,
        unknown_label=unknown_label,
        parallel=parallel,
        dtype=dtype,
    )
    link_run_inputs([collection, *artifacts], is_run_input=is_run_input)
    return dataset
