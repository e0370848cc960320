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
from sqlalchemy.orm.attributes import set_committed_value

from lamin_sa.db.sql import insert_ignoring_duplicates
from lamin_sa.errors import NotSavedError, ValidationError

if TYPE_CHECKING:
    from lamin_sa.query.queryset import QuerySet

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


def _feature_set_link(host: Any) -> tuple[type, Any]:
    """``(link model, host column)`` of the host's feature-set links."""
    from lamin_sa.models.core import (
        Artifact,
        ArtifactFeatureSet,
        CollectionFeatureSet,
    )

    if isinstance(host, Artifact):
        return ArtifactFeatureSet, ArtifactFeatureSet.artifact_id
    return CollectionFeatureSet, CollectionFeatureSet.collection_id


def _kind(host: Any) -> str:
    return type(host).__name__.lower()


def _require_saved_host(host: Any, what: str) -> None:
    if getattr(host, "id", None) is None:
        raise NotSavedError(
            f"Please save the {_kind(host)} before adding {what}: {_kind(host)}.save()"
        )


def _expire_host(session: Any, host: Any) -> None:
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


def _check_feature(feature: Any) -> None:
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


def _registry_named(name: str) -> type:
    from lamin_sa.models.registry import registry_by_name

    return registry_by_name(name)


def _name_field(model: type) -> str:
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
    link, host_col = _feature_set_link(host)
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

    link, host_col = _feature_set_link(host)
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


# ---- LabelManager -----------------------------------------------------------------


