"""Instances: ``init``, ``connect``, ``close``, ``delete`` and ``login``.

An instance is a database (SQLite file or PostgreSQL) plus a default storage root.
Its settings are registered under the user's lamin-sa home so it can be connected to
by name; the database itself records the instance's identity, its users, its
storage roots and its mounted modules.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from lamin_sa.config import (
    InstanceSettings,
    UserSettings,
    current_instance_name,
    set_current_instance,
    slugify,
    strip_credentials,
    with_password,
)
from lamin_sa.db import context
from lamin_sa.db import session as dbs
from lamin_sa.db.diagnose import translated
from lamin_sa.db.uid import base62, hash_to_uid
from lamin_sa.errors import (
    AccessDenied,
    InstanceNotConnected,
    InstanceNotFound,
    LaminSAError,
)

logger = logging.getLogger(__name__)

SQLITE_NAME = "lamin.db"

# earlier name of strip_credentials
strip_password = strip_credentials


def _connected() -> dbs.DBContext | None:
    """The connected instance's context (the process-wide one), if any."""
    ctx = context.global_context()
    return ctx if ctx is not None and ctx.instance is not None else None


def connected_instance() -> InstanceSettings | None:
    """The connected instance's settings, or None (never auto-connects)."""
    ctx = _connected()
    return None if ctx is None else ctx.instance


def current_instance() -> InstanceSettings:
    """The connected instance's settings; auto-connects to the last used one."""
    if _connected() is None:
        autoconnect()
    ctx = _connected()
    if ctx is None or ctx.instance is None:
        raise InstanceNotConnected(
            "No instance is connected: run `lamin-sa init --storage DIR` or "
            "`ln.connect(NAME)`."
        )
    return ctx.instance


def autoconnect() -> bool:
    """Connect to the last used instance if there is one; return whether it did.

    ``import lamin_sa`` installs this as the context's auto-connect hook.
    """
    if _connected() is not None:
        return True
    name = current_instance_name()
    if name is None or InstanceSettings.load(name) is None:
        return False
    connect(name)
    return True


# ---- storage roots --------------------------------------------------------------


def _normalize_root(storage: str | Path) -> str:
    text = str(storage)
    if "://" in text and not text.startswith("file://"):
        return text.rstrip("/")
    if text.startswith("file://"):
        text = text[len("file://") :]
    return Path(text).expanduser().resolve().as_posix()


def _storage_type(root: str) -> str:
    from lamin_sa.artifact.storages import storage_type

    return storage_type(root)


def _default_name(root: str, db: str | None) -> str:
    if db is not None and not db.startswith("sqlite"):
        from sqlalchemy.engine import make_url

        database = make_url(dbs.normalize_url(db)).database
        if database:
            return slugify(database)
    if "://" in root:
        return slugify(root.split("://", 1)[1].split("/")[0])
    return slugify(Path(root).name)


def _sqlite_url(root: str, name: str) -> str:
    if _storage_type(root) == "local":
        folder = Path(root) / ".lamindb"
    else:
        # A remote root cannot hold a live SQLite file; keep it in the user's home.
        from lamin_sa.config import home_dir

        folder = home_dir() / "instances" / name
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(folder / SQLITE_NAME).as_posix()}"


# ---- init / connect -------------------------------------------------------------


