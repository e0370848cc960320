"""``record.describe()``: the record, its provenance, features and labels as text.

Layout (as LaminDB 0.72 prints it)::

    Artifact(version='1', uid='…', suffix='.parquet', …)   # no FKs, no timestamps

    Provenance:
      📎 created_by: User(uid='…', handle='…')
      📎 storage: uid='…', root='…', type='local', instance_uid='…')
      📎 transform: Transform(version='1', uid='…', name='…', …)
      📎 run: Run(uid='…', started_at=… UTC, is_consecutive=True)
    Features:
      columns: FeatureSet(uid='…', n=4, registry='Feature')
        🔗 perturbation (4, cat[ULabel]): 'DMSO', 'IFNG'
        CD8A (int)
      var: FeatureSet(uid='…', n=3, dtype='int', registry='bionty.Gene')
        'CD8A', 'CD4', 'CD14'
    Labels:
      📎 ulabels (2, ULabel): 'DMSO', 'IFNG'

The storage line reproduces LaminDB's output verbatim (it lacks ``Storage(``), and
so does the count of a categorical feature (the size of its feature set, not the
number of labels).
Works on unsaved records: only what is set in memory is shown.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import RelationshipDirection

from lamin_sa.models.record import format_value

logger = logging.getLogger(__name__)

_PROVENANCE_ORDER = ("created_by", "storage", "transform", "run")
_HIDDEN = {"created_at", "updated_at", "is_latest"}
_LABEL_ACCESSORS = ("ulabels",)
_MAX_LABELS = 10
_MAX_MEMBERS = 20


def _plain_fields(record: Any) -> list[tuple[str, Any]]:
    """Non-FK, non-timestamp fields; ``version`` first (LaminDB's column order)."""
    fields = [
        (k, v)
        for k, v in record._repr_fields()
        if not k.endswith("_id") and k not in _HIDDEN
    ]
    fields.sort(key=lambda kv: kv[0] != "version")
    return fields


def _short(record: Any, limit: int = 6) -> str:
    body = ", ".join(f"{k}={format_value(v)}" for k, v in _plain_fields(record)[:limit])
    return f"{type(record).__name__}({body})"


def _header(record: Any) -> str:
    body = ", ".join(f"{k}={format_value(v)}" for k, v in _plain_fields(record))
    return f"{type(record).__name__}({body})"


def _loaded_to_one(record: Any, key: str) -> Any:
    """The related record if set in memory or loadable; never raises."""
    if key in record.__dict__:
        return record.__dict__[key]
    if sa_inspect(record).transient:
        return _pending_to_one(record, key)
    try:
        return getattr(record, key, None)
    except Exception:  # detached without session, ...
        return None


def _pending_to_one(record: Any, key: str) -> Any:
    """What an unsaved record will link to when saved (the seed shows it).

    Its foreign key if set; else the run's transform, and the connected user.
    """
    from lamin_sa.db import context, session

    relationship = sa_inspect(type(record)).relationships[key]
    columns = list(relationship.local_columns)
    value = record.__dict__.get(columns[0].key) if len(columns) == 1 else None
    if value is None and key == "transform":
        run = record.__dict__.get("run")
        value = getattr(run, "transform_id", None)
    if value is None and key == "created_by":
        ctx = context.current_or_none()
        value = ctx.user_id if ctx is not None else None
    if value is None:
        return None
    model = relationship.mapper.class_
    try:
        return session.read(lambda s: s.get(model, value))
    except Exception:  # no connection: show what is known only
        return None


def labels_block(record: Any) -> list[str]:
    """``  📎 ulabels (n, ULabel): 'a', 'b'`` per label accessor with labels."""
    if sa_inspect(record).transient:
        return []
    from lamin_sa.models.core import Artifact, Collection

    if isinstance(record, Artifact | Collection):
        return _host_labels(record)
    lines = []
    mapper = sa_inspect(type(record))
    for key in _LABEL_ACCESSORS:
        if key not in mapper.relationships:
            continue
        try:
            values = list(getattr(record, key))
        except Exception:
            continue
        if not values:
            continue
        names = [repr(getattr(v, "name", v)) for v in values[:_MAX_LABELS]]
        cls = type(values[0]).__name__
        lines.append(f"  📎 {key} ({len(values)}, {cls}): {', '.join(names)}")
    return lines


def _host_labels(record: Any) -> list[str]:
    """Labels of an artifact or collection: one query per label registry."""
    from sqlalchemy import select

    from lamin_sa.curate.managers import label_links
    from lamin_sa.db.session import read

    lines = []
    for spec in label_links(type(record)).values():
        model = spec.registry
        field = getattr(model, getattr(model, "_name_field", None) or "name")
        values = read(
            lambda s, spec=spec, field=field, model=model: list(
                s.scalars(
                    select(field)
                    .join(spec.link, spec.label_col == model.id)
                    .where(spec.host_col == record.id)
                    .order_by(model.id)
                ).all()
            )
        )
        values = list(dict.fromkeys(values))
        if not values:
            continue
        names = ", ".join(repr(v) for v in values[:_MAX_LABELS])
        more = ", ..." if len(values) > _MAX_LABELS else ""
        lines.append(
            f"  📎 {spec.accessor} ({len(values)}, {model.__name__}): {names}{more}"
        )
    return lines


def _feature_set_repr(feature_set: Any) -> str:
    body = ", ".join(
        f"{k}={format_value(v)}" for k, v in _plain_fields(feature_set) if k != "hash"
    )
    return f"FeatureSet({body})"


def features_block(record: Any) -> list[str]:
    """Per slot ``slot: FeatureSet(...)``, then its features (see module doc).

    A set of Features lists categorical features first as
    ``🔗 name (n, dtype): 'label', ...`` (``n`` is the size of the set, as LaminDB
    0.72 prints it), then ``name (dtype)``; sets of other registries list up to
    20 member names.
    """
    from lamin_sa.models.core import Artifact, Collection

    if sa_inspect(record).transient or not isinstance(record, Artifact | Collection):
        return []
    from sqlalchemy import select

    from lamin_sa.curate.managers import FeatureManager, label_links
    from lamin_sa.db.session import read
    from lamin_sa.models.core import Feature, featureset_feature

    by_slot = FeatureManager(record).feature_set_by_slot
    if not by_slot:
        return []
    ff = featureset_feature.c
    set_ids = [fs.id for fs in by_slot.values() if fs.registry == "Feature"]
    members: dict[int, list[Any]] = {}
    if set_ids:
        rows = read(
            lambda s: s.execute(
                select(ff.featureset_id, Feature)
                .join(Feature, Feature.id == ff.feature_id)
                .where(ff.featureset_id.in_(set_ids))
                .order_by(ff.id)
            ).all()
        )
        for set_id, feature in rows:
            members.setdefault(set_id, []).append(feature)
    cat_ids = [f.id for fs in members.values() for f in fs if f.dtype.startswith("cat")]
    labels: dict[int, list[Any]] = {}
    if cat_ids:
        for spec in label_links(type(record)).values():
            model = spec.registry
            field = getattr(model, getattr(model, "_name_field", None) or "name")
            rows = read(
                lambda s, spec=spec, field=field, model=model: s.execute(
                    select(spec.link.feature_id, field)
                    .join(spec.link, spec.label_col == model.id)
                    .where(
                        spec.host_col == record.id,
                        spec.link.feature_id.in_(cat_ids),
                    )
                    .order_by(model.id)
                ).all()
            )
            for feature_id, value in rows:
                labels.setdefault(feature_id, []).append(value)
    lines = []
    for slot, feature_set in by_slot.items():
        lines.append(f"  {slot}: {_feature_set_repr(feature_set)}")
        if feature_set.registry != "Feature":
            model_members = feature_set.members
            field = getattr(model_members.model, "_name_field", None) or "name"
            names = model_members.order_by("id").list(field)
            shown = ", ".join(repr(n) for n in names[:_MAX_MEMBERS])
            more = ", ..." if len(names) > _MAX_MEMBERS else ""
            lines.append(f"    {shown}{more}")
            continue
        features = members.get(feature_set.id, [])
        cats = [f for f in features if f.dtype.startswith("cat")]
        for feature in cats:
            values = list(dict.fromkeys(labels.get(feature.id, [])))
            if not values:
                lines.append(f"    {feature.name} ({feature.dtype})")
                continue
            shown = ", ".join(repr(v) for v in values[:_MAX_LABELS])
            more = ", ..." if len(values) > _MAX_LABELS else ""
            lines.append(
                f"    🔗 {feature.name} ({feature_set.n}, {feature.dtype}): "
                f"{shown}{more}"
            )
        for feature in features:
            if not feature.dtype.startswith("cat"):
                lines.append(f"    {feature.name} ({feature.dtype})")
    return lines


class Description(str):
    """The text of ``describe()``; shows as plain text in a REPL or notebook."""

    def __repr__(self) -> str:
        return str(self)


def describe(record: Any) -> Description:
    """Return the description of ``record`` (``print()`` it in scripts)."""
    lines = [_header(record)]
    mapper = sa_inspect(type(record))
    to_one = [
        r.key
        for r in mapper.relationships
        if r.direction is RelationshipDirection.MANYTOONE
    ]
    to_one.sort(key=lambda k: (_PROVENANCE_ORDER + (k,)).index(k))
    provenance = []
    for key in to_one:
        value = _loaded_to_one(record, key)
        if value is None:
            continue
        text = _short(value)
        if key == "storage":
            text = text[len(type(value).__name__) + 1 :]  # LaminDB's quirk
        provenance.append(f"  📎 {key}: {text}")
    if provenance:
        lines += ["", "Provenance:", *provenance]
    features = features_block(record)
    if features:
        lines += ["Features:", *features]
    labels = labels_block(record)
    if labels:
        lines += ["Labels:", *labels]
    return Description("\n".join(lines))
