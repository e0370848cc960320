"""Preparing a new artifact: classify the data, place it, hash it, deduplicate.

:func:`prepare` computes the fields of a new artifact (or finds the stored
duplicate) without writing to storage: in-memory objects are serialized into the
cache dir (small DataFrames stay in memory), paths are only read (hashed). Large
local files start copying into the storage's temporary area while they are
hashed, so the save costs no extra copy time.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, select

from lamin_sa.artifact._state import (
    all_storages,
    default_storage,
    read,
    set_private,
    storage_root,
)
from lamin_sa.artifact.arrow_table import frame_to_table
from lamin_sa.artifact.versions import check_version, new_version_fields
from lamin_sa.db import session as dbs
from lamin_sa.db.uid import base62
from lamin_sa.errors import InvalidKeyError, RecordExistsError, StorageError
from lamin_sa.storage import (
    bucket_root,
    fingerprint,
    hash_dir,
    hash_file,
    relative_key,
    stage,
    stat_remote_hash,
    validate_key,
)

_COMPOUND_SUFFIXES = (
    ".anndata.zarr",
    ".spatialdata.zarr",
    ".ome.zarr",
    ".vitessce.json",
    ".tar.gz",
    ".tar.bz2",
    ".csv.gz",
    ".tsv.gz",
    ".fastq.gz",
)

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------- helpers


def suffix_of(name: str) -> str:
    """The storage suffix of a file or folder name (compound ones kept)."""
    lowered = name.lower()
    for compound in _COMPOUND_SUFFIXES:
        if lowered.endswith(compound) and len(name) > len(compound):
            return name[-len(compound) :]
    suffix = Path(name).suffix
    return suffix if len(suffix) <= 30 else ""


def _kind(data: Any) -> str | None:
    """``"DataFrame"``/``"AnnData"`` for in-memory objects, without importing."""
    for klass in type(data).__mro__:
        module = klass.__module__ or ""
        if klass.__name__ == "DataFrame" and module.startswith("pandas"):
            return "DataFrame"
        if klass.__name__ == "AnnData" and module.startswith("anndata"):
            return "AnnData"
    return None


def _memory_suffix(kind: str, key: str | None, format: str | None) -> str:
    if kind == "DataFrame":
        if format not in (None, "parquet"):
            raise ValueError(
                f"A DataFrame is saved as parquet; format={format!r} is not supported."
            )
        suffix = ".parquet"
    else:
        suffix = ".h5ad"
        if format == "zarr" or (key is not None and key.endswith(".zarr")):
            suffix = (
                ".anndata.zarr" if (key or "").endswith(".anndata.zarr") else ".zarr"
            )
        elif format not in (None, "h5ad"):
            raise ValueError(f"AnnData is saved as h5ad or zarr, not {format!r}.")
    if key is not None and not key.endswith(suffix):
        given = suffix_of(key.rsplit("/", 1)[-1]) or "''"
        raise InvalidKeyError(
            f"The suffix '{given}' of the provided key is incorrect, it should be "
            f"'{suffix}'."
        )
    return suffix


def serialize(data: Any, kind: str, path: Path) -> None:
    """Write an in-memory object to ``path`` (parquet, h5ad or zarr)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "DataFrame":
        # what DataFrame.to_parquet does, without pandas' I/O-handle overhead
        import pyarrow.parquet as pq

        pq.write_table(frame_to_table(data), path)
    elif path.name.endswith(".zarr"):
        data.write_zarr(path)
    else:
        data.write_h5ad(path)


#: DataFrames whose parquet bytes are at most this large are kept in memory
#: until save instead of being written to a temporary file.
MAX_IN_MEMORY = 64 * 1024 * 1024


