"""Collections: ordered, versioned sets of saved artifacts (reference §7).

As for artifacts, ``Collection.__new__`` returns the stored visible collection
with the same hash (``hash_set`` over member hashes) instead of a new one.
Members are kept on the unsaved collection and written as CollectionArtifact
rows, in list order, in the same transaction as the collection row.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy import inspect as sa_inspect

from lamin_sa.artifact._state import (
    init_with_related,
    planned_instance,
    private,
    read,
    set_private,
    take_plan,
)
from lamin_sa.artifact.create import warn_no_run
from lamin_sa.artifact.versions import check_version, mark_latest, new_version_fields
from lamin_sa.db import session as dbs
from lamin_sa.db.uid import base62
from lamin_sa.errors import NotSavedError, ValidationError
from lamin_sa.storage import hash_set

logger = logging.getLogger(__name__)

_ALLOWED = (
    "artifacts",
    "name",
    "description",
    "version",
    "is_new_version_of",
    "revises",
    "meta",
    "reference",
    "reference_type",
    "run",
    "visibility",
)


def new_collection(cls: type, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``Collection.__new__``: a new collection or the stored one with that hash."""
    if not args and "artifacts" not in kwargs:
        return object.__new__(cls)
    if len(args) > 1:
        raise ValueError("Only one non-keyword arg allowed: artifacts")
    extra = [k for k in kwargs if k not in _ALLOWED]
    if extra:
        raise ValueError(
            "Only artifacts, name, run, description, reference, reference_type, "
            f"visibility can be passed, you passed: {extra}"
        )
    kwargs = dict(kwargs)
    artifacts = args[0] if args else kwargs.pop("artifacts")
    prepared = _prepare(cls, artifacts, **kwargs)
    return planned_instance(cls, prepared, kwargs)


def init_collection(
    record: Any, args: tuple[Any, ...], kwargs: dict[str, Any], base_init: Any
) -> None:
    """``Collection.__init__``: apply what ``new_collection`` prepared."""
    plan = take_plan(record)
    if plan is None:
        base_init(*args, **kwargs)
        return
    mode, payload = plan
    if mode == "existing":
        for field in ("name", "description"):
            value = payload.get(field)
            if value is not None and value != getattr(record, field):
                logger.warning(
                    "updating %s from %r to %r", field, getattr(record, field), value
                )
                setattr(record, field, value)
        return
    init_with_related(record, payload["fields"], ("run", "artifact"), base_init)
    set_private(record, "_lamin_members", payload["members"])
    set_private(record, "_lamin_update_version_of", payload["pending"])


def _prepare(
    cls: type,
    artifacts: Any,
    *,
    name: str | None = None,
    description: str | None = None,
    version: str | None = None,
    is_new_version_of: Any = None,
    revises: Any = None,
    meta: Any = None,
    reference: str | None = None,
    reference_type: str | None = None,
    run: Any = None,
    visibility: int = 1,
) -> Any:
    from lamin_sa.models.core import Artifact

    check_version(version)
    if isinstance(artifacts, Artifact):
        artifacts = [artifacts]
    if not isinstance(artifacts, list | tuple) or not all(
        isinstance(a, Artifact) for a in artifacts
    ):
        raise ValueError("Artifact or List[Artifact] is allowed.")
    artifacts = list(artifacts)
    if not artifacts:
        raise ValueError("Pass at least one artifact.")
    if any(a.id is None for a in artifacts):
        raise NotSavedError("Not all artifacts are yet saved, please save them")
    hashes = [a.hash for a in artifacts if a.hash is not None]
    duplicates = sorted({h for h in hashes if hashes.count(h) > 1})
    if duplicates:
        raise ValueError(
            "Please pass artifacts with distinct hashes: these ones are non-unique "
            f"{duplicates}"
        )
    if meta is not None and (not isinstance(meta, Artifact) or meta.id is None):
        raise NotSavedError("meta has to be a saved artifact.")
    if revises is not None:
        is_new_version_of = revises
    pending = None
    if is_new_version_of is not None:
        uid, version, pending = new_version_fields(cls, is_new_version_of, version)
        name = name or is_new_version_of.name
        if description is None:
            description = is_new_version_of.description
    else:
        uid = base62(cls._len_uid)  # type: ignore[attr-defined]
    if name is None:
        raise ValueError("Pass a name for the collection: Collection(..., name=...).")
    hash_ = hash_set(hashes) if hashes else None
    if hash_ is not None:
        existing = read(
            lambda s: s.scalars(
                select(cls)
                .where(cls.hash == hash_, cls.visibility == 1)  # type: ignore[attr-defined]
                .order_by(cls.id)  # type: ignore[attr-defined]
                .limit(1)
            ).first()
        )
        if existing is not None:
            logger.warning(
                "returning existing collection with same hash: %r", existing.uid
            )
            return existing
    if run is None:
        run = dbs.current().run
    if run is None:
        warn_no_run(visibility)
    fields: dict[str, Any] = {
        "uid": uid,
        "name": name,
        "description": description,
        "version": version,
        "hash": hash_,
        "reference": reference,
        "reference_type": reference_type,
        "visibility": visibility,
    }
    if run is not None:
        fields["run"] = run
        if getattr(run, "transform_id", None) is not None:
            fields["transform_id"] = run.transform_id
    if meta is not None:
        fields["artifact"] = meta
    return {"fields": fields, "members": artifacts, "pending": pending}


