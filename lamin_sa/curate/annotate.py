"""``ln.Annotate``: validate a dataset against registries, then save it annotated.

The flow (reference §5; the seed's "Validate & annotate" section)::

    annotate = ln.Annotate.from_df(
        df, columns=ln.Feature.name, categoricals={"perturbation": ln.ULabel.name}
    )
    annotate.validate()                  # False: logs what to run next
    annotate.add_new_from_columns()      # register the columns as Features
    annotate.add_new_from("perturbation")  # register the new labels
    annotate.validate()                  # True
    artifact = annotate.save_artifact(description="my RNA-seq")

Construction registers the categorical columns as Features (dtype ``cat``).
``validate`` checks each categorical column (and, for AnnData, the var index)
with one ``inspect`` per column. ``save_artifact`` saves the data as an
artifact, links the validated feature sets per slot (``columns`` for a
DataFrame; ``var`` and ``obs`` for AnnData) and links the labels of every
categorical column under its feature.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lamin_sa.config import SUCCESS
from lamin_sa.errors import ValidationError

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger(__name__)

_INDENT = "      → "


def _field(field: Any, what: str) -> tuple[type, str]:
    """``(registry, column key)`` of a registry attribute such as ``ULabel.name``."""
    from lamin_sa.curate.validate import field_name
    from lamin_sa.models.record import Record

    model = getattr(field, "class_", None)
    key = getattr(field, "key", None)
    if not (isinstance(model, type) and issubclass(model, Record)) or not isinstance(
        key, str
    ):
        raise TypeError(
            f"{what} must be a registry field such as ln.ULabel.name, got {field!r}."
        )
    return model, field_name(model, key)


def _label(model: type, key: str) -> str:
    return f"{model.__name__}.{key}"


def plural_terms(n: int) -> str:
    return f"{n} term{'' if n == 1 else 's'} {'is' if n == 1 else 'are'}"


def _records_word(n: int) -> str:
    return f"{n} record{'' if n == 1 else 's'}"


class _Target:
    """One thing to validate: a categorical column or the var index."""

    def __init__(
        self, key: str, field: Any, values: Any, organism: str | None, hint: str
    ) -> None:
        self.key = key
        self.model, self.field = _field(field, f"The field of {key!r}")
        self.values = values
        self.organism = organism
        #: the method that saves the non-validated values (for messages).
        self.hint = hint

    @property
    def scope(self) -> Any:
        """The registry, or its records of ``organism`` if it has that field."""
        from sqlalchemy import inspect as sa_inspect

        if (
            self.organism is not None
            and "organism" in sa_inspect(self.model).relationships
        ):
            return self.model.filter(organism__name=self.organism)  # type: ignore[attr-defined]
        return self.model

    def distinct_values(self) -> list[Any]:
        from lamin_sa.curate.validate import to_list, unique

        return unique(to_list(self.values)[0])

    def non_validated(self) -> list[Any]:
        """The distinct values not stored in the field (one query)."""
        from lamin_sa.curate.validate import as_queryset, matching_values

        values = self.distinct_values()
        matched = matching_values(as_queryset(self.scope), self.field, values)
        return [v for v in values if v not in matched]

    def validate(self) -> bool:
        """Log the outcome for this target and return whether all validate."""
        from lamin_sa.curate.validate import quote_list

        result = self.scope.inspect(self.values, self.field, mute=True)
        registry = _label(self.model, self.field)
        if not result.non_validated:
            logger.log(SUCCESS, "%s is validated against %s", self.key, registry)
            return True
        logger.info("mapping %s on %s", self.key, registry)
        lines = [
            f"{plural_terms(len(result.non_validated))} not validated: "
            f"{quote_list(result.non_validated)}"
        ]
        mapper = result.synonyms_mapper
        if mapper:
            pairs = ", ".join(f"{k!r} → {v!r}" for k, v in list(mapper.items())[:20])
            lines.append(
                f"{_INDENT}{len(mapper)} of them match stored values by synonym or "
                f"case: {pairs}; standardize the data with "
                f"{self.model.__name__}.standardize(values, field={self.field!r})"
            )
        lines.append(f"{_INDENT}save terms via {self.hint}")
        logger.warning("\n".join(lines))
        return False

    def labels(self) -> list[Any]:
        """The stored records of the values (for linking)."""
        found = self.scope.from_values(self.values, self.field, mute=True)
        return [r for r in found if r.is_saved]


def _save_new(model: type, key: str, values: list[Any], kwargs: dict[str, Any]) -> list:
    from lamin_sa.models.save import save_records as save

    records = [model(**{key: v}, **kwargs) for v in values]
    if records:
        save(records)
    return records


class DataFrameAnnotator:
    """Validate the columns and categorical values of a DataFrame; save it.

    Create it with :meth:`Annotate.from_df`.
    """

    def __init__(
        self,
        df: pd.DataFrame,
        columns: Any = None,
        categoricals: dict[str, Any] | None = None,
        organism: str | None = None,
    ) -> None:
        from lamin_sa.models.core import Feature

        self._df = df
        self._columns_field = Feature.name if columns is None else columns
        self._columns_model, self._columns_key = _field(self._columns_field, "columns")
        self._categoricals = dict(categoricals or {})
        self._organism = organism
        self._what = "columns"
        self._validated = False
        missing = [k for k in self._categoricals if k not in df.columns]
        if missing:
            raise ValueError(f"Columns {missing} are not found in the data object!")
        self._targets = {
            key: _Target(key, field, df[key], organism, f".add_new_from({key!r})")
            for key, field in self._categoricals.items()
        }
        self._save_columns()

    def __repr__(self) -> str:
        data = getattr(self, "_adata", None)
        if data is not None:
            shape = f"{data.n_obs} observations × {data.n_vars} variables"
        else:
            shape = f"{len(self._df)} rows × {len(self._df.columns)} columns"
        state = "validated" if self._validated else "not validated (run .validate())"
        lines = [f"{type(self).__name__}: {shape}, {state}"]
        mapped = {self._what: (self._columns_model, self._columns_key)}
        for key, target in self._all_targets().items():
            mapped[key] = (target.model, target.field)
        lines += [f"  {k} → {_label(m, f)}" for k, (m, f) in mapped.items()]
        if self._organism:
            lines.append(f"  organism: {self._organism}")
        return "\n".join(lines)

    # ---- columns -------------------------------------------------------------

    def _column_names(self) -> list[str]:
        return [str(c) for c in self._df.columns]

    def _non_validated_columns(self) -> list[str]:
        from lamin_sa.curate.validate import matching_values
        from lamin_sa.query.queryset import QuerySet

        names = self._column_names()
        matched = matching_values(
            QuerySet(self._columns_model), self._columns_key, names
        )
        return [c for c in names if c not in matched]

    def _save_columns(self) -> None:
        """Register categorical columns as Features; report the other columns."""
        from lamin_sa.curate.validate import quote_list
        from lamin_sa.models.core import Feature

        missing = self._non_validated_columns()
        registry = _label(self._columns_model, self._columns_key)
        if self._columns_model is Feature:
            new = [c for c in missing if c in self._categoricals]
            if new:
                _save_new(Feature, self._columns_key, new, {"dtype": "cat"})
                logger.log(
                    SUCCESS,
                    "added %s with %s for %s: %s",
                    _records_word(len(new)),
                    registry,
                    self._what,
                    quote_list(new),
                )
            missing = [c for c in missing if c not in new]
        if missing:
            logger.warning(
                "%d non-validated categories are not saved in %s: %s!\n"
                "%sto lookup categories, use lookup().%s\n"
                "%sto save, run add_new_from_%s",
                len(missing),
                registry,
                missing,
                _INDENT,
                self._what,
                _INDENT,
                self._what,
            )

    def add_new_from_columns(self, **kwargs: Any) -> None:
        """Register the columns that are not yet in the columns registry.

        Features get their dtype from the data (``Feature.from_df``); other
        registries get records with the column name in the columns field.

        Args:
            **kwargs: More fields of the new records.
        """
        from lamin_sa.curate.validate import quote_list
        from lamin_sa.models.core import Feature
        from lamin_sa.models.save import save_records as save

        missing = self._non_validated_columns()
        if not missing:
            logger.log(SUCCESS, "all %s are validated", self._what)
            return
        if self._columns_model is Feature:
            by_name = {str(c): c for c in self._df.columns}
            records = Feature.from_df(self._df[[by_name[c] for c in missing]])
            for record in records:
                for k, v in kwargs.items():
                    setattr(record, k, v)
            save(records)
        else:
            _save_new(self._columns_model, self._columns_key, missing, kwargs)
        logger.log(
            SUCCESS,
            "added %s with %s for %s: %s",
            _records_word(len(missing)),
            _label(self._columns_model, self._columns_key),
            self._what,
            quote_list(missing),
        )

    # ---- validation ----------------------------------------------------------

    @property
    def fields(self) -> dict[str, Any]:
        """Categorical key → the registry field it is validated against."""
        return dict(self._categoricals)

    @property
    def non_validated(self) -> dict[str, list[Any]]:
        """Key → distinct values not (yet) in their registry (empty if none)."""
        out = {}
        for key, target in self._all_targets().items():
            values = target.non_validated()
            if values:
                out[key] = values
        return out

    def _all_targets(self) -> dict[str, _Target]:
        return dict(self._targets)

    def validate(self) -> bool:
        """Validate every categorical column; log what validated and what's next.

        Returns:
            True if all values of all categorical columns are stored in their
            registries.
        """
        targets = self._all_targets()
        for key, target in targets.items():
            # as LaminDB does: terms a public source knows are saved first, so
            # only terms found nowhere are left to add by hand
            if getattr(target.model, "from_public", None) is not None:
                self._add_from_public(key, target, report_left=False)
        results = [target.validate() for target in targets.values()]
        self._validated = all(results)
        return self._validated

    def _keys(self, key: str) -> list[str]:
        targets = self._all_targets()
        if key == "all":
            return list(targets)
        if key not in targets:
            raise ValueError(
                f"{key!r} is not validated by this annotator; keys: "
                f"{', '.join(repr(k) for k in targets)} or 'all'."
            )
        return [key]

    def _new_kwargs(self, target: _Target, kwargs: dict[str, Any]) -> dict[str, Any]:
        from sqlalchemy import inspect as sa_inspect

        from lamin_sa.models.core import Feature

        if target.model is Feature and "dtype" not in kwargs:
            return {**kwargs, "dtype": "cat"}
        if (
            target.organism is not None
            and "organism" not in kwargs
            and "organism" in sa_inspect(target.model).relationships
        ):  # new genes of the annotator's organism
            return {**kwargs, "organism": target.organism}
        return kwargs

    def add_new_from(self, key: str, **kwargs: Any) -> None:
        """Create records for the non-validated values of ``key`` (or ``"all"``).

        New ULabels of a column also become children of the label
        ``is_<key>`` (created if missing).

        Args:
            key: A categorical column (or ``"all"``).
            **kwargs: More fields of the new records.
        """
        from lamin_sa.curate.validate import quote_list
        from lamin_sa.models.core import ULabel

        for k in self._keys(key):
            target = self._all_targets()[k]
            missing = target.non_validated()
            if not missing:
                logger.info("%s is validated: nothing to add", k)
                continue
            records = _save_new(
                target.model, target.field, missing, self._new_kwargs(target, kwargs)
            )
            logger.log(
                SUCCESS,
                "added %s with %s for %s: %s",
                _records_word(len(records)),
                _label(target.model, target.field),
                k,
                quote_list(missing),
            )
            if target.model is ULabel and target.field == "name":
                self._add_parent(k, records)
        self._validated = False

    @staticmethod
    def _add_parent(key: str, records: list[Any]) -> None:
        from lamin_sa.models.core import ULabel

        name = f"is_{key}"
        parent = ULabel.filter(name=name).one_or_none()
        if parent is None:
            parent = ULabel(name=name).save()
        parent.children.add(*records)

    def add_validated_from(self, key: str = "all") -> None:
        """Save records the registry can create for non-validated values.

        Registries backed by a public ontology return new records from
        ``from_values`` for terms they find there; those are saved. Core
        registries (ULabel, Feature) have no such source: nothing is saved and
        the remaining terms are reported (use :meth:`add_new_from`).

        Args:
            key: A categorical column (or ``"all"``).
        """
        for k in self._keys(key):
            self._add_from_public(k, self._all_targets()[k], report_left=True)
        self._validated = False

    def _add_from_public(self, k: str, target: _Target, *, report_left: bool) -> None:
        """Save the records ``target``'s registry finds for its missing values."""
        from lamin_sa.curate.validate import quote_list
        from lamin_sa.models.save import save_records as save

        missing = target.non_validated()
        if not missing:
            return
        model = target.model
        if getattr(model, "from_public", None) is not None:
            # a registry backed by a public source (bionty): its from_values
            # returns unsaved records for the terms found there
            extra = {"organism": target.organism} if target.organism else {}
            candidates = model.from_values(missing, target.field, mute=True, **extra)
        else:
            candidates = target.scope.from_values(missing, target.field, mute=True)
        new = [r for r in candidates if not r.is_saved]
        if new:
            save(new)
            logger.log(
                SUCCESS,
                "added %s from public with %s for %s: %s",
                _records_word(len(new)),
                _label(target.model, target.field),
                k,
                quote_list(getattr(r, target.field) for r in new),
            )
        left = sorted(set(missing) - {getattr(r, target.field) for r in new})
        if left and report_left:
            logger.warning(
                "%d terms of %s are not found in any source: %s\n%ssave terms via %s",
                len(left),
                k,
                quote_list(left),
                _INDENT,
                target.hint,
            )

    def lookup(self) -> AnnotateLookup:
        """Lookups of the registries: ``.lookup().columns``, ``.lookup().<key>``."""
        fields = {
            self._what: (self._columns_model, self._columns_key),
            **{k: (t.scope, t.field) for k, t in self._all_targets().items()},
        }
        return AnnotateLookup(fields)

    # ---- saving --------------------------------------------------------------

    def _check_validated(self) -> None:
        if self._validated:
            return
        missing = self.non_validated
        if not missing:
            self._validated = True
            return
        from lamin_sa.curate.validate import quote_list

        parts = [f"{k}: {quote_list(v)}" for k, v in missing.items()]
        fixes = ", ".join(self._all_targets()[k].hint for k in missing)
        raise ValidationError(
            f"Data is not validated; non-validated values: {'; '.join(parts)}. "
            f"Register them via {fixes} (or a standardized dataset), then run "
            ".validate()."
        )

    def _make_artifact(self, description: str | None, kwargs: dict[str, Any]) -> Any:
        from lamin_sa.models.core import Artifact

        return Artifact.from_df(self._df, description=description, **kwargs)

    def save_artifact(self, description: str | None = None, **kwargs: Any) -> Any:
        """Save the data as an artifact with its feature sets and labels.

        Args:
            description: The artifact's description.
            **kwargs: More Artifact arguments (``key``, ``version``, ``run``...).

        Returns:
            The saved Artifact (a stored one if the same data was saved before).

        Raises:
            ValidationError: some categorical values are not validated (named,
                with the call that registers them).
        """
        self._check_validated()
        artifact = self._make_artifact(description, kwargs)
        artifact.save()
        self._link(artifact)
        return artifact

    def _feature_sets(self) -> dict[str, Any]:
        from lamin_sa.models.core import FeatureSet

        fs = FeatureSet.from_values(
            self._column_names(),
            self._columns_field,
            mute=True,
            raise_validation_error=False,
        )
        return {} if fs is None else {self._what: fs}

    def _link(self, artifact: Any) -> None:
        from lamin_sa.models.core import Feature

        sets = self._feature_sets()
        for slot, feature_set in sets.items():
            artifact.features.add_feature_set(feature_set, slot)
            logger.log(SUCCESS, "    linked: %r", feature_set)
        if sets:
            word = "set for slot" if len(sets) == 1 else "sets for slots"
            logger.log(
                SUCCESS,
                "saved %d feature %s: %s",
                len(sets),
                word,
                ",".join(repr(s) for s in sets),
            )
        targets = self._all_targets()
        keys = [k for k in self._categoricals if k in targets]
        features: dict[str, Any] = {}
        if keys:
            for feature in Feature.filter(name__in=keys).order_by("id"):
                features.setdefault(feature.name, feature)
        for key in keys:
            records = targets[key].labels()
            if records:
                artifact.labels.add(records, feature=features.get(key))


