"""Trash, restore and permanent deletion of artifacts and collections."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy import inspect as sa_inspect

from lamin_sa.artifact._state import is_managed, storage_key, storage_root
from lamin_sa.artifact.versions import refresh_latest
from lamin_sa.db import session as dbs
from lamin_sa.errors import IntegrityError, NotSavedError
from lamin_sa.storage import delete as delete_object

logger = logging.getLogger(__name__)


def _set_visibility(record: Any, visibility: int) -> None:
    with dbs.write_transaction() as session:
        if sa_inspect(record).detached:
            record = session.merge(record)
        record.visibility = visibility
        session.add(record)
        if hasattr(record, "is_latest"):
            refresh_latest(session, record)


def _require_saved(record: Any) -> None:
    if record.id is None:
        raise NotSavedError(
            f"This {type(record).__name__} is not saved; there is nothing to delete."
        )


def restore(record: Any) -> None:
    """Move an artifact or collection out of the trash (``visibility=1``)."""
    _require_saved(record)
    _set_visibility(record, 1)
    meta = getattr(record, "artifact", None) if hasattr(record, "artifact_id") else None
    if meta is not None and meta.visibility == -1:
        _set_visibility(meta, 1)


def _delete_row(record: Any) -> None:
    try:
        with dbs.write_transaction() as session:
            target = session.merge(record) if sa_inspect(record).detached else record
            was_latest = bool(getattr(target, "is_latest", False))
            session.delete(target)
            session.flush()
            if was_latest:
                refresh_latest(session, target)
    except sa_exc.IntegrityError as e:
        raise IntegrityError(
            f"Cannot delete {type(record).__name__} {record.uid!r}: it is still "
            "referenced (e.g. by a collection); delete those records first."
        ) from e


def delete_artifact(
    artifact: Any, permanent: bool | None = None, storage: bool | None = None
) -> None:
    """Trash an artifact, or delete it permanently.

    The first ``delete()`` moves the artifact to the trash (data kept). With
    ``permanent=True`` the row is deleted, then the data — only if lamin-sa placed
    it in the instance's managed storage: objects under ``.lamindb/`` (virtual
    keys) automatically, objects with a real key only with ``storage=True``.
    ``storage=False`` keeps the data in any case.

    Raises:
        NotSavedError: The artifact is not saved.
        IntegrityError: The artifact still belongs to a collection.
    """
    _require_saved(artifact)
    if not permanent:
        if artifact.visibility == -1:
            logger.warning(
                "artifact %s is already in the trash; pass permanent=True to delete "
                "it for good",
                artifact.uid,
            )
            return
        _set_visibility(artifact, -1)
        logger.info("moved artifact to trash (visibility = -1)")
        return
    stored = artifact.storage
    key = storage_key(artifact)
    internal = artifact.key is None or artifact.key_is_virtual
    _delete_row(artifact)
    if storage is False:
        return
    if not is_managed(stored):
        logger.warning(
            "kept the data at %s: it is not in storage managed by this instance",
            storage_root(stored).join(key),
        )
        return
    if internal or storage:
        delete_object(storage_root(stored), key)
    else:
        logger.warning(
            "kept the data at %s (a real key); pass storage=True to delete it too",
            storage_root(stored).join(key),
        )


def delete_collection(collection: Any, permanent: bool | None = None) -> None:
    """Trash a collection, or delete its row permanently (artifacts stay)."""
    _require_saved(collection)
    if not permanent:
        if collection.visibility == -1:
            logger.warning(
                "collection %s is already in the trash; pass permanent=True to "
                "delete it for good",
                collection.uid,
            )
            return
        _set_visibility(collection, -1)
        logger.info("moved collection to trash (visibility = -1)")
        return
    _delete_row(collection)
