"""``artifact.labels`` and ``artifact.features`` (reference §5, managers).

A label is linked to an artifact (or collection) through a link row that also
carries the feature it annotates (``feature_id``). Label registries are found
from the host's link models: every to-many link model with a ``feature_id``
column (``ArtifactULabel`` in core; bionty adds its own). Writes are bulk: a
call issues a fixed number of queries per label registry, whatever the number
of labels.

Features of a host are grouped in feature sets linked under a *slot*
(``columns``, ``var``, ``obs``, ``external``). Labels or values added under a
feature that is not part of a linked feature set extend the ``external`` set: a
new set of (old external members + the new features) replaces the old link, and
the old set is deleted when nothing else links it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import RelationshipDirection

from lamin_sa.errors import NotSavedError, ValidationError

if TYPE_CHECKING:
    pass

logger = logging.getLogger(__name__)

EXTERNAL = "external"
_CAT = re.compile(r"^cat\[(.*)\]$")
_IGNORED_FKS = {"core_feature", "core_user", "core_run"}
# Feature-set and feature-value accessors of a host; label accessors (core and
# module ones alike) come from label_links().
_HOST_ATTRS = (
    "feature_sets",
    "feature_set_links",
    "feature_values",
    "feature_value_links",
)


# ---- link models of a host --------------------------------------------------------


class LabelLink:
    """How labels of one registry link to a host class."""

    def __init__(
        self, registry: type, link: type, host_key: str, label_key: str, accessor: str
    ) -> None:
        self.registry = registry
        self.link = link
        self.host_key = host_key
        self.label_key = label_key
        #: the host's many-to-many attribute of the labels (e.g. ``ulabels``).
        self.accessor = accessor
        #: the host's one-to-many attribute of the link rows (``ulabel_links``).
        self.links_key = accessor

    @property
    def host_col(self) -> Any:
        return getattr(self.link, self.host_key)

    @property
    def label_col(self) -> Any:
        return getattr(self.link, self.label_key)


def _fk_target(column: Any) -> str | None:
    for fk in column.foreign_keys:
        return str(fk.column.table.name)
    return None


def label_links(host_cls: type) -> dict[type, LabelLink]:
    """Label registry → :class:`LabelLink` for Artifact or Collection.

    Only registries of modules mounted on the active instance take part.
    """
    from lamin_sa.models.registry import mounted_registries

    links = _all_label_links(host_cls)
    usable = set(mounted_registries(list(links)))
    return {k: v for k, v in links.items() if k in usable}


def _all_label_links(host_cls: type) -> dict[type, LabelLink]:
    from lamin_sa.db.base import Base
    from lamin_sa.models.registry import registries

    # cached per class; a module imported later (more mappers) refreshes it
    n_mappers = len(Base.registry.mappers)
    cached = host_cls.__dict__.get("_lamin_label_links")
    if cached is not None and cached[0] == n_mappers:
        return cached[1]  # type: ignore[no-any-return]
    by_table = {
        cls.__table__.name: cls  # type: ignore[attr-defined]
        for cls in registries().values()
    }
    mapper = sa_inspect(host_cls)
    host_table = host_cls.__table__.name  # type: ignore[attr-defined]
    out: dict[type, LabelLink] = {}
    for rel in mapper.relationships:
        if rel.direction is not RelationshipDirection.ONETOMANY or rel.viewonly:
            continue
        link = rel.mapper.class_
        table = link.__table__
        if "feature_id" not in table.columns:
            continue
        host_key = label_key = None
        registry: type | None = None
        for column in table.columns:
            target = _fk_target(column)
            if target == host_table:
                host_key = column.key
            elif target is not None and target not in _IGNORED_FKS:
                label_key = column.key
                registry = by_table.get(target)
        if host_key is None or label_key is None or registry is None:
            continue
        accessor = next(
            (
                r.key
                for r in mapper.relationships
                if r.secondary is not None and r.secondary.name == table.name
            ),
            rel.key,
        )
        spec = LabelLink(registry, link, host_key, label_key, accessor)
        spec.links_key = rel.key
        out[registry] = spec
    host_cls._lamin_label_links = (n_mappers, out)  # type: ignore[attr-defined]
    return out


def feature_set_link(host: Any) -> tuple[type, Any]:
    """``(link model, host column)`` of the host's feature-set links."""
    from lamin_sa.models.core import (
        Artifact,
        ArtifactFeatureSet,
        CollectionFeatureSet,
    )

    if isinstance(host, Artifact):
        return ArtifactFeatureSet, ArtifactFeatureSet.artifact_id
    return CollectionFeatureSet, CollectionFeatureSet.collection_id


def kind(host: Any) -> str:
    return type(host).__name__.lower()


def require_saved_host(host: Any, what: str) -> None:
    if getattr(host, "id", None) is None:
        raise NotSavedError(
            f"Please save the {kind(host)} before adding {what}: {kind(host)}.save()"
        )