class AnnDataAnnotator(DataFrameAnnotator):
    """Validate the var index and categorical obs columns of an AnnData; save it.

    Create it with :meth:`Annotate.from_anndata`.
    """

    def __init__(
        self,
        data: Any,
        var_index: Any,
        categoricals: dict[str, Any] | None = None,
        obs_columns: Any = None,
        organism: str | None = None,
    ) -> None:
        self._path: Path | None = None
        if isinstance(data, str | Path):
            import anndata as ad

            self._path = Path(data)
            data = ad.read_h5ad(self._path, backed="r")
        if type(data).__name__ != "AnnData":
            raise TypeError(
                f"data must be an AnnData object or a path to one, got "
                f"{type(data).__name__}."
            )
        self._adata = data
        self._var_field = var_index
        self._var_target = _Target(
            "var_index",
            var_index,
            list(map(str, data.var.index)),
            organism,
            ".add_new_from_var_index()",
        )
        super().__init__(
            data.obs,
            columns=obs_columns,
            categoricals=categoricals,
            organism=organism,
        )

    def _all_targets(self) -> dict[str, _Target]:
        return {"var_index": self._var_target, **self._targets}

    def _x_dtype(self) -> str:
        import numpy as np

        x = self._adata.X
        kind = np.dtype(getattr(x, "dtype", "float")).kind if x is not None else "f"
        return {"i": "int", "u": "int", "f": "float", "b": "bool"}.get(kind, "number")

    def _new_kwargs(self, target: _Target, kwargs: dict[str, Any]) -> dict[str, Any]:
        from lamin_sa.models.core import Feature

        if target is self._var_target and target.model is Feature:
            if "dtype" not in kwargs:
                return {**kwargs, "dtype": self._x_dtype()}
            return kwargs
        return super()._new_kwargs(target, kwargs)

    def add_new_from_var_index(self, **kwargs: Any) -> None:
        """Create records for the var names not yet in the var index registry.

        New Features get the dtype of X.

        Args:
            **kwargs: More fields of the new records.
        """
        self.add_new_from("var_index", **kwargs)

    def _make_artifact(self, description: str | None, kwargs: dict[str, Any]) -> Any:
        from lamin_sa.models.core import Artifact

        if self._path is not None:
            artifact = Artifact(self._path, description=description, **kwargs)
            if artifact.accessor is None and artifact.id is None:
                artifact.accessor = "AnnData"
        else:
            artifact = Artifact.from_anndata(
                self._adata, description=description, **kwargs
            )
        artifact.n_observations = int(self._adata.n_obs)
        return artifact

    def _feature_sets(self) -> dict[str, Any]:
        from lamin_sa.models.core import FeatureSet

        out: dict[str, Any] = {}
        var = FeatureSet.from_values(
            list(map(str, self._adata.var.index)),
            self._var_field,
            type=self._x_dtype(),
            mute=True,
            raise_validation_error=False,
        )
        if var is not None:
            out["var"] = var
        obs = FeatureSet.from_values(
            self._column_names(),
            self._columns_field,
            mute=True,
            raise_validation_error=False,
        )
        if obs is not None:
            out["obs"] = obs
        return out


