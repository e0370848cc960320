"""``artifact.features``: feature sets by slot and feature values."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select, update

from lamin_sa.curate.labels import LabelManager
from lamin_sa.curate.managers import (
    LabelLink,
    apply_external,
    cat_registries,
    expire_host,
    feature_set_link,
    label_links,
    name_field,
    plan_external,
    registry_named,
    require_saved_host,
)
from lamin_sa.errors import NotSavedError, ValidationError

if TYPE_CHECKING:
    from lamin_sa.query.queryset import QuerySet

logger = logging.getLogger(__name__)


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
        link, host_col = feature_set_link(host)
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
        link, host_col = feature_set_link(host)
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
            expire_host(session, host)

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
        require_saved_host(host, "feature values")
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
            expire_host(session, host)
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
            model = ULabel if name == "ULabel" else registry_named(name)
            field = name_field(model)
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
            field = getattr(model, name_field(model))

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