def _to_parquet_bytes(df: Any) -> bytes | None:
    """The parquet serialization of ``df``, or None if larger than MAX_IN_MEMORY."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(frame_to_table(df), sink)
    buffer = sink.getvalue()
    return buffer.to_pybytes() if buffer.size <= MAX_IN_MEMORY else None


def _hash_local(path: Path) -> tuple[str | None, str | None, int | None, int | None]:
    from lamin_sa.config import switches as settings

    if path.is_dir():
        h, t, size, n = hash_dir(path)
        return h, t, size, n
    size = path.stat().st_size
    if settings.upon_file_create_skip_size_hash:
        return None, None, None, None
    h, t = hash_file(path)
    return h, t, size, None


def check_real_key(cls: type, storage: Any, key: str, skip_uid: str | None) -> None:
    """Refuse a real key that would overwrite or escape (checked again on save).

    Raises:
        InvalidKeyError: The key leads through a symlink out of the root or into
            ``.lamindb/``, or is not a valid object key on this storage.
        RecordExistsError: Another artifact stores its data at this key.
    """
    from lamin_sa.artifact.store import taken_key_message

    root = storage_root(storage)
    if root.is_local:
        root.local_target(key)
    else:
        root.join(key)

    def find(session: Any) -> Any:
        query = select(cls.uid).where(  # type: ignore[attr-defined]
            cls.key == key,  # type: ignore[attr-defined]
            cls.storage_id == storage.id,  # type: ignore[attr-defined]
            cls.key_is_virtual.is_(False),  # type: ignore[attr-defined]
        )
        return session.scalars(query).first()

    uid = read(find)
    if uid is not None and uid != skip_uid:
        raise RecordExistsError(taken_key_message(key, uid))


def _find_storage(path: str, storages: list[Any]) -> tuple[Any, str] | None:
    best = None
    for s in storages:
        key = relative_key(path, s.root)
        if key is not None and (best is None or len(s.root) > len(best[0].root)):
            best = (s, key)
    return best


_BY_HASH: dict[type, Any] = {}


def by_hash_statement(cls: type) -> Any:
    """``SELECT id ... WHERE hash = :hash`` built once per registry (Core)."""
    stmt = _BY_HASH.get(cls)
    if stmt is None:
        table = cls.__table__  # type: ignore[attr-defined]
        stmt = _BY_HASH[cls] = (
            select(table.c.id)
            .where(table.c.hash == bindparam("hash"))
            .order_by(table.c.id)
            .limit(1)
        )
    return stmt


def _existing_by_hash(cls: type, hash_: str) -> Any:
    # a new artifact almost always has a new hash: the miss is answered by one
    # statement outside any transaction (a tenth of a save)
    done, row = dbs.first_row_outside_transaction(
        by_hash_statement(cls), {"hash": hash_}
    )
    if done and row is None:
        return None

    def find(session: Any) -> Any:
        # a cheap Core id probe on the session's connection first: almost every
        # new artifact has a new hash, so the ORM load below rarely runs
        conn = session.connection()
        id_ = conn.execute(by_hash_statement(cls), {"hash": hash_}).scalar()
        return None if id_ is None else session.get(cls, id_)

    return read(find)


def check_existing(cls: type, hash_: str | None, what: str) -> Any:
    """Apply ``upon_artifact_create_if_hash_exists`` to a stored record with the hash.

    Returns:
        The stored record to return instead of a new one, or None.

    Raises:
        RecordExistsError: Policy ``error``, or the stored record is in the trash.
    """
    from lamin_sa.config import switches as settings

    policy = settings.upon_artifact_create_if_hash_exists
    if hash_ is None or policy == "warn_create_new":
        return None
    existing = _existing_by_hash(cls, hash_)
    if existing is None:
        return None
    name = cls.__name__
    if existing.visibility == -1:
        raise RecordExistsError(
            f"{what} has the same hash as {name} {existing.uid!r}, which is in the "
            f"trash: restore it with `ln.{name}.get('{existing.uid}', "
            "visibility=-1).restore()` or delete it for good with "
            "`.delete(permanent=True)`, then retry."
        )
    if policy == "error":
        raise RecordExistsError(
            f"{what} has the same hash as the stored {name} {existing.uid!r}; use "
            f"`ln.{name}.get('{existing.uid}')` or set "
            "ln.settings.upon_artifact_create_if_hash_exists='warn_create_new'."
        )
    logger.warning(
        "returning existing %s with same hash: %r", name.lower(), existing.uid
    )
    return existing


def prepare(
    cls: type,
    data: Any,
    *,
    key: str | None = None,
    description: str | None = None,
    version: str | None = None,
    is_new_version_of: Any = None,
    revises: Any = None,
    run: Any = None,
    visibility: int = 1,
    format: str | None = None,
    skip_check_exists: bool = False,
    accessor: str | None = None,
    skip_uid: str | None = None,
) -> Any:
    """Classify ``data`` and compute the fields of a new artifact.

    Returns:
        The stored duplicate (a record), or ``{"fields": ..., "private": ...}``.
    """
    from lamin_sa.config import switches as settings

    check_version(version)
    if revises is not None:
        if is_new_version_of is not None and is_new_version_of is not revises:
            raise ValueError("Pass only one of is_new_version_of and revises.")
        is_new_version_of = revises
    if key is not None:
        key = validate_key(key)
    private: dict[str, Any] = {}
    pending_old = None
    auto_version = is_new_version_of is not None and version is None
    if is_new_version_of is not None:
        uid, version, pending_old = new_version_fields(cls, is_new_version_of, version)
        if description is None:
            description = is_new_version_of.description
        if key is None and is_new_version_of.key is not None:
            key = is_new_version_of.key
    else:
        uid = base62(cls._len_uid)  # type: ignore[attr-defined]
    kind = _kind(data)
    n_objects = None
    key_is_virtual = settings.artifact_use_virtual_keys
    if kind is not None:
        suffix = _memory_suffix(kind, key, format)
        if accessor is None:
            logger.info(
                "data is a %s, please use .from_%s()",
                kind,
                "df" if kind == "DataFrame" else "anndata",
            )
        accessor = kind
        source = _to_parquet_bytes(data) if kind == "DataFrame" else None
        if source is not None:
            # small DataFrames stay in memory until save: no temp file
            size, n_objects = len(source), None
            hash_, hash_type = hash_file(io.BytesIO(source))
        else:
            source = settings.cache_dir / f"{uid}{suffix}"
            serialize(data, kind, source)
            hash_, hash_type, size, n_objects = _hash_local(source)
        storage = default_storage()
        private.update(_lamin_source=source, _lamin_tmp_file=True, _lamin_memory=data)
        what = f"The {kind}"
    elif isinstance(data, str | os.PathLike):
        text = os.fspath(data)
        is_url = "://" in text and not text.lower().startswith("file://")
        storages = all_storages()
        if is_url:
            found = _find_storage(text, storages)
            if found is None:
                from lamin_sa.artifact.storages import register_storage

                root = bucket_root(text)
                storage = register_storage(root, is_default=False)
                found = (storage, relative_key(text, root) or "")
            info = stat_remote_hash(text)
            hash_, hash_type, size = info.hash, info.hash_type, info.size
            n_objects = info.n_objects
            name = text.rstrip("/").rsplit("/", 1)[-1]
        else:
            local = Path(text.removeprefix("file://")).expanduser().resolve()
            if not local.exists():
                raise StorageError(
                    f"{local} does not exist; pass an existing file or folder."
                )
            if not (local.is_file() or local.is_dir()):
                raise StorageError(f"{local} is neither a file nor a folder.")
            found = _find_storage(local.as_posix(), storages)
            # the hash is trusted on save only while (size, mtime) stay as they
            # were before hashing (and before the prestaged copy) began
            before = fingerprint(local) if local.is_file() else None
            prestaged = _prestage(local) if found is None else None
            try:
                hash_, hash_type, size, n_objects = _hash_local(local)
            except BaseException:
                _abort_prestaged(prestaged)
                raise
            name = local.name
            if found is None:
                storage = default_storage()
                private.update(_lamin_source=local, _lamin_tmp_file=False)
                unchanged = before is not None and fingerprint(local) == before
                if n_objects is None and hash_ is not None and unchanged:
                    # saving copies without hashing the file a second time
                    private["_lamin_source_hash"] = (hash_, hash_type)
                    private["_lamin_source_stat"] = before
                if prestaged is not None:
                    private["_lamin_prestaged"] = prestaged
        suffix = suffix_of(name)
        if found is not None:
            storage, in_key = found
            if key is not None and key != in_key:
                raise InvalidKeyError(
                    f"The path {text} is already in registered storage "
                    f"'{storage.root}' with key '{in_key}'; you passed key '{key}' — "
                    "please move the file there before registering it, or drop "
                    "key=."
                )
            key, key_is_virtual = in_key, False
        what = f"The data at {text}"
    else:
        raise TypeError(
            "data has to be a string, Path, UPath, pd.DataFrame or AnnData, got "
            f"{type(data).__name__}."
        )
    if key is not None and not key_is_virtual and "_lamin_source" in private:
        try:
            check_real_key(cls, storage, key, skip_uid=skip_uid)
        except Exception:
            discard_source(private)
            raise
    ctx = dbs.current()
    if run is None:
        run = ctx.run
        if run is None and ctx.run_id is not None:
            from lamin_sa.models.core import Run

            run = read(lambda s: s.get(Run, ctx.run_id))
    if key is None and description is None and run is None:
        discard_source(private)
        raise ValueError("Pass one of key, run or description as a parameter")
    if run is None:
        warn_no_run(visibility)
    if not skip_check_exists:
        try:
            existing = check_existing(cls, hash_, what)
        except Exception:
            discard_source(private)
            raise
        if existing is not None:
            discard_source(private)
            if run is not None and existing.run_id != run.id:
                # saved again by another run: it becomes the artifact's run and
                # the old run is kept in previous_runs (on save)
                set_private(existing, "_lamin_new_run", run)
            return existing
    if pending_old is not None:
        private["_lamin_update_version_of"] = pending_old
    if is_new_version_of is not None:
        private["_lamin_new_version"] = True
    if auto_version:
        private["_lamin_auto_version"] = True
    fields: dict[str, Any] = {
        "uid": uid,
        "storage": storage,
        "key": key,
        "suffix": suffix,
        "accessor": accessor,
        "description": description,
        "version": version,
        "size": size,
        "hash": hash_,
        "hash_type": hash_type,
        "n_objects": n_objects,
        "visibility": visibility,
        "key_is_virtual": key_is_virtual,
    }
    if run is not None:
        fields["run"] = run
        if getattr(run, "transform_id", None) is not None:
            fields["transform_id"] = run.transform_id
    return {"fields": fields, "private": private}


NO_RUN_WARNING = "no run & transform got linked, call `ln.track()` and re-run"
_NO_RUN_WARNING_OFF: ContextVar[bool] = ContextVar(
    "lamin_no_run_warning_off", default=False
)


@contextmanager
def no_run_warning_suppressed() -> Iterator[None]:
    """Inside the block, records made without a run log no warning.

    For code that clears the run on purpose (internal artifacts of a run).
    """
    token = _NO_RUN_WARNING_OFF.set(True)
    try:
        yield
    finally:
        _NO_RUN_WARNING_OFF.reset(token)


def warn_no_run(visibility: int = 1) -> None:
    """Warn that a new artifact or collection gets no run (reference §6).

    Silenced by ``settings.silence_file_run_transform_warning``. Not logged for
    hidden records (``visibility=0``: the source code, environment and report
    artifacts that ``ln.finish()`` and ``save_source`` make after clearing the
    run on purpose), while ``ln.track()`` is active in this context, or inside
    :func:`no_run_warning_suppressed`.

    Args:
        visibility: The visibility of the new record.
    """
    from lamin_sa.config import switches as settings
    from lamin_sa.lineage.track import run_context

    if settings.silence_file_run_transform_warning or _NO_RUN_WARNING_OFF.get():
        return
    if visibility == 0 or run_context.run is not None:
        return
    logger.warning(NO_RUN_WARNING)


# Large local files are copied into the storage's temporary area while the
# constructor hashes them (for dedup), so the copy costs no extra time on save.
PRESTAGE_MIN_BYTES = 256 * 2**20
_PRESTAGE_POOL: ThreadPoolExecutor | None = None


def _prestage(local: Path) -> Future[Any] | None:
    """Start copying a large local file under a temporary key, in a thread."""
    global _PRESTAGE_POOL
    if not local.is_file() or local.stat().st_size < PRESTAGE_MIN_BYTES:
        return None
    root = storage_root(default_storage())
    if not root.is_local:
        return None
    if _PRESTAGE_POOL is None:
        _PRESTAGE_POOL = ThreadPoolExecutor(2, "lamin-sa-prestage")
    # the final key is set on save; the hash comes from the constructor
    return _PRESTAGE_POOL.submit(
        stage, local, root, ".lamindb/_prestaged", known_hash=("", "")
    )


def _abort_prestaged(future: Future[Any] | None) -> None:
    """Remove a prestaged copy (now, or when its copy finishes); never raises."""
    if future is None:
        return

    def abort(done: Future[Any]) -> None:
        if not done.cancelled() and done.exception() is None:
            done.result().abort()

    future.add_done_callback(abort)


def discard_source(private: dict[str, Any]) -> None:
    """Drop an unsaved artifact's prestaged copy and serialized temp file."""
    _abort_prestaged(private.get("_lamin_prestaged"))
    source = private.get("_lamin_source")
    if private.get("_lamin_tmp_file") and isinstance(source, Path):
        _remove_local(source)


def _remove_local(path: Path) -> None:
    import shutil

    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
