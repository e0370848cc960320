"""``artifact.labels``: labels of an artifact or collection, by feature."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from lamin_sa.curate.managers import (
    LabelLink,
    apply_external,
    cat_registries,
    check_feature,
    expire_host,
    kind,
    label_links,
    name_field,
    plan_external,
    registry_named,
    require_saved_host,
    widen_dtype,
)
from lamin_sa.db.sql import insert_ignoring_duplicates
from lamin_sa.errors import NotSavedError, ValidationError

if TYPE_CHECKING:
    from lamin_sa.query.queryset import QuerySet

logger = logging.getLogger(__name__)


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
            model = registry_named(name)
            field = name_field(model)
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
        require_saved_host(host, "a label")
        if feature is not None:
            check_feature(feature)
        items = self._as_records(records, feature)
        links = label_links(type(host))
        groups: dict[type, dict[int, Any]] = {}
        for record in items:
            if not isinstance(record, Record):
                raise TypeError(f"Labels are records, got {type(record).__name__}.")
            if type(record) not in links:
                raise TypeError(
                    f"{type(record).__name__} records are not labels of "
                    f"{kind(host)}s; "
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
            expire_host(session, host)
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
            model = registry_named(name)
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
                names_out += qs.list(name_field(registry_named(name)))
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
        require_saved_host(host, "labels")
        if getattr(data, "id", None) is None:
            raise NotSavedError(f"Save the {kind(data)} to copy labels from.")
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