def init(
    *,
    storage: str | Path,
    db: str | None = None,
    modules: list[str] | str | None = None,
    name: str | None = None,
) -> InstanceSettings:
    """Create an instance, or connect to it if it exists.

    Args:
        storage: Default storage root: a local folder or ``s3://bucket/prefix``.
        db: ``None`` for SQLite (inside ``<storage>/.lamindb/``) or a PostgreSQL URL
            (a password in it is used to connect and never stored).
        modules: Schema modules to mount besides core, e.g. ``["bionty"]``.
        name: Instance name; defaults to the storage folder's (or database's) name.

    Returns:
        The instance's settings.

    Example:
        >>> import lamin_sa as ln
        >>> ln.init(storage="./lamin-intro")  # doctest: +SKIP
    """
    root = _normalize_root(storage)
    name = slugify(name) if name else _default_name(root, db)
    modules = _module_list(modules)
    existing = InstanceSettings.load(name)
    if existing is not None and _is_stale(existing):
        logger.warning(
            "dropped the stale registration of instance %r: its storage folder %s "
            "and database are gone",
            name,
            existing.storage_root,
        )
        existing.forget()
        existing = None
    if existing is not None:
        if existing.storage_root != root:
            raise LaminSAError(
                f"An instance named {name!r} already exists with storage "
                f"{existing.storage_root!r}; connect to it with ln.connect({name!r}) "
                "or pass another name=."
            )
        logger.info("instance %s exists, connecting", name)
        return connect(name, modules=modules, _url=db)
    url = db if db is not None else _sqlite_url(root, name)
    url = dbs.normalize_url(url)
    engine = dbs.make_engine(with_password(url))
    from lamin_sa import migrate

    try:
        with translated(url):
            with engine.connect() as conn:
                migrate.upgrade(conn, modules=modules)
                conn.commit()
            with Session(engine) as session:
                from lamin_sa.models.core import Instance

                stored = session.scalars(select(Instance)).first()
                if stored is None:
                    uid = hash_to_uid(f"instance:{name}:{base62(12)}", 12)
                    session.add(Instance(uid=uid, name=name))
                    session.commit()
                else:
                    uid = stored.uid
    finally:
        engine.dispose()
    settings = InstanceSettings(
        name=name, uid=uid, db=url, storage_root=root, modules=modules
    )
    settings.store()
    connect(name, _url=url)
    _register_storage(root, is_default=True)
    logger.info("initialized instance %s (storage %s)", name, root)
    return settings


def _is_stale(settings: InstanceSettings) -> bool:
    """Whether a registration points at a local folder and SQLite file both gone.

    Only then is it certain that nothing is left to connect to; a remote root or a
    PostgreSQL database may just be unreachable for now.
    """
    if settings.dialect != "sqlite" or _storage_type(settings.storage_root) != "local":
        return False
    db_file = Path(settings.db.split("sqlite:///", 1)[1])
    return not db_file.exists() and not Path(settings.storage_root).exists()


def _module_list(modules: list[str] | str | None) -> list[str]:
    if modules is None:
        names: list[str] = []
    elif isinstance(modules, str):
        names = [m.strip() for m in modules.split(",") if m.strip()]
    else:
        names = list(modules)
    return ["core", *[m for m in dict.fromkeys(names) if m != "core"]]


def _is_db_url(target: str) -> bool:
    return "://" in target and not target.startswith(("s3://", "file://", "gs://"))


def connect(
    target: str | Path | None = None,
    *,
    modules: list[str] | str | None = None,
    session: Session | None = None,
    _url: str | None = None,
) -> InstanceSettings:
    """Connect to an instance by name, storage path or database URL.

    Loads the models of every module mounted on the instance (a module whose
    package is broken is logged and skipped).

    Args:
        target: A registered instance name, a local storage folder of an instance,
            or a database URL (its password is used to connect, never stored).
            ``None`` reconnects to the last used instance.
        modules: Modules to mount in addition to those already mounted.
        session: Use this host SQLAlchemy session (embedding) instead of creating
            one; lamin-sa then never commits it.

    Returns:
        The instance's settings.

    Example:
        >>> import lamin_sa as ln
        >>> ln.connect("postgresql://me:secret@db.example/lab")  # doctest: +SKIP
    """
    if target is None:
        target = current_instance_name()
        if target is None:
            raise InstanceNotFound(
                "No instance to reconnect to: pass a name, a storage folder or a "
                "database URL."
            )
    if _url is not None:
        settings = InstanceSettings.load(str(target))
        assert settings is not None
        url = dbs.normalize_url(_url)
    else:
        settings, url = _resolve(str(target))
    close(_forget_current=False)
    engine = dbs.make_engine(with_password(url))
    from lamin_sa import migrate
    from lamin_sa.modules import load_mounted

    wanted = _module_list(modules) if modules else None
    # Remember the target even if the schema check fails, so that
    # `lamin-sa migrate upgrade` knows which instance to upgrade.
    set_current_instance(settings.name)
    try:
        with translated(url), engine.connect() as conn:
            mounted = migrate.mounted_modules(conn)
            if wanted and set(wanted) - set(mounted):
                migrate.upgrade(conn, modules=[*mounted, *wanted])
                conn.commit()
                mounted = migrate.mounted_modules(conn)
            migrate.check(conn, mounted)
    except Exception:
        engine.dispose()
        raise
    load_mounted(mounted)
    if mounted != settings.modules:
        settings.modules = list(mounted)
        settings.store()
    own = session is None
    sess = session or dbs.open_session(engine)
    ctx = dbs.DBContext(session=sess, autocommit=own, instance=settings, engine=engine)
    context.set_global(ctx)
    try:
        with translated(url):
            ctx.user_id = _register_user(ctx)
    except AccessDenied:
        # A read-only collaborator who was never registered can still query.
        logger.info("read-only access: %s is not registered as a user", settings.name)
    except Exception:
        close()
        raise
    if own:
        _finish_interrupted_saves()
    set_current_instance(settings.name)
    logger.info("connected lamin-sa: %s", settings.name)
    return settings


