"""Reading artifacts: ``path``, ``cache()``, ``load()``, ``open()``, ``replace()``."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from lamin_sa.artifact._state import (
    full_path,
    local_or_url,
    materialize_source,
    private,
    set_private,
    storage_key,
    storage_root,
)
from lamin_sa.errors import StorageError, ValidationError
from lamin_sa.storage import cache as cache_object

logger = logging.getLogger(__name__)


def artifact_path(artifact: Any) -> Path | str:
    """Before save: the local source; after save: ``<root>/<storage key>``.

    Local paths are :class:`~pathlib.Path` objects, cloud paths URL strings.
    """
    source = materialize_source(artifact)
    if source is not None:
        return Path(source)
    if artifact.storage is None:
        raise StorageError("The artifact has no storage; pass data to Artifact().")
    return local_or_url(full_path(artifact))


def cache(artifact: Any) -> Path:
    """A local path with the artifact's data (cloud objects synced to the cache).

    Cloud objects are downloaded into ``settings.cache_dir`` only if missing or
    changed remotely.

    Raises:
        StorageError: The object is missing or the download failed.
    """
    from lamin_sa.config import switches as settings

    path = artifact_path(artifact)
    if isinstance(path, Path):
        if not path.exists() and not _settle(artifact):
            raise StorageError(
                f"The data of artifact {artifact.uid} is missing at {path}."
            )
        return path
    try:
        return cache_object(path, settings.cache_dir)
    except StorageError:
        if not _settle(artifact):
            raise
        return cache_object(path, settings.cache_dir)


def _settle(artifact: Any) -> bool:
    """Finish an interrupted save of the artifact's object, if one is pending."""
    from lamin_sa.artifact.journal import settle

    return artifact.id is not None and settle(artifact)


def _suffix(artifact: Any) -> str:
    return (artifact.suffix or "").lower()


def load(artifact: Any, **kwargs: Any) -> Any:
    """Load the artifact into memory by its suffix.

    ``.parquet``, ``.csv``, ``.tsv`` → DataFrame; ``.h5ad``, ``.zarr`` →
    AnnData; ``.json`` → object; ``.yaml``/``.yml`` → object; ``.txt`` → str;
    any other suffix → the local (cached) path. ``kwargs`` go to the reader.
    """
    memory = private(artifact, "_lamin_memory")
    if memory is not None and not kwargs:
        return memory
    path = cache(artifact)
    suffix = _suffix(artifact)
    if suffix == ".parquet":
        import pandas as pd

        return pd.read_parquet(path, **kwargs)
    if suffix in (".csv", ".tsv", ".csv.gz", ".tsv.gz"):
        import pandas as pd

        if suffix.startswith(".tsv"):
            kwargs.setdefault("sep", "\t")
        return pd.read_csv(path, **kwargs)
    if suffix == ".h5ad":
        import anndata as ad

        return ad.read_h5ad(path, **kwargs)
    if suffix.endswith(".zarr") and artifact.accessor in (None, "AnnData"):
        import anndata as ad

        return ad.read_zarr(path, **kwargs)
    if suffix == ".json":
        with open(path) as f:
            return json.load(f, **kwargs)
    if suffix in (".yaml", ".yml"):
        import yaml

        with open(path) as f:
            return yaml.safe_load(f)
    if suffix == ".txt":
        return path.read_text(**kwargs)
    return path


