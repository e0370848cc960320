"""Version families of artifacts and collections (reference §2).

A family shares the 16-character uid stem; each version adds 4 random
characters. Exactly one record per family has ``is_latest=True``: the one saved
last, or after trashing, restoring or deleting a version the newest visible one
(see :func:`refresh_latest`).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import case, select, update

from lamin_sa.db.sql import advisory_lock
from lamin_sa.db.uid import base62
from lamin_sa.errors import MultipleResultsFound, NoResultFound

logger = logging.getLogger(__name__)


def check_version(version: Any) -> str | None:
    """Validate a ``version`` argument.

    Raises:
        ValueError: ``version`` is neither None nor a string.
    """
    if version is not None and not isinstance(version, str):
        raise ValueError(
            "`version` parameter must be `None` or `str`, e.g., '0.1', '1', '2', "
            f"got {version!r}."
        )
    return version


def set_version(version: str | None, previous_version: str | None) -> str:
    """The version of a new record given the previous version.

    ``set_version(None, "1") == "2"``; a passed version is kept.

    Raises:
        ValueError: The previous version is not integer-castable and no version
            was passed.
    """
    if version is not None:
        return version
    previous = "0" if previous_version is None else previous_version
    try:
        return str(int(previous) + 1)
    except ValueError as e:
        raise ValueError(
            f"Cannot auto-increment non-integer castable version {previous!r}; "
            "pass `version=` explicitly."
        ) from e


def new_version_fields(
    cls: type, old: Any, version: str | None
) -> tuple[str, str, tuple[Any, str] | None]:
    """uid, version and a pending update of ``old`` for a new version of ``old``.

    Raises:
        TypeError: ``old`` is not a record of ``cls``.
        ValueError: ``version`` equals the previous version, or cannot be derived.
    """
    if not isinstance(old, cls):
        raise TypeError(f"is_new_version_of has to be of type ln.{cls.__name__}")
    if old.uid is None:
        raise ValueError("is_new_version_of must be a saved record.")
    pending = None
    previous = old.version
    if previous is None:
        previous = "1"
        pending = (old, "1")
    if version is not None and version == previous:
        raise ValueError(f"Please increment the previous version: '{previous}'")
    new_version = set_version(version, previous)
    uid = old.uid[: cls._len_stem_uid] + base62(cls._len_uid - cls._len_stem_uid)  # type: ignore[attr-defined]
    return uid, new_version, pending


def mark_latest(session: Any, records: list[Any]) -> None:
    """In a write transaction: make ``records`` the latest of their families.

    Clears ``is_latest`` on every other member of each family.
    """
    by_class: dict[type, list[Any]] = {}
    for r in records:
        by_class.setdefault(type(r), []).append(r)
    for cls, group in by_class.items():
        stem_len = cls._len_stem_uid  # type: ignore[attr-defined]
        stems = {r.uid[:stem_len]: r.uid for r in group}
        # PostgreSQL: new versions of one family take turns, so each sees the
        # previous one committed and clears its is_latest (one latest per family)
        table = cls.__tablename__  # type: ignore[attr-defined]
        advisory_lock(session, *[(table, "family", stem) for stem in stems])
        for stem, uid in stems.items():
            session.execute(
                update(cls)
                .where(
                    cls.uid.startswith(stem, autoescape=True),  # type: ignore[attr-defined]
                    cls.uid != uid,  # type: ignore[attr-defined]
                    cls.is_latest.is_(True),  # type: ignore[attr-defined]
                )
                .values(is_latest=False)
                .execution_options(synchronize_session="fetch")
            )
        for r in group:
            r.is_latest = True


def claim_version(
    session: Any, record: Any, batch: dict[str, set[str]] | None = None
) -> None:
    """After :func:`mark_latest` (family lock held): make a derived version free.

    A version derived from the previous one (``"2"`` after ``"1"``) is taken
    if another writer saved a new version of the same family meanwhile; the
    record then gets the next integer after the family's highest one.

    Args:
        session: The session of the write transaction.
        record: A new version whose ``version`` was not passed.
        batch: Collects the versions given to records of the same save.
    """
    cls = type(record)
    stem = record.uid[: cls._len_stem_uid]
    taken = set(
        session.scalars(
            select(cls.version).where(
                cls.uid.startswith(stem, autoescape=True),
                cls.uid != record.uid,
                cls.version.is_not(None),
            )
        )
    )
    mine = batch.setdefault(stem, set()) if batch is not None else set()
    taken |= mine
    if record.version not in taken:
        mine.add(record.version)
        return
    numbers = [int(v) for v in taken if v.isdigit()]
    version = str(max(numbers, default=0) + 1)
    mine.add(version)
    logger.info(
        "version %r of %s was saved meanwhile; saving as version %r",
        record.version,
        stem,
        version,
    )
    record.version = version


def refresh_latest(session: Any, record: Any) -> None:
    """In a write transaction: give ``is_latest`` to one version of the family.

    After a version is trashed, restored or deleted: the newest visible version
    (``visibility=1``) is latest, else the newest hidden one, else the newest in
    the trash; every other version of the family loses the flag.
    """
    cls = type(record)
    stem = record.uid[: cls._len_stem_uid]
    # the same per-family lock as mark_latest: one latest per family, always
    advisory_lock(session, (cls.__tablename__, "family", stem))
    family = cls.uid.startswith(stem, autoescape=True)
    order = [cls.created_at.desc(), cls.id.desc()]
    visibility = getattr(cls, "visibility", None)
    if visibility is not None:
        order.insert(0, case((visibility == 1, 0), (visibility == 0, 1), else_=2))
    session.flush()
    newest = session.scalar(select(cls.id).where(family).order_by(*order).limit(1))
    if newest is None:
        return
    for where, value in ((cls.id != newest, False), (cls.id == newest, True)):
        session.execute(
            update(cls)
            .where(family, where, cls.is_latest.is_not(value))
            .values(is_latest=value)
            .execution_options(synchronize_session="fetch")
        )


def get_latest(cls: type, idlike: Any = None, **expressions: Any) -> Any:
    """``Model.get`` that resolves several versions of one family to the latest.

    Raises:
        NoResultFound: Nothing matches.
        MultipleResultsFound: Records of several families match.
    """
    from lamin_sa.query.queryset import QuerySet

    qs = QuerySet(cls)
    try:
        return qs.get(idlike, **expressions)
    except MultipleResultsFound:
        if idlike is not None or not expressions:
            raise
    matches = list(qs.filter(**expressions))
    stem_len = cls._len_stem_uid  # type: ignore[attr-defined]
    stems = {r.uid[:stem_len] for r in matches}
    if len(stems) != 1:
        raise MultipleResultsFound(
            f"{len(matches)} {cls.__name__} records of {len(stems)} version "
            f"families match {expressions}; add lookups to pick one."
        )
    latest = [r for r in matches if r.is_latest]
    if not latest:
        latest = sorted(matches, key=lambda r: (r.created_at, r.id))[-1:]
    if not latest:  # pragma: no cover - matches is non-empty here
        raise NoResultFound(f"No {cls.__name__} matches {expressions}.")
    return latest[0]