def expire_host(session: Any, host: Any) -> None:
    # every label accessor, including those modules attached, reloads on next use
    if host in session:
        cls = type(host)
        keys = {k for k in _HOST_ATTRS if k in sa_inspect(cls).relationships}
        for spec in label_links(cls).values():
            keys |= {spec.accessor, spec.links_key}
        session.expire(host, sorted(keys))


def cat_registries(dtype: str) -> list[str]:
    """Registry names in a ``cat[A|B]`` dtype (empty for ``cat`` and others)."""
    match = _CAT.match(dtype or "")
    if match is None:
        return []
    return [n for n in match.group(1).split("|") if n]


def widen_dtype(dtype: str, names: Iterable[str]) -> str:
    """``cat`` → ``cat[A]`` → ``cat[A|B]``: add registries missing from ``dtype``."""
    current = cat_registries(dtype)
    merged = list(dict.fromkeys([*current, *names]))
    return f"cat[{'|'.join(merged)}]" if merged else dtype


def check_feature(feature: Any) -> None:
    from lamin_sa.models.core import Feature

    if not isinstance(feature, Feature):
        raise TypeError(
            f"feature has to be of type Feature, got {type(feature).__name__}."
        )
    if feature.id is None:
        raise ValidationError(
            f"Feature not validated. If it looks correct: "
            f"ln.Feature(name={feature.name!r}, dtype={feature.dtype!r}).save()"
        )


def registry_named(name: str) -> type:
    from lamin_sa.models.registry import registry_by_name

    return registry_by_name(name)


def name_field(model: type) -> str:
    return getattr(model, "_name_field", None) or "name"


# ---- the external feature set -----------------------------------------------------


class _ExternalPlan:
    """The new ``external`` feature set and the link it replaces."""

    def __init__(self, new_set: Any, old_set_id: int | None) -> None:
        self.new_set = new_set
        self.old_set_id = old_set_id


def plan_external(host: Any, features: list[Any]) -> _ExternalPlan | None:
    """Prepare the ``external`` set so that it holds ``features`` not yet linked.

    Features that belong to a Feature-registry set linked to the host already are
    left alone; if none is left, returns None. The new feature set is saved here
    (it may be a stored one with the same members); :func:`apply_external` swaps
    the links inside the caller's transaction.
    """
    from lamin_sa.db.session import read
    from lamin_sa.models.core import FeatureSet, featureset_feature

    by_id = {f.id: f for f in features}
    if not by_id:
        return None
    ids = list(by_id)
    link, host_col = feature_set_link(host)
    linked_sets = select(link.featureset_id).where(host_col == host.id)
    ff = featureset_feature.c

    def query(session: Any) -> tuple[set[int], Any]:
        present = set(
            session.scalars(
                select(ff.feature_id).where(
                    ff.feature_id.in_(ids), ff.featureset_id.in_(linked_sets)
                )
            )
        )
        old = session.scalars(
            select(FeatureSet)
            .join(link, link.featureset_id == FeatureSet.id)
            .where(host_col == host.id, link.slot == EXTERNAL)
            .order_by(link.id)
            .limit(1)
        ).first()
        return present, old

    present, old = read(query)
    missing = [f for i, f in by_id.items() if i not in present]
    if not missing:
        return None
    members = list(old.features.all()) if old is not None else []
    new_set = FeatureSet([*members, *missing])
    if new_set.id is None:
        new_set.save()
    return _ExternalPlan(new_set, None if old is None else old.id)


def apply_external(session: Any, host: Any, plan: _ExternalPlan) -> None:
    """Link the planned ``external`` set; delete the old one if orphaned."""
    from lamin_sa.models.core import (
        ArtifactFeatureSet,
        CollectionFeatureSet,
        FeatureSet,
        featureset_feature,
    )

    link, host_col = feature_set_link(host)
    new_id = plan.new_set.id
    old_id = plan.old_set_id
    if old_id == new_id:
        return
    if old_id is not None:
        session.execute(
            delete(link).where(host_col == host.id, link.featureset_id == old_id)
        )
    exists = session.scalars(
        select(link.id).where(host_col == host.id, link.featureset_id == new_id)
    ).first()
    if exists is None:
        session.execute(
            insert(link),
            [{host_col.key: host.id, "featureset_id": new_id, "slot": EXTERNAL}],
        )
    else:
        session.execute(update(link).where(link.id == exists).values(slot=EXTERNAL))
    if old_id is None:
        return
    still_linked = any(
        session.scalars(
            select(model.id).where(model.featureset_id == old_id).limit(1)
        ).first()
        is not None
        for model in (ArtifactFeatureSet, CollectionFeatureSet)
    )
    if not still_linked:
        ff = featureset_feature.c
        session.execute(delete(featureset_feature).where(ff.featureset_id == old_id))
        session.execute(delete(FeatureSet).where(FeatureSet.id == old_id))
        logger.info("deleted the orphaned external feature set (id=%s)", old_id)


# The managers live in their own modules; they stay importable from here.
from lamin_sa.curate.feature_manager import FeatureManager  # noqa: E402, F401
from lamin_sa.curate.labels import LabelManager  # noqa: E402, F401