def open_artifact(artifact: Any, **kwargs: Any) -> Any:
    """Open the artifact lazily.

    ``.h5ad`` → AnnData in backed mode (``mode="r"``); ``.zarr`` → lazy AnnData
    (``anndata.experimental.read_lazy``, needs xarray; without it the read-only
    zarr group; cloud zarr folders are cached first); ``.parquet``/``.csv``/``.tsv`` → a
    ``pyarrow.dataset.Dataset`` (cloud objects are streamed, not downloaded).

    Raises:
        ValidationError: The suffix cannot be opened lazily.
    """
    suffix = _suffix(artifact)
    if suffix in (".h5ad", ".h5", ".hdf5"):
        import anndata as ad

        return ad.read_h5ad(cache(artifact), backed=kwargs.pop("mode", "r"), **kwargs)
    if suffix.endswith(".zarr"):
        import zarr

        group = zarr.open_group(os.fspath(cache(artifact)), mode="r")
        try:
            import xarray  # noqa: F401  (anndata's lazy reader needs it)
        except ImportError:
            return group
        import anndata as ad

        return ad.experimental.read_lazy(group, **kwargs)
    if suffix in (".parquet", ".csv", ".tsv"):
        import pyarrow.dataset as ds

        fmt: Any = "parquet"
        if suffix != ".parquet":
            import pyarrow.csv as pacsv

            delimiter = "\t" if suffix == ".tsv" else ","
            fmt = ds.CsvFileFormat(
                parse_options=pacsv.ParseOptions(delimiter=delimiter)
            )
        path = artifact_path(artifact)
        if isinstance(path, Path):
            return ds.dataset(os.fspath(path), format=fmt, **kwargs)
        from pyarrow.fs import FSSpecHandler, PyFileSystem

        fs = storage_root(artifact.storage).fs
        return ds.dataset(
            path.split("://", 1)[1],
            format=fmt,
            filesystem=PyFileSystem(FSSpecHandler(fs)),
            **kwargs,
        )
    raise ValidationError(
        f"Cannot open an artifact with suffix {artifact.suffix!r} lazily; open() "
        "supports .h5ad, .zarr, .parquet, .csv and .tsv — use load() or cache()."
    )


def replace(
    artifact: Any, data: Any, run: Any = None, format: str | None = None
) -> None:
    """Replace the artifact's data; the object is swapped on the next ``save()``.

    The uid stays, and so does the key (a real key gets the new suffix).

    Raises:
        ValidationError: ``data`` lies inside a registered storage.
    """
    from lamin_sa.artifact.prepare import prepare

    if artifact.uid is None:
        raise ValidationError("replace() needs an artifact created from data.")
    prepared = prepare(
        type(artifact),
        data,
        key=None,
        description=artifact.description or "replace",
        run=run,
        format=format,
        skip_check_exists=True,
        accessor=artifact.accessor,
    )
    fields, new_private = prepared["fields"], prepared["private"]
    if new_private.get("_lamin_source") is None:
        raise ValidationError(
            f"{data} is already inside a registered storage; replace() takes data "
            "outside of storage (it is copied on save)."
        )
    old_key = storage_key(artifact) if artifact.id is not None else None
    new_suffix = fields["suffix"]
    if new_suffix != artifact.suffix:
        if artifact.key is not None and not artifact.key_is_virtual:
            base = artifact.key[: len(artifact.key) - len(artifact.suffix or "")]
            artifact.key = base + new_suffix
        artifact.suffix = new_suffix
        if old_key is not None:
            set_private(artifact, "_lamin_clear_key", old_key)
    for name in ("size", "hash", "hash_type", "n_objects"):
        setattr(artifact, name, fields[name])
    if fields.get("run") is not None:
        from sqlalchemy.orm.attributes import set_committed_value

        artifact.run_id = fields["run"].id
        set_committed_value(artifact, "run", fields["run"])
    old_tmp = private(artifact, "_lamin_source")
    if private(artifact, "_lamin_tmp_file") and isinstance(old_tmp, Path):
        old_tmp.unlink(missing_ok=True)
    set_private(artifact, "_lamin_memory", new_private.get("_lamin_memory"))
    set_private(artifact, "_lamin_source", new_private["_lamin_source"])
    set_private(artifact, "_lamin_source_hash", new_private.get("_lamin_source_hash"))
    set_private(artifact, "_lamin_source_stat", new_private.get("_lamin_source_stat"))
    set_private(artifact, "_lamin_tmp_file", new_private["_lamin_tmp_file"])
