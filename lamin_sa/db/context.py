"""The connection context: the one place that says where lamin-sa reads and writes.

A :class:`DBContext` holds the SQLAlchemy session, the connected instance (None for
a host application's session), the default storage root, the user new records are
attributed to and the current run. ``ln.connect()``/``ln.init()`` install the
process-wide context; ``ln.use_session(session, storage=...)`` activates a host
application's context for a block (per thread and asyncio task). Services call
:func:`current` and never reach for the instance layer.

This module is imported by ``import lamin_sa`` (to install the auto-connect hook),
so it imports nothing heavy.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from lamin_sa.errors import InstanceNotConnected, NoDefaultStorage

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

    from lamin_sa.config import InstanceSettings


#: ``Session.info`` key of a session opened on another instance (``using``): its
#: :class:`DBContext`, so records loaded there keep reading from there.
FOREIGN_CONTEXT = "lamin_sa_foreign_context"


class DBContext:
    """Where lamin-sa works: session, instance, default storage, user and run.

    Attributes:
        session: The session every read and write goes through.
        user_id: The ``core_user.id`` new records are attributed to.
        run_id: The run new records are attributed to (``ln.track()``).
        run: The tracked :class:`~lamin_sa.models.core.Run`, if any.
        autocommit: True for the instance's own session (each read transaction
            is ended, like Django's autocommit); False for a host's session, which
            lamin-sa never commits.
        instance: The connected instance's settings; None in a host's session.
        storage_root: The default storage root new artifacts are written to.
        instance_uid: The uid of the instance whose storage locations lamin-sa
            manages (deletes objects in); None if unknown.
        engine: The engine lamin-sa created for the instance (disposed on
            close); None for a host's session.
        extra: Per-context caches of the services (e.g. the default Storage row).

    Example:
        >>> from lamin_sa.db.context import current
        >>> current().storage_root  # doctest: +SKIP
        '/data/lamin-intro'
    """

    # a plain class, not a dataclass: `import lamin_sa` imports this module and
    # must stay fast (dataclasses pulls in inspect)
    def __init__(
        self,
        session: Session,
        user_id: int | None = None,
        run_id: int | None = None,
        run: Any = None,
        autocommit: bool = True,
        instance: InstanceSettings | None = None,
        storage_root: str | None = None,
        instance_uid: str | None = None,
        engine: Engine | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.session = session
        self.user_id = user_id
        self.run_id = run_id
        self.run = run
        self.autocommit = autocommit
        self.instance = instance
        self.storage_root = storage_root
        self.instance_uid = instance_uid
        self.engine = engine
        self.extra: dict[str, Any] = {} if extra is None else extra
        if instance is not None:
            if self.storage_root is None:
                self.storage_root = instance.storage_root or None
            if self.instance_uid is None:
                self.instance_uid = instance.uid

    def __repr__(self) -> str:
        name = self.instance.name if self.instance is not None else None
        return (
            f"DBContext(instance={name!r}, storage_root={self.storage_root!r}, "
            f"user_id={self.user_id!r}, run_id={self.run_id!r}, "
            f"autocommit={self.autocommit!r})"
        )

    def require_storage(self) -> str:
        """The default storage root, or a clear error when there is none."""
        if self.storage_root:
            return self.storage_root
        if self.instance is None:
            raise NoDefaultStorage(
                "This host session has no default storage: pass one with "
                "ln.use_session(session, storage='/data/folder' or 's3://bucket/x')."
            )
        raise NoDefaultStorage(
            f"Instance {self.instance.name!r} has no default storage: set one with "
            "ln.settings.storage = 'DIR or s3://bucket/prefix'."
        )


_global: DBContext | None = None
_local: ContextVar[DBContext | None] = ContextVar("lamin_sa_db_context", default=None)
_autoconnect: Callable[[], bool] | None = None


def set_autoconnect(hook: Callable[[], bool] | None) -> None:
    """Install the callable that connects the last used instance on first use.

    ``import lamin_sa`` installs it, so every entry point (``ln.X``, a direct
    ``from lamin_sa.models.core import ULabel``, the CLI) auto-connects alike.
    """
    global _autoconnect
    _autoconnect = hook


def current() -> DBContext:
    """The active context: a host session block, else the connected instance's.

    Auto-connects to the last used instance only when no context is active, so a
    host session block never touches the user's own instances.

    Raises:
        InstanceNotConnected: No context is active and none can be connected.
    """
    ctx = _local.get() or _global
    if ctx is None and _autoconnect is not None and _autoconnect():
        ctx = _global
    if ctx is None:
        raise InstanceNotConnected(
            "No lamin-sa instance is connected: run `lamin-sa init --storage DIR` "
            "or `ln.connect(NAME)` first."
        )
    return ctx


def current_or_none() -> DBContext | None:
    """The active context or None (never auto-connects)."""
    return _local.get() or _global


def global_context() -> DBContext | None:
    """The process-wide context of the connected instance (ignores host blocks)."""
    return _global


def set_global(ctx: DBContext | None) -> None:
    """Install (or clear with None) the process-wide context."""
    global _global
    _global = ctx


@contextlib.contextmanager
def activate(ctx: DBContext) -> Iterator[DBContext]:
    """Make ``ctx`` the active context inside the block (this thread or task)."""
    token = _local.set(ctx)
    try:
        yield ctx
    finally:
        _local.reset(token)


@contextlib.contextmanager
def use_session(
    session: Session,
    *,
    user_id: int | None = None,
    run_id: int | None = None,
    storage_root: str | None = None,
    instance_uid: str | None = None,
) -> Iterator[DBContext]:
    """Use a host application's session for lamin-sa calls inside the block.

    The public entry point is ``ln.use_session`` (it also registers the user).

    Args:
        session: The host's SQLAlchemy session; lamin-sa never commits it.
        user_id: The ``core_user.id`` new records are attributed to.
        run_id: The run new records are attributed to.
        storage_root: The default storage root for new artifacts.
        instance_uid: The instance uid storage locations are registered under.
    """
    ctx = DBContext(
        session=session,
        user_id=user_id,
        run_id=run_id,
        autocommit=False,
        storage_root=storage_root,
        instance_uid=instance_uid,
    )
    with activate(ctx):
        yield ctx