def _finish_interrupted_saves() -> None:
    """Roll saves of crashed processes forward or back (see artifact.journal)."""
    try:
        # one plain query; the repair machinery (storage, artifact services) is
        # imported only when a save is actually pending
        if not dbs.read(_any_pending_save):
            return
        from lamin_sa.artifact.journal import check_pending

        check_pending()
    except Exception as e:  # connecting must not fail; repair can run later
        logger.warning(
            "could not check for interrupted saves (%s); run `lamin-sa repair`", e
        )


def _any_pending_save(session: Session) -> bool:
    from lamin_sa.models.pending import pending_save

    return session.execute(select(pending_save.c.id).limit(1)).first() is not None


def _resolve(target: str) -> tuple[InstanceSettings, str]:
    """The settings of ``target`` and the URL to connect with."""
    by_name = InstanceSettings.load(target)
    if by_name is not None:
        return by_name, by_name.db
    if _is_db_url(target):
        url = dbs.normalize_url(target)
        # connect with the URL given (it may carry the password), store it without
        return _settings_from_db(url, None), url
    root = _normalize_root(target)
    for inst in InstanceSettings.all():
        if inst.storage_root == root:
            return inst, inst.db
    if _storage_type(root) == "local":
        db_file = Path(root) / ".lamindb" / SQLITE_NAME
        if db_file.exists():
            url = f"sqlite:///{db_file.as_posix()}"
            return _settings_from_db(url, root), url
    known = ", ".join(i.name for i in InstanceSettings.all()) or "none"
    raise InstanceNotFound(
        f"No instance {target!r}: not a registered name (known: {known}), not an "
        "instance's storage folder and not a database URL. Create one with "
        "`lamin-sa init --storage DIR`."
    )


def _settings_from_db(url: str, root: str | None) -> InstanceSettings:
    """Register an instance that exists in a database but not in this home."""
    from lamin_sa import migrate
    from lamin_sa.models.core import Instance, Storage

    engine = dbs.make_engine(with_password(url))
    shown = strip_credentials(url)
    try:
        with translated(url), engine.connect() as conn:
            # fails clearly for foreign tables of the same names
            migrate.check_not_foreign(conn)
            if not migrate.mounted_modules(conn):
                raise InstanceNotFound(
                    f"{shown} holds no lamin-sa instance: create one with "
                    "`lamin-sa init --storage DIR --db URL`."
                )
        with translated(url), Session(engine) as session:
            inst = session.scalars(select(Instance)).first()
            storage = session.scalars(
                select(Storage).where(Storage.instance_uid.is_not(None))
            ).first()
    finally:
        engine.dispose()
    if inst is None:
        raise InstanceNotFound(
            f"{shown} has the lamin-sa schema but no instance record: create one "
            "with `lamin-sa init --storage DIR --db URL`."
        )
    settings = InstanceSettings(
        name=inst.name,
        uid=inst.uid,
        db=url,
        storage_root=root or (storage.root if storage else ""),
    )
    settings.store()
    return settings


def _register_user(ctx: dbs.DBContext) -> int:
    from lamin_sa.models.core import User

    user = UserSettings.load()
    session = ctx.session
    query = select(User).where(User.handle == user.handle)
    row = session.scalars(query).first()
    if row is not None:
        dbs.end_read(ctx)
        return row.id
    try:
        with dbs.write_transaction(ctx):
            uid = user.uid or hash_to_uid(f"user:{user.handle}", 8)
            row = User(handle=user.handle, uid=uid, name=user.name)
            session.add(row)
    except sa_exc.IntegrityError:
        # Another process of the same user registered it first.
        session.expunge_all()
        row = session.scalars(query).one()
        dbs.end_read(ctx)
    return row.id


def _register_storage(root: str, *, is_default: bool) -> Any:
    from lamin_sa.artifact.storages import register_storage

    current_instance()
    return register_storage(root, is_default=is_default)