class LabelManager:
    """Labels of an artifact or collection: ``artifact.labels``.

    ``add`` links labels (optionally under a feature), ``get`` returns the labels
    of a feature, ``add_from`` copies the labels of another artifact or
    collection.
    """

    def __init__(self, host: Any) -> None:
        self._host = host

    def __repr__(self) -> str:
        from lamin_sa.curate.describe import labels_block

        lines = labels_block(self._host)
        if not lines:
            return "no linked labels"
        return "\n".join(["Labels:", *lines])

    # ---- add ------------------------------------------------------------------

    def _as_records(self, records: Any, feature: Any) -> list[Any]:
        from lamin_sa.models.record import Record

        if isinstance(records, str | Record):
            records = [records]
        items = list(records)
        strings = [r for r in items if isinstance(r, str)]
        if not strings:
            return items
        if len(strings) != len(items):
            raise TypeError("Pass either records or strings, not both.")
        if feature is None:
            raise ValueError(
                "Please pass a feature with dtype 'cat[...]' to add labels by name, "
                "e.g. labels.add(['a', 'b'], feature=ln.Feature.get(name='x'))."
            )
        names = cat_registries(feature.dtype)
        if not names:
            raise ValueError(
                f"Please pass a record (a ULabel, ...) or give feature "
                f"{feature.name!r} a dtype 'cat[Registry]': its dtype is "
                f"{feature.dtype!r}, so strings can't be resolved."
            )
        found: list[Any] = []
        missing = set(strings)
        for name in names:
            model = _registry_named(name)
            field = _name_field(model)
            records_ = [
                r
                for r in model.from_values(strings, field, mute=True)  # type: ignore[attr-defined]
                if r.is_saved  # public-backed registries also return unsaved terms
            ]
            found += records_
            missing -= {getattr(r, field) for r in records_}
        if missing:
            from lamin_sa.curate.validate import quote_list

            raise ValidationError(
                f"Label(s) {quote_list(sorted(missing))} not found in "
                f"{' or '.join(names)}; create and save them first."
            )
        return found

    def add(self, records: Any, feature: Any = None) -> None:
        """Link labels to the artifact or collection.

        Args:
            records: A record, a list or QuerySet of records, or label names
                (strings need ``feature`` with a ``cat[...]`` dtype; they are
                resolved with ``from_values``).
            feature: The feature the labels annotate. Labels linked before are
                moved to this feature; the feature's dtype is widened
                (``cat`` → ``cat[ULabel]``); if the feature is in no linked
                feature set, it joins the ``external`` one.

        Raises:
            NotSavedError: the artifact or collection is not saved.
            ValidationError: a label or the feature is not saved, or a name does
                not resolve.
            TypeError: ``feature`` is not a Feature or a record is not a label.
        """
        from lamin_sa.db.session import write_transaction
        from lamin_sa.models.core import Feature
        from lamin_sa.models.record import Record

        host = self._host
        _require_saved_host(host, "a label")
        if feature is not None:
            _check_feature(feature)
        items = self._as_records(records, feature)
        links = label_links(type(host))
        groups: dict[type, dict[int, Any]] = {}
        for record in items:
            if not isinstance(record, Record):
                raise TypeError(f"Labels are records, got {type(record).__name__}.")
            if type(record) not in links:
                raise TypeError(
                    f"{type(record).__name__} records are not labels of "
                    f"{_kind(host)}s; "
                    f"label registries: {', '.join(m.__name__ for m in links)}."
                )
            if record.id is None:
                raise ValidationError(
                    f"{record!r} not validated. If it looks correct: record.save()"
                )
            groups.setdefault(type(record), {})[record.id] = record
        if not groups:
            return
        new_dtype = None
        plan = None
        if feature is not None:
            names = [m.registry_name() for m in groups]  # type: ignore[attr-defined]
            if not feature.dtype.startswith("cat"):
                raise ValidationError(
                    f"Feature {feature.name!r} has dtype {feature.dtype!r}; labels "
                    "need a categorical feature (dtype 'cat' or 'cat[...]')."
                )
            new_dtype = widen_dtype(feature.dtype, names)
            plan = plan_external(host, [feature])
        feature_id = None if feature is None else feature.id
        moved = False
        with write_transaction() as session:
            for model, records_ in groups.items():
                spec = links[model]
                ids = list(records_)
                existing = set(
                    session.scalars(
                        select(spec.label_col).where(
                            spec.host_col == host.id, spec.label_col.in_(ids)
                        )
                    )
                )
                if feature is not None and existing:
                    moved = True
                    session.execute(
                        update(spec.link)
                        .where(
                            spec.host_col == host.id,
                            spec.label_col.in_(list(existing)),
                        )
                        .values(feature_id=feature_id),
                        execution_options={"synchronize_session": False},
                    )
                rows = [
                    {
                        spec.host_key: host.id,
                        spec.label_key: i,
                        "feature_id": feature_id,
                    }
                    for i in ids
                    if i not in existing
                ]
                if rows:
                    # a link another process added meanwhile is kept, not an error
                    session.execute(
                        insert_ignoring_duplicates(session, spec.link), rows
                    )
            if feature is not None and new_dtype != feature.dtype:
                session.execute(
                    update(Feature)
                    .where(Feature.id == feature.id)
                    .values(dtype=new_dtype),
                    execution_options={"synchronize_session": False},
                )
            if plan is not None:
                apply_external(session, host, plan)
            _expire_host(session, host)
            if moved:  # loaded link objects may show the old feature
                models = tuple(links[m].link for m in groups)
                for obj in list(session.identity_map.values()):
                    if isinstance(obj, models):
                        session.expire(obj)
        if feature is not None and new_dtype is not None:
            set_committed_value(feature, "dtype", new_dtype)

    # ---- get ------------------------------------------------------------------

    def get(
        self, feature: Any, mute: bool = False, flat_names: bool = False
    ) -> QuerySet | dict[str, QuerySet] | list[str]:
        """The labels linked under ``feature``.

        Args:
            feature: A saved Feature with a ``cat[...]`` dtype.
            mute: Do not log when nothing is linked.
            flat_names: Return the label names as one list.

        Returns:
            A QuerySet of the labels; a dict ``{registry name: QuerySet}`` if the
            dtype names several registries; a list of names with ``flat_names``.

        Raises:
            TypeError: ``feature`` is not a Feature.
            ValueError: the feature's dtype names no registry.
        """
        from lamin_sa.models.core import Feature
        from lamin_sa.query.queryset import QuerySet

        if not isinstance(feature, Feature):
            raise TypeError(
                f"feature has to be of type Feature, got {type(feature).__name__}."
            )
        host = self._host
        names = cat_registries(feature.dtype)
        if not names:
            raise ValueError(
                f"Feature {feature.name!r} has dtype {feature.dtype!r}: it links no "
                "labels (needs 'cat[Registry]')."
            )
        links = label_links(type(host))
        out: dict[str, QuerySet] = {}
        for name in names:
            model = _registry_named(name)
            spec = links.get(model)
            qs = QuerySet(model, implicit_visibility=False)
            if spec is None or host.id is None:
                out[name] = qs.where(qs.info.pk.in_([]))
                continue
            ids = select(spec.label_col).where(
                spec.host_col == host.id, spec.link.feature_id == feature.id
            )
            out[name] = qs.where(qs.info.pk.in_(ids.scalar_subquery())).order_by("id")
        if flat_names:
            names_out: list[str] = []
            for name, qs in out.items():
                names_out += qs.list(_name_field(_registry_named(name)))
            if not names_out and not mute:
                logger.warning("no labels linked under feature %r", feature.name)
            return names_out
        if not mute and not any(qs.exists() for qs in out.values()):
            logger.warning("no labels linked under feature %r", feature.name)
        if len(out) == 1:
            return next(iter(out.values()))
        return out

    # ---- add_from -------------------------------------------------------------

    def add_from(self, data: Any) -> None:
        """Copy the labels of another artifact or collection, feature by feature.

        Args:
            data: A saved Artifact or Collection.
        """
        from lamin_sa.db.session import read
        from lamin_sa.models.core import Feature

        host = self._host
        _require_saved_host(host, "labels")
        if getattr(data, "id", None) is None:
            raise NotSavedError(f"Save the {_kind(data)} to copy labels from.")
        by_feature: dict[int | None, list[Any]] = {}
        for spec in label_links(type(data)).values():
            model = spec.registry

            def query(session: Any, spec: LabelLink = spec, model: type = model) -> Any:
                return session.execute(
                    select(spec.link.feature_id, model)
                    .join(spec.link, spec.label_col == model.id)  # type: ignore[attr-defined]
                    .where(spec.host_col == data.id)
                    .order_by(spec.link.id)
                ).all()

            for feature_id, record in read(query):
                by_feature.setdefault(feature_id, []).append(record)
        if not by_feature:
            return
        feature_ids = [i for i in by_feature if i is not None]
        features = {
            f.id: f
            for f in read(
                lambda s: s.scalars(
                    select(Feature).where(Feature.id.in_(feature_ids))
                ).all()
            )
        }
        for feature_id, records in by_feature.items():
            feature = features.get(feature_id) if feature_id is not None else None
            if feature is not None:
                logger.info("transferring %s", feature.name)
            self.add(records, feature=feature)


