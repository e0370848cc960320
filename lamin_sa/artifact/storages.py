"""Storage locations of the active context: the default one and registering new ones.

Everything is read from the connection context (:mod:`lamin_sa.db.context`): in
the connected instance's session the default root is the instance's, in a host
application's session it is the ``storage=`` given to ``ln.use_session``; rows go
into that context's database only.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import select

from lamin_sa.db import session as dbs
from lamin_sa.db.context import DBContext
from lamin_sa.storage import parse_root

logger = logging.getLogger(__name__)

_CACHE_KEY = "lamin_default_storage"


def storage_type(root: str) -> str:
    """``"local"`` for a folder, else the URL's protocol (``"s3"``, ...)."""
    return parse_root(root).type


def register_storage(
    root: str, *, is_default: bool, ctx: DBContext | None = None
) -> Any:
    """Get or create the Storage row of ``root`` in the active context's database.

    Args:
        root: A normalized root (absolute folder or ``proto://bucket[/prefix]``).
        is_default: Register it as managed by the context's instance (lamin-sa
            writes and deletes objects there) rather than as a foreign location.
        ctx: The context; default: the active one.

    Returns:
        The Storage record.

    Example:
        >>> register_storage("s3://my-bucket", is_default=False)  # doctest: +SKIP
        Storage(root='s3://my-bucket', type='s3', ...)
    """
    from lamin_sa.models.core import Storage

    ctx = ctx or dbs.current()
    row = ctx.session.scalars(select(Storage).where(Storage.root == root)).first()
    if row is None:
        row = Storage(
            root=root,
            type=storage_type(root),
            instance_uid=ctx.instance_uid if is_default else None,
        )
        with dbs.write_transaction(ctx) as session:
            session.add(row)
    else:
        dbs.end_read(ctx)
    if is_default and row.type == "local":
        marker = Path(row.root) / ".lamindb" / "_is_initialized"
        marker.parent.mkdir(parents=True, exist_ok=True)
        if not marker.exists():
            marker.write_text(row.uid)
    return row


def default_storage(ctx: DBContext | None = None) -> Any:
    """The Storage record of the active context's default root (registered if new).

    Raises:
        NoDefaultStorage: The context (a host session without ``storage=``) has no
            default storage.
    """
    from lamin_sa.models.core import Storage

    ctx = ctx or dbs.current()
    root = ctx.require_storage()
    cached = ctx.extra.get(_CACHE_KEY)
    if cached is not None and cached[0] == root:
        return cached[1]
    try:
        row = ctx.session.scalars(select(Storage).where(Storage.root == root)).first()
    finally:
        dbs.end_read(ctx)
    if row is None:
        row = register_storage(root, is_default=True, ctx=ctx)
    ctx.extra[_CACHE_KEY] = (root, row)
    return row


def is_managed(storage: Any, ctx: DBContext | None = None) -> bool:
    """Whether lamin-sa manages the objects of a storage location in this context."""
    ctx = ctx or dbs.current()
    return storage.instance_uid is not None and storage.instance_uid == ctx.instance_uid
