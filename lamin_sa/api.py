"""Top-level functions of the public API that are not registries.

Importing this module has no side effects (the auto-connect hook is installed by
``import lamin_sa``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lamin_sa.db import session as dbs
from lamin_sa.models.record import Record


def save(records: Iterable[Record]) -> None:
    """Save many records in one transaction with bulk inserts.

    New records whose unique name or uid is already stored become the stored
    records (with a warning). Returns None, like LaminDB.

    Raises:
        ValueError: a single record was passed (use ``record.save()``).

    Example:
        >>> ln.save([ln.ULabel(name=name) for name in ["DMSO", "IFNG"]])
    """
    if isinstance(records, Record):
        raise ValueError("Please use record.save() to save a single record.")
    from lamin_sa.models.core import Artifact, Collection
    from lamin_sa.models.save import save_records

    artifacts: list[Any] = []
    collections: list[Any] = []
    others: list[Any] = []
    # sorted by class, not per record: bulk saves pass 10,000s of one class
    bucket_of: dict[type, list[Any]] = {}
    for r in records:
        bucket = bucket_of.get(type(r))
        if bucket is None:
            cls = type(r)
            bucket = bucket_of[cls] = (
                artifacts
                if issubclass(cls, Artifact)
                else collections
                if issubclass(cls, Collection)
                else others
            )
        bucket.append(r)
    # labels, features, ... first: artifacts and collections may refer to them
    save_records(others)
    if artifacts:
        from lamin_sa.artifact import save_artifacts

        save_artifacts(artifacts)
    for collection in collections:
        collection.save()


@contextlib.contextmanager
def use_session(
    session: Session,
    *,
    storage: str | Path | None = None,
    user: str | None = None,
    run_id: int | None = None,
) -> Iterator[dbs.DBContext]:
    """Run lamin-sa calls inside a host application's SQLAlchemy session.

    lamin-sa never commits the host's session: writes are flushed into the
    host's transaction and the host commits or rolls back. Nothing in the block
    touches the user's own lamin-sa instances: artifacts are written to
    ``storage`` and registered in the host's database only. New records are
    attributed to ``user`` (a handle; default: the local user), registered in
    ``core_user`` on first use.

    Args:
        session: The host's session, bound to a database migrated with
            ``lamin_sa.migrate.upgrade``.
        storage: The default storage of artifacts saved in the block: a local
            folder or ``s3://bucket/prefix``. Without it, saving an artifact
            raises :class:`~lamin_sa.errors.NoDefaultStorage`.
        user: The handle new records are attributed to.
        run_id: The run new records are attributed to.

    Example:
        >>> with Session(engine) as session, ln.use_session(  # doctest: +SKIP
        ...     session, storage="/data/host-app"
        ... ):
        ...     ln.Artifact(df, key="samples.parquet").save()
        ...     session.commit()
    """
    from lamin_sa.config import UserSettings
    from lamin_sa.db.uid import hash_to_uid
    from lamin_sa.models.core import Instance, User

    local = UserSettings.load()
    handle = user or local.handle
    user_id = session.scalars(select(User.id).where(User.handle == handle)).first()
    if user_id is None:
        row = User(handle=handle, uid=hash_to_uid(f"user:{handle}", 8))
        session.add(row)
        session.flush()
        user_id = row.id
    root = instance_uid = None
    if storage is not None:
        from lamin_sa.instance import _normalize_root

        root = _normalize_root(storage)
        if "://" not in root:
            Path(root).mkdir(parents=True, exist_ok=True)
        # storage locations are managed under the database's own instance row
        inst = session.scalars(select(Instance)).first()
        if inst is None:
            inst = Instance(uid=hash_to_uid(f"instance:host:{root}", 12), name="host")
            session.add(inst)
            session.flush()
        instance_uid = inst.uid
    with dbs.use_session(
        session,
        user_id=user_id,
        run_id=run_id,
        storage_root=root,
        instance_uid=instance_uid,
    ) as ctx:
        yield ctx


def view(n: int = 7, *, return_dict: bool = False) -> dict[str, Any] | None:
    """Show the latest ``n`` records of every registry that has records.

    One table per registry (newest first), titled with the registry and how
    many records it holds: printed in a terminal, rendered in Jupyter.

    Args:
        n: Rows per registry.
        return_dict: Return ``{registry name: DataFrame}`` instead of showing.

    Returns:
        The DataFrames with ``return_dict=True``, else None.

    Example:
        >>> ln.view()  # doctest: +SKIP
        ULabel (3 records, latest 3)
        ...
    """
    from lamin_sa.display import html_table, show
    from lamin_sa.models import core

    frames: dict[str, Any] = {}
    totals: dict[str, int] = {}
    for name in core.__all__:
        model = getattr(core, name)
        if getattr(model, "_name_field", None) is None or name in (
            "Instance",
            "Module",
        ):
            continue
        qs = model.filter()
        total = qs.count()
        if not total and not return_dict:
            continue
        frames[name] = qs.order_by("-id")[:n].df()
        totals[name] = total
    if return_dict:
        return frames
    if not frames:
        show("No records yet.")
        return None
    texts, htmls = [], []
    for name, df in frames.items():
        title = f"{name} ({totals[name]} records, latest {len(df)})"
        texts.append(f"{title}\n{df.to_string()}")
        rows = [list(row) for row in df.itertuples(index=True)]
        htmls.append(
            html_table([df.index.name or "", *df.columns], rows, caption=title)
        )
    show("\n\n".join(texts), "".join(htmls))
    return None


def upgrade_instance(modules: list[str] | None = None) -> dict[str, str]:
    """Upgrade the last used instance's mounted modules; return their status.

    Works when the schema is behind the code (where connecting refuses).

    Args:
        modules: Modules to mount in addition (e.g. ``["bionty"]`` on a live
            instance).
    """
    from lamin_sa import migrate
    from lamin_sa.instance import unchecked_connection

    with unchecked_connection() as conn:
        wanted = [*(migrate.mounted_modules(conn) or ["core"]), *(modules or [])]
        migrate.upgrade(conn, modules=wanted)
        conn.commit()
        return {k: str(v) for k, v in migrate.status(conn).items()}


def downgrade_instance(module: str, to: str = "-1") -> dict[str, str]:
    """Downgrade one module of the last used instance; return every module's status.

    Args:
        module: The module to downgrade.
        to: ``"base"``, a relative step such as ``"-1"``, or a revision id.
    """
    from lamin_sa import migrate
    from lamin_sa.instance import unchecked_connection

    with unchecked_connection() as conn:
        migrate.downgrade(conn, module, to)
        conn.commit()
        return {k: str(v) for k, v in migrate.status(conn).items()}


def instance_schema_status() -> dict[str, str]:
    """Per module: the stored revision against the installed code's head."""
    from lamin_sa import migrate
    from lamin_sa.instance import unchecked_connection

    with unchecked_connection() as conn:
        return {k: str(v) for k, v in migrate.status(conn).items()}
