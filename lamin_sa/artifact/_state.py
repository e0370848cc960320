"""Small helpers shared by the artifact services: context, storage, keys.

Artifacts carry a few private, non-column attributes between construction and
save (all stored in the instance ``__dict__`` so SQLAlchemy never sees them):

``_lamin_source``
    Local file or folder (a Path), or serialized bytes of a small in-memory
    object, to copy into storage on save (None: nothing to copy).
``_lamin_source_hash`` / ``_lamin_source_stat``
    The constructor's ``(hash, hash_type)`` of a local file and the file's
    ``(size, mtime_ns)`` before hashing; the save trusts the hash only while
    the file still has that fingerprint.
``_lamin_tmp_file``
    True if ``_lamin_source`` was made by lamin-sa (a serialized in-memory
    object: bytes, or a file in the cache dir) and is dropped or moved into the
    cache after save.
``_lamin_memory``
    The in-memory object the artifact was created from (returned by ``load()``).
``_lamin_clear_key``
    A storage key whose object is deleted after the next save (``replace``).
``_lamin_update_version_of``
    ``(old_record, "1")``: an unversioned previous version that gets version
    "1" in the same transaction as the new version.
``_lamin_new_version``
    True for a new version of an existing family (siblings lose ``is_latest``
    on save).
``_lamin_auto_version``
    True if the new version's ``version`` was derived from the previous one
    (not passed): the save re-derives it under the family lock, so concurrent
    new versions of one family get distinct versions.
``_lamin_new_run``
    A run that re-created a stored artifact: on save it becomes the artifact's
    run and the old run is linked in ``previous_runs``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

# default_storage and is_managed live in .storages; the services import them here
from lamin_sa.artifact.storages import default_storage, is_managed  # noqa: F401
from lamin_sa.db import session as dbs

# The constructor-plan protocol (``__new__`` prepares, ``__init__`` applies).
from lamin_sa.models.construct import INIT_PLAN, planned_instance, take_plan
from lamin_sa.storage import INTERNAL_PREFIX, StorageRoot, parse_root

logger = logging.getLogger(__name__)

_PLAN_API = (INIT_PLAN, planned_instance, take_plan)  # re-exported for the services

T = TypeVar("T")

PRIVATE_ATTRS = (
    "_lamin_source",
    "_lamin_source_hash",
    "_lamin_source_stat",
    "_lamin_prestaged",
    "_lamin_tmp_file",
    "_lamin_memory",
    "_lamin_clear_key",
    "_lamin_update_version_of",
    "_lamin_new_version",
    "_lamin_auto_version",
    "_lamin_new_run",
)


def private(record: Any, name: str, default: Any = None) -> Any:
    """Read a private (non-column) attribute of a record."""
    return record.__dict__.get(name, default)


def set_private(record: Any, name: str, value: Any) -> None:
    """Set a private (non-column) attribute of a record."""
    record.__dict__[name] = value


def read(fn: Callable[[Any], T]) -> T:
    """Run ``fn(session)`` in the active context (``lamin_sa.db.session.read``)."""
    return dbs.read(fn)


def all_storages() -> list[Any]:
    """All registered storage locations."""
    from lamin_sa.models.core import Storage

    return list(read(lambda s: s.scalars(select(Storage)).all()))


_ROOTS: dict[str, StorageRoot] = {}


def storage_root(storage: Any) -> StorageRoot:
    """The parsed root of a Storage record.

    A local root is parsed once per root text (a stored root is already
    normalized; resolving it again costs system calls on every save). Cloud
    roots are parsed each time: their filesystem object is not shared.
    """
    text = storage.root
    root = _ROOTS.get(text)
    if root is None:
        root = parse_root(text)
        if root.is_local:
            if len(_ROOTS) > 256:
                _ROOTS.clear()
            _ROOTS[text] = root
    return root


def storage_key(artifact: Any) -> str:
    """Where the artifact's object lives inside its storage root.

    Virtual (or missing) keys map to ``.lamindb/<uid><suffix>``; folders use the
    full uid too, so a new version never overwrites an older version's files.
    """
    if artifact.key is None or artifact.key_is_virtual:
        return f"{INTERNAL_PREFIX}{artifact.uid}{artifact.suffix or ''}"
    return str(artifact.key)


def full_path(artifact: Any) -> str:
    """``<root>/<storage key>`` of a stored artifact."""
    return storage_root(artifact.storage).join(storage_key(artifact))


def local_or_url(path: str) -> Path | str:
    """A local path as :class:`Path`, a URL as it is."""
    return path if "://" in path else Path(path)


def materialize_source(artifact: Any) -> Path | None:
    """The local source as a file: in-memory bytes are written to the cache dir."""
    source = private(artifact, "_lamin_source")
    if isinstance(source, bytes):
        from lamin_sa.config import switches

        path = switches.cache_dir / f"{artifact.uid}{artifact.suffix or ''}"
        path.write_bytes(source)
        set_private(artifact, "_lamin_source", path)
        return path
    return source


def init_with_related(
    record: Any, fields: dict[str, Any], related_keys: tuple[str, ...], base_init: Any
) -> None:
    """Run the model constructor, setting to-one records without backref events.

    Assigning ``storage``/``run`` normally appends the new record to the stored
    record's reverse collection, a pending change on a persistent record before
    the new one is in the session; setting the FK and a committed value avoids it.
    """
    fields = dict(fields)
    popped = {k: fields.pop(k, None) for k in related_keys}
    related = {k: v for k, v in popped.items() if v is not None}
    for name, value in related.items():
        fields[f"{name}_id"] = value.id
    base_init(**fields)
    for name, value in related.items():
        set_committed_value(record, name, value)