# ---- FeatureManager ---------------------------------------------------------------


def _check_value(feature: Any, value: Any) -> None:
    """Raise TypeError if ``value`` does not fit a non-categorical dtype."""
    import numbers

    dtype = feature.dtype
    ok = True
    if dtype == "number":
        ok = isinstance(value, numbers.Number) and not isinstance(value, bool)
    elif dtype == "int":
        ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    elif dtype == "float":
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    elif dtype == "bool":
        ok = isinstance(value, bool) or type(value).__name__ == "bool_"
    elif dtype == "str":
        ok = isinstance(value, str)
    if not ok:
        raise TypeError(
            f"Value for feature {feature.name!r} with type {dtype!r} must be "
            f"{_EXPECTED.get(dtype, 'a ' + dtype)}, got {value!r}."
        )


_EXPECTED = {
    "number": "a number",
    "int": "an integer",
    "float": "a number",
    "bool": "a boolean",
    "str": "a string",
}


def _plain(value: Any) -> Any:
    """JSON-storable Python value (numpy scalars → Python scalars)."""
    item = getattr(value, "item", None)
    if item is not None and not isinstance(value, str | bytes):
        try:
            return item()
        except (TypeError, ValueError):
            return value
    return value


class FeatureManager:
    """Features of an artifact or collection: ``artifact.features``.

    ``features[slot]`` gives the members of the feature set linked under
    ``slot``; ``add_feature_set`` links a set; ``add_values`` annotates with
    feature values; ``get_values`` reads them back.
    """

    def __init__(self, host: Any) -> None:
        self._host = host

    def __repr__(self) -> str:
        from lamin_sa.curate.describe import features_block

        lines = features_block(self._host)
        if not lines:
            return "no linked features"
        return "\n".join(["Features:", *lines])

    @property
    def feature_set_by_slot(self) -> dict[str, Any]:
        """Slot → linked FeatureSet, in the order they were linked."""
        from lamin_sa.db.session import read
        from lamin_sa.models.core import FeatureSet

        host = self._host
        if host.id is None:
            return {}
        link, host_col = _feature_set_link(host)
        rows = read(
            lambda s: s.execute(
                select(link.slot, FeatureSet)
                .join(link, link.featureset_id == FeatureSet.id)
                .where(host_col == host.id)
                .order_by(link.id)
            ).all()
        )
        out: dict[str, Any] = {}
        for slot, feature_set in rows:
            out.setdefault(slot, feature_set)
        return out

    def slots(self) -> list[str]:
        """The slots with a linked feature set."""
        return list(self.feature_set_by_slot)

    def __getitem__(self, slot: str) -> QuerySet:
        feature_set = self.feature_set_by_slot.get(slot)
        if feature_set is None:
            raise ValueError(
                f"No linked feature set for slot: {slot!r}. Only features that "
                "validate against a registry get linked."
            )
        return feature_set.members  # type: ignore[no-any-return]

    def add_feature_set(self, feature_set: Any, slot: str) -> None:
        """Link a feature set under ``slot`` (saving it first if needed).

        A slot holds one feature set: a set linked under ``slot`` before is
        unlinked (not deleted).

        Raises:
            NotSavedError: the artifact or collection is not saved.
        """
        from lamin_sa.db.session import write_transaction

        host = self._host
        if host.id is None:
            raise NotSavedError(
                "Please save the artifact or collection before adding a feature set!"
            )
        if feature_set.id is None:
            feature_set.save()
        link, host_col = _feature_set_link(host)
        with write_transaction() as session:
            session.execute(
                delete(link).where(
                    host_col == host.id,
                    link.slot == slot,
                    link.featureset_id != feature_set.id,
                )
            )
            existing = session.scalars(
                select(link.id).where(
                    host_col == host.id, link.featureset_id == feature_set.id
                )
            ).first()
            if existing is None:
                session.execute(
                    insert(link),
                    [
                        {
                            host_col.key: host.id,
                            "featureset_id": feature_set.id,
                            "slot": slot,
                        }
                    ],
                )
            else:
                session.execute(
                    update(link).where(link.id == existing).values(slot=slot)
                )
            _expire_host(session, host)

    def add_values(self, values: dict[str, Any], feature_field: Any = None) -> None:
        """Annotate with feature values: ``{"temperature": 27.2, "project": "A"}``.

        Keys name registered features. Categorical features (``cat...``) take
        label names (resolved in the dtype's registries, default ULabel), saved
        records or lists of those, linked as labels under the feature; other
        values are stored as FeatureValue rows (artifacts only). Features that
        are in no linked feature set join the ``external`` set.

        Args:
            values: Feature name → value.
            feature_field: The Feature field the keys match (default ``name``).

        Raises:
            ValidationError: a key is not a registered feature, or a label name
                does not exist.
            TypeError: a value does not fit the feature's dtype.
        """
        from lamin_sa.curate.validate import field_name, quote_list
        from lamin_sa.db.session import write_transaction
        from lamin_sa.models.core import (
            Artifact,
            Feature,
        )
        from lamin_sa.models.record import Record

        host = self._host
        _require_saved_host(host, "feature values")
        if not isinstance(values, dict):
            raise TypeError("Pass feature values as a dict: {feature name: value}.")
        key = field_name(Feature, feature_field, default="name")
        keys = list(values)
        stored: dict[Any, Any] = {}
        for feature in Feature.filter(**{f"{key}__in": keys}).order_by("id"):
            stored.setdefault(getattr(feature, key), feature)
        missing = [k for k in keys if k not in stored]
        if missing:
            raise ValidationError(
                f"These keys could not be validated: {quote_list(missing)}\n"
                f"Here is how to create a feature: "
                f"ln.Feature(name={missing[0]!r}, dtype='cat').save()"
            )
        labels: list[tuple[Any, list[Any]]] = []
        plain: list[tuple[Any, Any]] = []
        for name, value in values.items():
            feature = stored[name]
            if feature.dtype.startswith("cat"):
                items = value if isinstance(value, list | tuple) else [value]
                if not all(isinstance(v, str | Record) for v in items) or not items:
                    raise TypeError(
                        f"Value for feature {feature.name!r} with type "
                        f"{feature.dtype!r} must be a string or record."
                    )
                labels.append((feature, list(items)))
            else:
                _check_value(feature, value)
                plain.append((feature, _plain(value)))
        if plain and not isinstance(host, Artifact):
            raise TypeError(
                "Collections take categorical feature values only (labels); "
                f"{plain[0][0].name!r} has dtype {plain[0][0].dtype!r}."
            )
        resolved = [
            (feature, self._resolve_labels(feature, items)) for feature, items in labels
        ]
        # one new external set for all features (label adds then find them)
        plan = plan_external(host, [f for f, _ in plain] + [f for f, _ in resolved])
        with write_transaction() as session:
            if plain:
                self._store_values(session, plain)
            if plan is not None:
                apply_external(session, host, plan)
            _expire_host(session, host)
        for feature, records in resolved:
            LabelManager(host).add(records, feature=feature)

    add = add_values

    def _store_values(self, session: Any, plain: list[tuple[Any, Any]]) -> None:
        """Insert FeatureValue rows and links, skipping values linked already."""
        from lamin_sa.models.core import ArtifactFeatureValue, FeatureValue

        host = self._host
        feature_ids = list({f.id for f, _ in plain})
        have = session.execute(
            select(FeatureValue.feature_id, FeatureValue.value)
            .join(
                ArtifactFeatureValue,
                ArtifactFeatureValue.featurevalue_id == FeatureValue.id,
            )
            .where(
                ArtifactFeatureValue.artifact_id == host.id,
                FeatureValue.feature_id.in_(feature_ids),
            )
        ).all()
        stored_pairs = {(r[0], repr(r[1])) for r in have}
        new = [(f, v) for f, v in plain if (f.id, repr(v)) not in stored_pairs]
        if not new:
            return
        rows = [FeatureValue(feature_id=f.id, value=v) for f, v in new]
        session.add_all(rows)
        session.flush()
        session.execute(
            insert(ArtifactFeatureValue),
            [{"artifact_id": host.id, "featurevalue_id": fv.id} for fv in rows],
        )

    def _resolve_labels(self, feature: Any, items: list[Any]) -> list[Any]:
        from lamin_sa.models.core import ULabel

        records = [v for v in items if not isinstance(v, str)]
        unsaved = [r for r in records if r.id is None]
        if unsaved:
            raise ValidationError(
                f"{unsaved[0]!r} not validated. If it looks correct: record.save()"
            )
        strings = [v for v in items if isinstance(v, str)]
        if not strings:
            return records
        names = cat_registries(feature.dtype) or ["ULabel"]
        found: dict[str, Any] = {}
        for name in names:
            model = ULabel if name == "ULabel" else _registry_named(name)
            field = _name_field(model)
            qs = model.filter(**{f"{field}__in": strings})  # type: ignore[attr-defined]
            for record in qs:
                found.setdefault(getattr(record, field), record)
        missing = [s for s in dict.fromkeys(strings) if s not in found]
        if missing:
            where = " or ".join(f"ln.{n}" for n in names)
            if len(missing) == 1:
                raise ValidationError(f"Label {missing[0]!r} not found in {where}")
            from lamin_sa.curate.validate import quote_list

            raise ValidationError(f"Labels {quote_list(missing)} not found in {where}")
        return [found[v] if isinstance(v, str) else v for v in items]

    def get_values(self) -> dict[str, Any]:
        """Feature name → value (a list if several) of the values and labels.

        Labels linked without a feature are not included (see ``labels``).
        """
        from lamin_sa.db.session import read
        from lamin_sa.models.core import (
            Artifact,
            ArtifactFeatureValue,
            Feature,
            FeatureValue,
        )

        host = self._host
        if host.id is None:
            return {}
        collected: dict[str, list[Any]] = {}
        if isinstance(host, Artifact):
            rows = read(
                lambda s: s.execute(
                    select(Feature.name, FeatureValue.value)
                    .join(FeatureValue, FeatureValue.feature_id == Feature.id)
                    .join(
                        ArtifactFeatureValue,
                        ArtifactFeatureValue.featurevalue_id == FeatureValue.id,
                    )
                    .where(ArtifactFeatureValue.artifact_id == host.id)
                    .order_by(ArtifactFeatureValue.id)
                ).all()
            )
            for name, value in rows:
                collected.setdefault(name, []).append(value)
        for spec in label_links(type(host)).values():
            model = spec.registry
            field = getattr(model, _name_field(model))

            def query(session: Any, spec: LabelLink = spec, field: Any = field) -> Any:
                model = spec.registry
                return session.execute(
                    select(Feature.name, field)
                    .join(spec.link, spec.link.feature_id == Feature.id)
                    .join(model, spec.label_col == model.id)  # type: ignore[attr-defined]
                    .where(spec.host_col == host.id)
                    .order_by(spec.link.id)
                ).all()

            for name, value in read(query):
                collected.setdefault(name, []).append(value)
        return {k: v[0] if len(v) == 1 else v for k, v in collected.items()}
