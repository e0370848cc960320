"""Artifact constructors: classify the data, place it, hash it, deduplicate.

Design of hash deduplication (``settings.upon_artifact_create_if_hash_exists ==
"warn_return_existing"``): Python's ``__init__`` cannot return another object,
so ``Artifact.__new__`` does the work. It hashes the data and queries
``hash == h`` across all visibilities; on a match it returns the *stored record
itself* (the object of the active session's identity map), so
``Artifact(path) is Artifact.get(uid)`` holds and ``save()`` on it is an
idempotent update. ``__init__`` then only applies the passed ``description``.
Everything else happens in ``__new__`` and is handed to ``__init__`` through a
private attribute.

Constructors never write to storage. In-memory objects are serialized into the
cache dir (``<cache_dir>/<uid><suffix>``); paths are only read (hashed).
A path in an unregistered bucket registers the bucket root as a Storage record
(a database write, as in LaminDB) without claiming it for the instance.
"""

from __future__ import annotations

import logging
import os
import weakref
from pathlib import Path
from typing import Any

from lamin_sa.artifact._state import (
    all_storages,
    init_with_related,
    planned_instance,
    set_private,
    take_plan,
)
from lamin_sa.artifact.prepare import (  # noqa: F401  (public names kept here)
    MAX_IN_MEMORY,
    NO_RUN_WARNING,
    PRESTAGE_MIN_BYTES,
    _abort_prestaged,
    _find_storage,
    _kind,
    check_existing,
    no_run_warning_suppressed,
    prepare,
    serialize,
    suffix_of,
    warn_no_run,
)
from lamin_sa.db import session as dbs
from lamin_sa.errors import StorageError
from lamin_sa.storage import (
    validate_key,
)

_ALLOWED = (
    "data",
    "key",
    "description",
    "version",
    "is_new_version_of",
    "revises",
    "run",
    "visibility",
    "format",
    "skip_check_exists",
)

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------- constructor


def new_artifact(cls: type, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``Artifact.__new__``: build a new artifact or return the stored duplicate."""
    if not args and "data" not in kwargs:
        # plain record construction (Artifact(storage=..., ...)) or a DB load
        return object.__new__(cls)
    if len(args) > 1:
        raise ValueError("Only one non-keyword arg allowed: data")
    extra = [k for k in kwargs if k not in _ALLOWED]
    if extra:
        raise ValueError(
            "Only data, key, run, description, version, is_new_version_of, "
            f"visibility can be passed, you passed: {extra}"
        )
    data = args[0] if args else kwargs.pop("data")
    prepared = prepare(cls, data, **kwargs)
    return planned_instance(cls, prepared, kwargs)


def init_artifact(
    record: Any, args: tuple[Any, ...], kwargs: dict[str, Any], base_init: Any
) -> None:
    """``Artifact.__init__``: apply what ``new_artifact`` prepared."""
    plan = take_plan(record)
    if plan is None:
        base_init(*args, **kwargs)
        return
    mode, payload = plan
    if mode == "existing":
        description = payload.get("description")
        previous = payload.get("is_new_version_of") or payload.get("revises")
        if description is None and previous is not None:
            # a new version inherits the description, as on the creation path
            description = previous.description
        # metadata is never erased: None keeps the stored value; a value passed
        # explicitly updates it (saved by the next save())
        if description is not None and description != record.description:
            logger.warning(
                "updating description from %r to %r", record.description, description
            )
            record.description = description
        key = payload.get("key")
        if key is not None and key != record.key:
            if record.key is None or record.key_is_virtual:
                logger.warning("updating key from %r to %r", record.key, key)
                record.key = key
                record.key_is_virtual = True
            else:
                logger.warning(
                    "kept the real key %r of the existing artifact (its data lives "
                    "there); the passed key %r is not used",
                    record.key,
                    key,
                )
        return
    private = payload["private"]
    init_with_related(record, payload["fields"], ("storage", "run"), base_init)
    for name, value in private.items():
        set_private(record, name, value)
    if private.get("_lamin_prestaged") is not None:
        # an artifact dropped without save() leaves no temporary copy behind
        weakref.finalize(record, _abort_prestaged, private["_lamin_prestaged"])


def from_df(cls: type, df: Any, **kwargs: Any) -> Any:
    """``Artifact.from_df``: a DataFrame serialized as parquet."""
    if _kind(df) != "DataFrame":
        raise TypeError(f"from_df() needs a pandas DataFrame, got {type(df).__name__}.")
    return _construct(cls, df, "DataFrame", kwargs)


def from_anndata(cls: type, adata: Any, **kwargs: Any) -> Any:
    """``Artifact.from_anndata``: an AnnData object or an AnnData file/folder."""
    if _kind(adata) != "AnnData":
        if not isinstance(adata, str | os.PathLike):
            raise TypeError(
                "from_anndata() needs an AnnData object or a path to .h5ad / "
                f".zarr, got {type(adata).__name__}."
            )
        name = os.fspath(adata).rstrip("/")
        if not (name.endswith(".h5ad") or name.endswith(".zarr")):
            raise ValueError(
                f"{name} does not look like AnnData: pass a .h5ad file or a .zarr "
                "folder."
            )
    return _construct(cls, adata, "AnnData", kwargs)


def _construct(cls: type, data: Any, accessor: str, kwargs: dict[str, Any]) -> Any:
    extra = [k for k in kwargs if k not in _ALLOWED]
    if extra:
        raise ValueError(
            "Only key, run, description, version, is_new_version_of, visibility, "
            f"format can be passed, you passed: {extra}"
        )
    prepared = prepare(cls, data, accessor=accessor, **kwargs)
    obj = planned_instance(cls, prepared, kwargs)
    obj.__init__()
    return obj


def from_dir(cls: type, path: Any, key: str | None = None, *, run: Any = None) -> list:
    """``Artifact.from_dir``: one unsaved artifact per file below ``path``.

    Keys are ``<folder key>/<relative path>``: the folder key is its position in
    a registered storage, else ``key`` or the folder name. Files with duplicate
    hashes inside the folder are dropped with a warning; files already stored
    come back as the stored records.
    """
    from lamin_sa.storage.hashing import _iter_files

    text = os.fspath(path)
    folder = Path(text).expanduser().resolve()
    if not folder.is_dir():
        raise StorageError(f"{folder} is not a folder; pass an existing folder.")
    files = _iter_files(folder)
    if not files:
        raise StorageError(f"The folder {folder} contains no files.")
    found = _find_storage(folder.as_posix(), all_storages())
    if found is not None:
        folder_key = found[1]
    else:
        folder_key = validate_key(key) if key is not None else folder.name
    artifacts: list[Any] = []
    seen: dict[str, Path] = {}
    ctx = dbs.current()
    if run is None and ctx.run is None and ctx.run_id is None:
        warn_no_run()  # once for the folder, not once per file
    for f in files:
        rel = f.relative_to(folder).as_posix()
        file_key = f"{folder_key}/{rel}"
        with no_run_warning_suppressed():
            artifact = cls(f, key=None if found is not None else file_key, run=run)
        h = artifact.hash
        if h is not None and h in seen:
            logger.warning("dropping %s: same hash as %s", f, seen[h])
            continue
        if h is not None:
            seen[h] = f
        artifacts.append(artifact)
    logger.info(
        "created %d artifacts from %s; Artifact(dir) would create one for the "
        "whole folder",
        len(artifacts),
        folder,
    )
    return artifacts