def save_collection(collection: Any, transfer_labels: bool = False) -> Any:
    """Save the collection row and its ordered members in one transaction.

    With ``transfer_labels``, the labels of every member artifact are then
    linked to the collection under the same features (``labels.add_from``).
    """
    from lamin_sa.models.core import CollectionArtifact, CollectionFeatureSet

    members = private(collection, "_lamin_members")
    is_new = sa_inspect(collection).transient
    feature_sets = _union_feature_sets(members, collection.artifact) if members else {}
    with dbs.write_transaction() as session:
        pending = private(collection, "_lamin_update_version_of")
        if pending is not None:
            old, version = pending
            old = session.merge(old) if sa_inspect(old).detached else old
            if old.version is None:
                old.version = version
        if sa_inspect(collection).detached:
            session.add(collection)
        elif is_new:
            session.add(collection)
        session.flush()
        if is_new:
            mark_latest(session, [collection])
        if members:
            stored = set(
                session.scalars(
                    select(CollectionArtifact.artifact_id).where(
                        CollectionArtifact.collection_id == collection.id
                    )
                )
            )
            rows = [
                {"collection_id": collection.id, "artifact_id": a.id}
                for a in members
                if a.id not in stored
            ]
            if rows:
                defaults = {
                    "created_by_id": dbs.current().user_id,
                    "run_id": dbs.current().run_id,
                }
                session.execute(
                    insert(CollectionArtifact), [r | defaults for r in rows]
                )
        if feature_sets:
            _link_feature_sets(session, collection, feature_sets, CollectionFeatureSet)
        session.flush()
    set_private(collection, "_lamin_members", None)
    set_private(collection, "_lamin_update_version_of", None)
    session.expire(
        collection, ["artifacts", "artifact_links", "feature_sets", "feature_set_links"]
    )
    if transfer_labels:
        for artifact in ordered_artifacts(collection):
            collection.labels.add_from(artifact)
    return collection


def _member_feature_sets(artifact_ids: list[int]) -> list[tuple[str | None, Any]]:
    """``(slot, FeatureSet)`` of the artifacts' links, in member then link order."""
    from lamin_sa.models.core import ArtifactFeatureSet, FeatureSet

    if not artifact_ids:
        return []
    position = {a_id: i for i, a_id in enumerate(artifact_ids)}
    rows = read(
        lambda s: s.execute(
            select(ArtifactFeatureSet.artifact_id, ArtifactFeatureSet.slot, FeatureSet)
            .join(FeatureSet, FeatureSet.id == ArtifactFeatureSet.featureset_id)
            .where(ArtifactFeatureSet.artifact_id.in_(artifact_ids))
            .order_by(ArtifactFeatureSet.id)
        ).all()
    )
    rows = sorted(rows, key=lambda r: position[r[0]])  # stable: link order kept
    return [(slot, feature_set) for _, slot, feature_set in rows]


