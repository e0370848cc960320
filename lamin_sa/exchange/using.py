"""Read another instance beside the connected one: ``Registry.using(instance)``.

The other instance is opened read-only (SQLite in ``mode=ro``, PostgreSQL in a
read-only transaction mode) in a session of its own, which records loaded from it
keep: their related records and lazy attributes are read from that instance too.
Saving such a record into the connected instance transfers it
(:mod:`lamin_sa.exchange.transfer`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from lamin_sa.config import InstanceSettings, is_db_url, with_password
from lamin_sa.db.context import FOREIGN_CONTEXT, DBContext
from lamin_sa.db.session import (
    close_session,
    make_engine,
    normalize_url,
    open_session,
)
from lamin_sa.errors import InstanceNotFound

logger = logging.getLogger(__name__)

_open: dict[str, DBContext] = {}


def _target_url(target: str) -> str:
    settings = InstanceSettings.load(target)
    if settings is not None:
        return with_password(settings.db)
    if is_db_url(target):
        return with_password(normalize_url(target))
    folder = Path(target).expanduser()
    db_file = folder / ".lamindb" / "lamin.db"
    if db_file.exists():
        return f"sqlite:///{db_file.resolve().as_posix()}"
    for inst in InstanceSettings.all():
        if inst.storage_root in (target, folder.resolve().as_posix()):
            return with_password(inst.db)
    known = ", ".join(i.name for i in InstanceSettings.all()) or "none"
    raise InstanceNotFound(
        f"No instance {target!r} to read from: pass a registered name (known: "
        f"{known}), an instance's storage folder or a database URL."
    )


def _read_only(url: str) -> tuple[str, dict[str, Any]]:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        if not path.is_file():
            raise InstanceNotFound(f"No SQLite instance at {path}.")
        uri = f"sqlite:///file:{path.as_posix()}?mode=ro&uri=true"
        return uri, {}
    return url, {"connect_args": {"options": "-c default_transaction_read_only=on"}}


def open_instance(target: str) -> DBContext:
    """A read-only context on another instance (opened once per process).

    Args:
        target: A registered instance name, a database URL or a storage folder.

    Example:
        >>> ctx = open_instance("laminlabs-cellxgene")  # doctest: +SKIP
    """
    if target in _open:
        return _open[target]
    url, kwargs = _read_only(_target_url(str(target)))
    engine = make_engine(url, **kwargs)
    session: Session = open_session(engine)
    from lamin_sa.models.core import Instance, Storage

    try:
        instance = session.scalars(select(Instance)).first()
        storage = session.scalars(
            select(Storage).where(Storage.instance_uid.is_not(None))
        ).first()
    except Exception as e:
        close_session(session)
        engine.dispose()
        raise InstanceNotFound(
            f"{target!r} holds no lamin-sa instance to read from."
        ) from e
    session.rollback()
    name = instance.name if instance is not None else str(target)
    ctx = DBContext(
        session=session,
        autocommit=True,
        storage_root=storage.root if storage is not None else None,
        instance_uid=instance.uid if instance is not None else None,
        engine=engine,
        extra={"instance_name": name},
    )
    session.info[FOREIGN_CONTEXT] = ctx
    _open[target] = ctx
    logger.info("reading from instance %s", name)
    return ctx


def foreign_context(record: Any) -> DBContext | None:
    """The context of the other instance ``record`` was loaded from, if any."""
    from sqlalchemy.orm import object_session

    session = object_session(record)
    ctx = session.info.get(FOREIGN_CONTEXT) if session is not None else None
    return ctx if isinstance(ctx, DBContext) else None


def close_all() -> None:
    """Close every instance opened with ``using`` (e.g. at exit)."""
    for ctx in _open.values():
        close_session(ctx.session)
        if ctx.engine is not None:
            ctx.engine.dispose()
    _open.clear()


def using(model: type, target: str) -> Any:
    """A QuerySet of ``model`` on another instance, read-only.

    Args:
        model: A registry class, e.g. ``ln.Artifact``.
        target: A registered instance name, a database URL or a storage folder.

    Example:
        >>> ln.Artifact.using("other-lab").filter(suffix=".h5ad").df()  # doctest: +SKIP
    """
    from lamin_sa.query.queryset import QuerySet

    return QuerySet(model).bind(open_instance(target))


def save_foreign(record: Any) -> Any:
    """Transfer a record read with ``using`` into the connected instance.

    Returns:
        The record as stored in the connected instance.
    """
    from lamin_sa.exchange.transfer import transfer_row
    from lamin_sa.query.queryset import QuerySet

    ctx = foreign_context(record)
    if ctx is None:
        raise ValueError("The record was not read from another instance.")
    model = type(record)
    new_id, _inserted = transfer_row(
        ctx.session.connection(),
        str(ctx.extra.get("instance_name")),
        model.__table__,
        record.id,
    )
    ctx.session.rollback()
    return QuerySet(model, implicit_visibility=False).filter(id=new_id).one()