class AnnotateLookup:
    """``annotate.lookup().<key>``: the registry lookup of a validated key."""

    def __init__(self, fields: dict[str, tuple[Any, str]]) -> None:
        self._fields = fields

    def _lookup(self, key: str) -> Any:
        from lamin_sa.curate.validate import lookup

        if key not in self._fields:
            raise AttributeError(
                f"No lookup for {key!r}; keys: {', '.join(self._fields)}."
            )
        scope, field = self._fields[key]
        return lookup(scope, field)

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        return self._lookup(key)

    def __getitem__(self, key: str) -> Any:
        return self._lookup(key)

    def __dir__(self) -> list[str]:
        return list(self._fields)

    def __repr__(self) -> str:
        lines = ["Lookup objects from the registries (annotate.lookup().<key>):"]
        for key, (scope, field) in self._fields.items():
            model = getattr(scope, "model", scope)
            lines.append(f"  .{key} → {model.__name__}.{field}")
        return "\n".join(lines)


class Annotate:
    """Validate and annotate datasets: ``ln.Annotate.from_df(...)``."""

    @classmethod
    def from_df(
        cls,
        df: pd.DataFrame,
        categoricals: dict[str, Any] | None = None,
        columns: Any = None,
        organism: str | None = None,
        verbosity: str | None = None,
    ) -> DataFrameAnnotator:
        """An annotation flow for a DataFrame.

        Args:
            df: The data.
            categoricals: Column → registry field its values map onto, e.g.
                ``{"perturbation": ln.ULabel.name}``.
            columns: The field the column names map onto (default
                ``ln.Feature.name``).
            organism: Restrict registries with an ``organism`` to this one.
            verbosity: Set ``ln.settings.verbosity`` (e.g. ``"info"``).

        Raises:
            ValueError: a categorical is not a column of ``df``.

        Example:
            >>> annotate = ln.Annotate.from_df(
            ...     df,
            ...     columns=ln.Feature.name,
            ...     categoricals={"perturbation": ln.ULabel.name},
            ... )
            >>> annotate.validate()  # False: logs what to add
            >>> annotate.add_new_from_columns()
            >>> annotate.add_new_from("perturbation")
            >>> artifact = annotate.save_artifact(description="my RNA-seq")
        """
        _set_verbosity(verbosity)
        return DataFrameAnnotator(
            df, columns=columns, categoricals=categoricals, organism=organism
        )

    @classmethod
    def from_anndata(
        cls,
        data: Any,
        var_index: Any,
        categoricals: dict[str, Any] | None = None,
        obs_columns: Any = None,
        organism: str | None = None,
        verbosity: str | None = None,
    ) -> AnnDataAnnotator:
        """An annotation flow for an AnnData object (or a path to ``.h5ad``).

        Args:
            data: The AnnData object, or a path (opened backed).
            var_index: The field the var names map onto, e.g. ``ln.Feature.name``.
            categoricals: obs column → registry field its values map onto.
            obs_columns: The field obs column names map onto (default
                ``ln.Feature.name``).
            organism: Restrict registries with an ``organism`` to this one.
            verbosity: Set ``ln.settings.verbosity`` (e.g. ``"info"``).

        Raises:
            ValueError: a categorical is not an obs column.
            TypeError: ``data`` is not AnnData or ``var_index`` not a field.

        Example:
            >>> annotate = ln.Annotate.from_anndata(
            ...     adata,
            ...     var_index=bt.Gene.symbol,
            ...     categoricals={"perturbation": ln.ULabel.name},
            ...     organism="human",
            ... )
            >>> annotate.validate()
        """
        _set_verbosity(verbosity)
        return AnnDataAnnotator(
            data,
            var_index=var_index,
            categoricals=categoricals,
            obs_columns=obs_columns,
            organism=organism,
        )


def _set_verbosity(verbosity: str | None) -> None:
    if verbosity is not None:
        from lamin_sa.config import switches as settings

        settings.verbosity = verbosity


__all__ = ["Annotate", "AnnDataAnnotator", "AnnotateLookup", "DataFrameAnnotator"]