def _union_feature_sets(artifacts: list[Any], meta: Any = None) -> dict[Any, Any]:
    """Slot → saved FeatureSet: per slot, the union of the members' feature sets.

    Constructing ``FeatureSet(union)`` gives the stored set when one with the
    same members exists (dedup by hash), so identical collections share their
    sets. A slot whose member sets belong to different registries is skipped.
    When the members have no feature sets, those of the ``meta`` artifact are
    used as they are.
    """
    from lamin_sa.models.core import FeatureSet

    by_slot: dict[Any, list[Any]] = {}
    for slot, feature_set in _member_feature_sets([a.id for a in artifacts]):
        sets = by_slot.setdefault(slot, [])
        if all(fs.id != feature_set.id for fs in sets):
            sets.append(feature_set)
    if not by_slot:
        if meta is None or meta.id is None:
            return {}
        return dict(_member_feature_sets([meta.id]))
    out: dict[Any, Any] = {}
    for slot, sets in by_slot.items():
        registries = {fs.registry for fs in sets}
        if len(registries) > 1:
            logger.info(
                "not linking a feature set for slot %r: the artifacts' sets belong "
                "to different registries %s",
                slot,
                sorted(registries),
            )
            continue
        if len(sets) == 1:
            out[slot] = sets[0]
            continue
        union: dict[int, Any] = {}
        for fs in sets:
            for member in fs.members:
                union.setdefault(member.id, member)
        dtypes = {fs.dtype for fs in sets}
        dtype = dtypes.pop() if len(dtypes) == 1 else None
        feature_set = FeatureSet(list(union.values()), dtype=dtype)
        if feature_set.id is None:
            feature_set.save()
        out[slot] = feature_set
    return out


def _link_feature_sets(
    session: Any, collection: Any, feature_sets: dict[Any, Any], link: type
) -> None:
    """Insert the missing CollectionFeatureSet rows (one per slot)."""
    linked = set(
        session.scalars(
            select(link.featureset_id).where(  # type: ignore[attr-defined]
                link.collection_id == collection.id  # type: ignore[attr-defined]
            )
        )
    )
    rows = []
    for slot, feature_set in feature_sets.items():
        if feature_set.id in linked:
            continue
        linked.add(feature_set.id)
        rows.append(
            {
                "collection_id": collection.id,
                "featureset_id": feature_set.id,
                "slot": slot,
                "created_by_id": dbs.current().user_id,
                "run_id": dbs.current().run_id,
            }
        )
    if rows:
        session.execute(insert(link), rows)


def ordered_artifacts(collection: Any) -> list[Any]:
    """The member artifacts in insertion order (unsaved: the passed list)."""
    members = private(collection, "_lamin_members")
    if members is not None or collection.id is None:
        return list(members or [])
    return list(collection.artifacts.all())  # ordered by link insertion


def cache_collection(collection: Any) -> list[Any]:
    """Local paths of all member artifacts (cloud objects synced to the cache)."""
    from lamin_sa.artifact.access import cache

    return [cache(a) for a in ordered_artifacts(collection)]


def load_collection(collection: Any, join: str = "outer", **kwargs: Any) -> Any:
    """Concatenate the members' data into one object.

    DataFrames go through ``pd.concat``, AnnData through ``anndata.concat``
    labelled by ``artifact_uid``.

    Raises:
        ValidationError: The members have different suffixes or cannot be
            concatenated.
    """
    from lamin_sa.artifact.access import load

    artifacts = ordered_artifacts(collection)
    suffixes = {a.suffix for a in artifacts}
    if len(suffixes) != 1:
        raise ValidationError(
            "Can only load collections where all artifacts have the same suffix, "
            f"found {sorted(suffixes)}."
        )
    objects = [load(a, **kwargs) for a in artifacts]
    first = objects[0]
    kind = type(first).__name__
    if kind == "DataFrame":
        import pandas as pd

        return pd.concat(objects, join=join)
    if kind == "AnnData":
        import anndata as ad

        return ad.concat(
            objects,
            join=join,
            label="artifact_uid",
            keys=[a.uid for a in artifacts],
            index_unique=None,
        )
    raise ValidationError(
        f"Cannot concatenate {kind} objects; use collection.cache() for the paths."
    )