def set_storage(root: str | Path) -> Any:
    """Switch the connected instance's default storage (registering it if new).

    Args:
        root: A local folder or ``s3://bucket/prefix``. Credentials come from the
            standard AWS configuration and are never stored.

    Returns:
        The Storage record.

    Example:
        >>> import lamin_sa as ln
        >>> ln.settings.storage = "s3://my-bucket/lamin"  # doctest: +SKIP
    """
    settings = current_instance()
    root = _normalize_root(root)
    if _storage_type(root) == "local":
        Path(root).mkdir(parents=True, exist_ok=True)
    row = _register_storage(root, is_default=True)
    settings.storage_root = root
    settings.store()
    ctx = _connected()
    assert ctx is not None
    ctx.storage_root = root
    logger.info("default storage is now %s", root)
    return row


def close(*, _forget_current: bool = True) -> None:
    """Disconnect from the instance (and stop auto-connecting to it).

    Example:
        >>> ln.close()
    """
    ctx = _connected()
    if ctx is not None:
        if ctx.autocommit:
            from lamin_sa.artifact.journal import flush

            flush(ctx)  # this process's finished journal rows go with the connection
            dbs.close_session(ctx.session)
        if ctx.engine is not None:
            ctx.engine.dispose()
        context.set_global(None)
    if _forget_current:
        set_current_instance(None)


def delete(name: str) -> None:
    """Delete an instance: its registration and, for SQLite, its database file.

    Artifacts' data in the storage root are kept. PostgreSQL databases are not
    dropped (drop them with your database tools).
    """
    settings = InstanceSettings.load(name)
    if settings is None:
        raise InstanceNotFound(f"No instance named {name!r}.")
    inst = connected_instance()
    if inst is not None and inst.name == name:
        close()
    if settings.dialect == "sqlite":
        path = Path(settings.db.split("sqlite:///", 1)[1])
        for p in (
            path,
            path.with_name(path.name + "-wal"),
            path.with_name(path.name + "-shm"),
        ):
            p.unlink(missing_ok=True)
        marker = Path(settings.storage_root) / ".lamindb" / "_is_initialized"
        marker.unlink(missing_ok=True)
    else:
        logger.warning(
            "kept the PostgreSQL database %s; drop it yourself if no longer needed",
            strip_credentials(settings.db),
        )
    settings.forget()
    if current_instance_name() == name:
        set_current_instance(None)


def login(handle: str, *, name: str | None = None) -> UserSettings:
    """Set the local user identity; registers it in the connected instance.

    Example:
        >>> ln.login("jdoe", name="Jane Doe")
    """
    import re

    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,30}", handle):
        raise ValueError(
            "A handle has 1 to 30 letters, digits, '_', '.' or '-', e.g. 'jdoe'."
        )
    user = UserSettings(handle=handle, uid=hash_to_uid(f"user:{handle}", 8), name=name)
    user.store()
    ctx = _connected()
    if ctx is not None:
        ctx.user_id = _register_user(ctx)
    return user


def info() -> dict[str, Any]:
    """A summary of the user, the connected instance and the known instances.

    Never contains a password.
    """
    inst = connected_instance()
    out: dict[str, Any] = {
        "user": UserSettings.load().handle,
        "instance": None,
        "known_instances": [i.name for i in InstanceSettings.all()],
    }
    if inst is not None:
        from lamin_sa import migrate

        with engine().connect() as conn:
            status = migrate.status(conn)
        out["instance"] = {
            "name": inst.name,
            "uid": inst.uid,
            "db": strip_credentials(inst.db),
            "storage": inst.storage_root,
            "modules": inst.modules,
            "schema": {k: str(v) for k, v in status.items()},
        }
    return out


def engine() -> Engine:
    """The connected instance's engine."""
    current_instance()
    ctx = _connected()
    assert ctx is not None
    if ctx.engine is not None:
        return ctx.engine
    bind = ctx.session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


@contextlib.contextmanager
def unchecked_connection() -> Iterator[Connection]:
    """A connection to the last used instance that skips the schema check.

    Used to inspect or upgrade an instance whose schema differs from the code.
    """
    name = current_instance_name()
    settings = InstanceSettings.load(name) if name else None
    if settings is None:
        raise InstanceNotConnected(
            "No instance selected: `lamin-sa connect NAME` (or `lamin-sa init`)."
        )
    engine_ = dbs.make_engine(with_password(settings.db))
    try:
        with translated(settings.db), engine_.connect() as conn:
            yield conn
    finally:
        engine_.dispose()
