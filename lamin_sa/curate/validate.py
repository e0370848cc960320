"""Validate, inspect and standardize whole columns of values against a registry.

Every function takes a *scope*: a registry class (all its records) or a
:class:`~lamin_sa.query.queryset.QuerySet` (its rows only). Work is done per
column, never per value: a call issues a small, fixed number of queries whatever
the number of values. Whole columns and row counts are kept between calls only while
the database says nothing changed (:mod:`lamin_sa.db.readcache`), so writes are always
seen.

Synonyms are stored ``|``-joined in the registry's ``synonyms`` column.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from itertools import compress, filterfalse
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, func, or_, type_coerce

from lamin_sa.config import SUCCESS
from lamin_sa.curate.values import (  # noqa: F401  (re-exported: they lived here)
    COLUMN_PER_VALUE,
    FEW_VALUES,
    SYNONYM_SEP,
    as_queryset,
    column_of,
    column_set,
    column_values,
    count_empty,
    dialect_name,
    distinct,
    execute,
    field_name,
    has_column,
    is_empty,
    plural_terms,
    quote_list,
    row_count,
    scoped_select,
    split_synonyms,
    to_list,
    unique,
    unique_counting_empty,
)
from lamin_sa.db.sql import in_values
from lamin_sa.errors import ValidationError

if TYPE_CHECKING:
    import numpy as np

    from lamin_sa.query.queryset import QuerySet

logger = logging.getLogger(__name__)


# ---- validate -------------------------------------------------------------------


def matching_values(
    qs: QuerySet, name: str, values: Collection[Any], *, n_rows: int | None = None
) -> set[Any]:
    """The distinct ``values`` stored in column ``name`` of ``qs`` (exact match).

    Few values: one ``SELECT DISTINCT ... WHERE col IN (...)`` (one bound
    parameter however long the list). Many values: the whole column is read in
    one query when it is not much larger than the values (a ``COUNT`` decides),
    which is faster than shipping the values to the database. ``n_rows``: the
    scope's row count if the caller has it.
    """
    if not values:
        return set()
    col = column_of(qs, name)
    if len(values) > FEW_VALUES:
        if n_rows is None:
            n_rows = row_count(qs)
        if n_rows <= COLUMN_PER_VALUE * len(values):
            wanted = values if isinstance(values, set) else set(values)
            return wanted.intersection(column_set(qs, col))
    dialect = dialect_name()
    stmt = (
        scoped_select(qs, col).where(in_values(col, list(values), dialect)).distinct()
    )
    stored = set(map(itemgetter(0), execute(stmt)))
    return set(filter(stored.__contains__, values))


def _many_distinct(values: list[Any]) -> bool:
    """Whether the first values alone hold more than :data:`FEW_VALUES` distinct.

    Then so does the whole list, and no IN query would be used for it.
    """
    return len(set(values[: 2 * FEW_VALUES])) > FEW_VALUES


def _small_column(
    qs: QuerySet, name: str, values: list[Any]
) -> tuple[frozenset[Any] | None, int | None]:
    """The distinct non-empty stored values, if the scope is no longer than the values.

    Returns:
        ``(values, None)``, or ``(None, row count)`` when the scope is longer
        (``(None, None)``: maybe few distinct values, nothing counted).
    """
    if len(values) <= FEW_VALUES or not _many_distinct(values):
        return None, None  # maybe few distinct values: one IN query serves them
    n_rows = row_count(qs)
    if n_rows > len(values):
        return None, n_rows
    return column_set(qs, column_of(qs, name)), None


def _first(items: list[Any], wanted: set[Any], limit: int = 21) -> list[Any]:
    """Up to ``limit`` distinct items in ``wanted``, in input order (for logs)."""
    out: dict[Any, None] = {}
    for v in items:
        if v in wanted:
            out[v] = None
            if len(out) >= limit:
                break
    return list(out)


def _flags(values: list[Any], matched: set[Any] | frozenset[Any]) -> np.ndarray:
    import numpy as np

    if not matched:
        return np.zeros(len(values), dtype=bool)
    # one byte per value straight from the set lookups (no list of bools to
    # convert); a bytearray keeps the array writable
    flags = bytearray(map(matched.__contains__, values))
    return np.frombuffer(flags, dtype=bool)


def validate(
    scope: Any, values: Any, field: Any = None, *, mute: bool = False
) -> np.ndarray | bool:
    """Whether each value is stored in ``field`` (case-sensitive, exact).

    Args:
        scope: A registry class or a QuerySet.
        values: A column of values (list, array, Series, ...) or a single string.
        field: The field to validate against (default: the name field).
        mute: Do not log the summary.

    Returns:
        A numpy bool array in input order; a single bool for a single string.
    """
    qs = as_queryset(scope)
    name = field_name(qs.model, field)
    items, single = to_list(values)
    try:
        stored, n_rows = _small_column(qs, name, items)
        if stored is not None:
            # the column is no longer than the values: test every value against
            # it directly (no set of the values is built)
            flags = _flags(items, stored)
            if mute:
                return bool(flags[0]) if single else flags
            distinct_values = distinct(items)
            matched = distinct_values & stored
        else:
            distinct_values = distinct(items)
            matched = matching_values(qs, name, distinct_values, n_rows=n_rows)
            flags = _flags(items, matched)
    except TypeError as e:  # unhashable values
        raise ValidationError(f"Values to validate must be hashable: {e}") from e
    if not mute:
        missing = distinct_values - matched
        if missing:
            logger.info(
                "%s not validated against %s.%s: %s",
                plural_terms(len(missing)),
                qs.model.__name__,
                name,
                quote_list(_first(items, missing)),
            )
    if single:
        return bool(flags[0])
    return flags


# ---- the in-memory index for standardize ----------------------------------------


class _Lookup:
    """Key → target; keys shared by records with other targets keep those too."""

    __slots__ = ("first", "more")

    def __init__(self, keys: list[Any], targets: list[Any]) -> None:
        # built in C: reversed, so that the first (lowest id) target wins
        self.first: dict[Any, Any] = dict(
            zip(reversed(keys), reversed(targets), strict=True)
        )
        self.more: dict[Any, list[Any]] = {}
        if len(self.first) < len(keys):
            from collections import Counter

            shared = {k for k, n in Counter(keys).items() if n > 1}
            grouped: dict[Any, list[Any]] = {}
            for key, target in zip(keys, targets, strict=True):
                if key in shared:
                    grouped.setdefault(key, []).append(target)
            for key, group in grouped.items():
                distinct_targets = list(dict.fromkeys(group))
                if len(distinct_targets) > 1:
                    self.more[key] = distinct_targets[1:]

    def pick(self, key: Any, keep: str | bool) -> Any:
        """The target of ``key``; ``keep`` decides between several."""
        extra = self.more.get(key) if self.more else None
        if not extra:
            return self.first[key]
        if keep == "first":
            return self.first[key]
        if keep == "last":
            return extra[-1]
        return [self.first[key], *extra]


class SynonymIndex:
    """Field values and synonyms of a registry's rows, for standardization.

    Built from rows ``(id, field value, target[, synonyms])`` ordered by id, so
    that "first" means the lowest id (``target_at``/``synonyms_at`` give other
    positions).
    """

    def __init__(
        self,
        rows: list[Any],
        *,
        has_synonyms: bool,
        case_sensitive: bool,
        target_at: int = 2,
        synonyms_at: int = 3,
    ) -> None:
        self.case_sensitive = case_sensitive
        rows = [r for r in rows if r[1] is not None]
        values = [r[1] for r in rows]
        targets = [r[target_at] for r in rows]
        self.exact = _Lookup(values, targets)
        syn_keys: list[str] = []
        syn_targets: list[Any] = []
        if has_synonyms:
            sep = SYNONYM_SEP
            for r in rows:
                text = r[synonyms_at]
                if text:
                    for syn in text.split(sep):
                        if syn:
                            syn_keys.append(syn)
                            syn_targets.append(r[target_at])
        self.synonym = _Lookup(syn_keys, syn_targets)
        if case_sensitive:
            self.lower = self.synonym_lower = _Lookup([], [])
            return
        strings = [
            (v.lower(), t)
            for v, t in zip(values, targets, strict=True)
            if isinstance(v, str)
        ]
        self.lower = _Lookup([k for k, _ in strings], [t for _, t in strings])
        self.synonym_lower = _Lookup([k.lower() for k in syn_keys], syn_targets)

    @classmethod
    def case_hints(cls, values: list[Any]) -> SynonymIndex:
        """The case-insensitive matches of a field without synonyms.

        For values known not to be stored (inspect's non-validated ones): no
        exact or synonym lookups, the field's values are their own targets.

        Args:
            values: The field's values, in id order where several differ only
                by case (the first is the one a hint names).

        Example:
            >>> SynonymIndex.case_hints(["T cell", "B cell"]).match("t CELL")
        """
        index = cls.__new__(cls)
        index.case_sensitive = False
        index.exact = index.synonym = index.synonym_lower = _Lookup([], [])
        strings = [v for v in values if isinstance(v, str)]
        index.lower = _Lookup(list(map(str.lower, strings)), strings)
        return index

    def match(self, value: Any) -> tuple[_Lookup | None, Any, str]:
        """Where a value matches: ``(lookup, key, kind)``.

        ``kind`` is ``"exact"``, ``"synonym"`` or ``"case"``; the result is
        ``(None, None, "")`` if the value matches nowhere.
        """
        if value in self.exact.first:
            return self.exact, value, "exact"
        if not isinstance(value, str):
            return None, None, ""
        if value in self.synonym.first:
            return self.synonym, value, "synonym"
        if not self.case_sensitive:
            low = value.lower()
            if low in self.lower.first:
                return self.lower, low, "case"
            if low in self.synonym_lower.first:
                return self.synonym_lower, low, "synonym"
        return None, None, ""


def _build_index(
    qs: QuerySet,
    name: str,
    return_name: str,
    synonyms_field: str | None,
    case_sensitive: bool,
) -> SynonymIndex:
    has_synonyms = has_column(qs, synonyms_field)
    field_col = column_of(qs, name)
    cols = [qs.info.pk, field_col]
    if return_name != name:
        cols.append(column_of(qs, return_name))
    if has_synonyms:
        cols.append(column_of(qs, synonyms_field))  # type: ignore[arg-type]
    rows = execute(scoped_select(qs, *cols).order_by(qs.info.pk))
    if return_name == name:  # rows are (id, value[, synonyms]): target = value
        return SynonymIndex(
            rows,
            has_synonyms=has_synonyms,
            case_sensitive=case_sensitive,
            target_at=1,
            synonyms_at=2,
        )
    return SynonymIndex(rows, has_synonyms=has_synonyms, case_sensitive=case_sensitive)


def _whole_index(
    qs: QuerySet, name: str, synonyms_field: str | None, n_values: int
) -> tuple[list[Any], Callable[[], SynonymIndex]] | None:
    """The field's stored values over the whole scope, and their index, or None.

    Read only when there are many values and the scope is not much larger (the
    rule of :func:`matching_values`). Without a synonyms column the values are
    read as one aggregated column in whatever order the database scans (with
    values as their own targets, order matters only between values that differ
    just by case; those are read again in id order); with one, rows ``(id,
    value, synonyms)`` in id order, so that the first record wins a shared
    synonym. The index is built on demand (only non-validated values need it).
    """
    if n_values <= FEW_VALUES:
        return None
    n_rows = row_count(qs)
    if n_rows > COLUMN_PER_VALUE * n_values:
        return None
    col = column_of(qs, name)
    if not has_column(qs, synonyms_field):
        stored = column_values(qs, col)

        def index() -> SynonymIndex:
            found = SynonymIndex.case_hints(stored)
            if found.lower.more:
                # values that differ only by case: the lowest id must come first,
                # so read them again in id order (the first read took the
                # faster index order)
                found = SynonymIndex.case_hints(column_values(qs, col, ordered=True))
            return found

        return stored, index
    syn_col = column_of(qs, synonyms_field)  # type: ignore[arg-type]
    rows = execute(scoped_select(qs, qs.info.pk, col, syn_col).order_by(qs.info.pk))
    return list(map(itemgetter(1), rows)), lambda: SynonymIndex(
        rows,
        has_synonyms=True,
        case_sensitive=False,
        target_at=1,
        synonyms_at=2,
    )


def standardize_mapper(
    qs: QuerySet,
    values: list[Any],
    name: str,
    *,
    return_name: str | None = None,
    case_sensitive: bool = False,
    keep: str | bool = "first",
    synonyms_field: str | None = "synonyms",
) -> tuple[dict[Any, Any], dict[Any, str]]:
    """Map distinct values to their standardized form (one query).

    Returns:
        ``(mapper, kind)``: value → standardized value for values that change,
        and value → how it matched (``"synonym"`` or ``"case"``).
    """
    if return_name is None:
        return_name = name
    if keep not in ("first", "last", False):
        raise ValidationError(f"keep must be 'first', 'last' or False, got {keep!r}.")
    index = _build_index(qs, name, return_name, synonyms_field, case_sensitive)
    return map_values(index, values, same_field=return_name == name, keep=keep)


def _candidates(
    values: list[str],
    index: SynonymIndex,
    exact: dict[Any, Any] | None,
    fold: bool,
) -> list[str]:
    """The strings that match the index somewhere, in order (C-level passes).

    Most values of a column that failed validation match nothing; finding the
    few that do with set lookups over whole lists leaves the per-value loop of
    :func:`map_values` only those.
    """
    found: set[str] = set()
    if exact:
        found.update(compress(values, map(exact.__contains__, values)))
    synonym = index.synonym.first
    if synonym:
        found.update(compress(values, map(synonym.__contains__, values)))
    if fold:
        lowered: list[str] | None = None
        for table in (index.lower.first, index.synonym_lower.first):
            if table:
                if lowered is None:
                    lowered = list(map(str.lower, values))
                found.update(compress(values, map(table.__contains__, lowered)))
    return list(filter(found.__contains__, values))


def map_values(
    index: SynonymIndex,
    values: list[Any],
    *,
    same_field: bool,
    keep: str | bool = "first",
) -> tuple[dict[Any, Any], dict[Any, str]]:
    """Map distinct values through an index (no database access).

    Args:
        index: Field values and synonyms (see :class:`SynonymIndex`).
        values: Distinct values to map.
        same_field: Whether the index targets are the field values themselves
            (then values stored as they are need no mapping).
        keep: ``"first"``, ``"last"`` or False (all) among several targets.

    Returns:
        ``(mapper, kind)`` as :func:`standardize_mapper`.
    """
    case_sensitive = index.case_sensitive
    ex, sy, lo, sl = index.exact, index.synonym, index.lower, index.synonym_lower
    exact, exact_more = ex.first, ex.more
    synonym, synonym_more = sy.first, sy.more
    lower, lower_more = lo.first, lo.more
    synonym_lower, synonym_lower_more = sl.first, sl.more
    fold = not case_sensitive
    mapper: dict[Any, Any] = {}
    kinds: dict[Any, str] = {}
    dropped = same_field and not exact_more
    if dropped:
        # values stored as they are need nothing: drop them in one C-level pass
        values = list(filterfalse(exact.__contains__, values))
    if set(map(type, values)) <= {str}:
        values = _candidates(values, index, exact if not dropped else None, fold)
    # one pass with inlined lookups: this loop runs once per distinct value
    for value in values:
        if value in exact:
            if same_field and value not in exact_more:
                continue  # stored as is: nothing to standardize
            mapper[value] = ex.pick(value, keep) if exact_more else exact[value]
            continue
        if value.__class__ is not str and not isinstance(value, str):
            continue
        if value in synonym:
            target = sy.pick(value, keep) if synonym_more else synonym[value]
            how = "synonym"
        elif not fold:
            continue
        else:
            key = value.lower()
            if key in lower:
                target = lo.pick(key, keep) if lower_more else lower[key]
                how = "case"
            elif key in synonym_lower:
                target = (
                    sl.pick(key, keep) if synonym_lower_more else synonym_lower[key]
                )
                how = "synonym"
            else:
                continue
        mapper[value] = target
        kinds[value] = how
    unchanged = [v for v, t in mapper.items() if t.__class__ is not list and t == v]
    for v in unchanged:
        del mapper[v]
        kinds.pop(v, None)
    return mapper, kinds


def standardize(
    scope: Any,
    values: Any,
    field: Any = None,
    *,
    return_field: Any = None,
    return_mapper: bool = False,
    case_sensitive: bool = False,
    mute: bool = False,
    keep: str | bool = "first",
    synonyms_field: str | None = "synonyms",
) -> Any:
    """Map values to the registry's canonical field values.

    A value maps, in this order, by an exact field match, an exact synonym, and
    (unless ``case_sensitive``) a case-insensitive field or synonym match. Values
    that map to nothing stay as they are.

    Args:
        scope: A registry class or a QuerySet.
        values: A column of values or a single string.
        field: The field holding canonical values (default: the name field).
        return_field: Return this field of the matched record instead.
        return_mapper: Return ``{input: standardized}`` for changed values only.
        case_sensitive: Match field values and synonyms case-sensitively.
        mute: Do not log.
        keep: Which of several matching records wins: ``"first"`` (lowest id),
            ``"last"``, or False for a list of all.
        synonyms_field: The ``|``-joined synonyms column (ignored if absent).

    Returns:
        A list in input order, the mapper, or a string for a single string.
    """
    qs = as_queryset(scope)
    name = field_name(qs.model, field)
    return_name = field_name(qs.model, return_field, default=name)
    if synonyms_field is not None and not isinstance(synonyms_field, str):
        synonyms_field = field_name(qs.model, synonyms_field)
    items, single = to_list(values)
    distinct_values = unique(items)
    mapper, kinds = standardize_mapper(
        qs,
        distinct_values,
        name,
        return_name=return_name,
        case_sensitive=case_sensitive,
        keep=keep,
        synonyms_field=synonyms_field,
    )
    if not mute and kinds:
        logger.info(
            "standardized %s via synonyms or case: %s",
            plural_terms(len(kinds)).rsplit(" ", 1)[0],
            quote_list(f"{k!r} → {mapper[k]!r}" for k in kinds),
        )
    if return_mapper:
        return mapper
    get = mapper.get
    result = list(map(get, items, items)) if mapper else list(items)
    return result[0] if single else result


# ---- inspect --------------------------------------------------------------------


class InspectResult:
    """What :func:`inspect` found.

    Attributes:
        validated: Distinct values stored in the field (input order).
        non_validated: Distinct non-empty values not stored.
        frac_validated: ``len(validated) / (len(validated) + len(non_validated))``
            (1.0 when there is nothing to validate).
        synonyms_mapper: Non-validated values that standardize (by synonym or
            case) → their standardized value.
        n_empty: How many input values were None, NaN or empty strings.
    """

    _KEYS = ("validated", "non_validated", "frac_validated", "synonyms_mapper")

    def __init__(
        self,
        validated: list[Any],
        non_validated: list[Any],
        synonyms_mapper: dict[Any, Any],
        n_empty: int,
    ) -> None:
        self.validated = validated
        self.non_validated = non_validated
        self.synonyms_mapper = synonyms_mapper
        self.n_empty = n_empty
        total = len(validated) + len(non_validated)
        self.frac_validated = len(validated) / total if total else 1.0

    def __getitem__(self, key: str) -> Any:
        if key == "nonvalidated":
            key = "non_validated"
        if key not in self._KEYS:
            raise KeyError(f"{key!r}; keys are {', '.join(self._KEYS)}.")
        return getattr(self, key)

    def keys(self) -> tuple[str, ...]:
        """The keys of dict-style access."""
        return self._KEYS

    def __repr__(self) -> str:
        n = len(self.validated)
        total = n + len(self.non_validated)
        lines = [
            f"InspectResult: {n} of {total} values validated "
            f"({self.frac_validated:.0%})",
            f"  validated: {_shortened(self.validated)}",
            f"  non_validated: {_shortened(self.non_validated)}",
        ]
        if self.synonyms_mapper:
            pairs = list(self.synonyms_mapper.items())
            shown = ", ".join(f"{k!r} → {v!r}" for k, v in pairs[:10])
            more = f", … {len(pairs) - 10} more" if len(pairs) > 10 else ""
            lines.append(f"  synonyms_mapper: {shown}{more}")
        return "\n".join(lines)


def _shortened(values: list[Any], n: int = 10) -> str:
    """A list's repr cut to its first ``n`` items (``… 5 more``)."""
    if len(values) <= n:
        return repr(list(values))
    return repr(list(values[:n]))[:-1] + f", … {len(values) - n} more]"


def inspect(
    scope: Any,
    values: Any,
    field: Any = None,
    *,
    mute: bool = False,
    synonyms_field: str | None = "synonyms",
) -> InspectResult:
    """Split values into validated and non-validated ones, with hints.

    Logs how many terms are not validated and which of them differ from stored
    values only by case or are synonyms (``→ standardize via .standardize()``).
    At most three queries, whatever the number of values.

    Args:
        scope: A registry class or a QuerySet.
        values: A column of values or a single string.
        field: The field to validate against (default: the name field).
        mute: Do not log.
        synonyms_field: The synonyms column used for hints.
    """
    qs = as_queryset(scope)
    name = field_name(qs.model, field)
    items, _ = to_list(values)
    distinct_values, n_empty = unique_counting_empty(items)
    whole = _whole_index(qs, name, synonyms_field, len(distinct_values))
    if whole is not None:
        # one read of the column serves both the validation and the hints
        stored, index_of = whole
        # a set of the stored column (no larger than the values) to test them
        matched = set(stored)
    else:
        matched = matching_values(qs, name, distinct_values)
    validated = list(filter(matched.__contains__, distinct_values))
    non_validated = list(filterfalse(matched.__contains__, distinct_values))
    mapper: dict[Any, Any] = {}
    kinds: dict[Any, str] = {}
    if non_validated and whole is not None:
        mapper, kinds = map_values(index_of(), non_validated, same_field=True)
    elif non_validated:
        mapper, kinds = standardize_mapper(
            qs, non_validated, name, synonyms_field=synonyms_field
        )
    result = InspectResult(validated, non_validated, mapper, n_empty)
    if mute:
        return result
    registry = f"{qs.model.__name__}.{name}"
    if not non_validated:
        logger.log(
            SUCCESS,
            "all %d distinct terms are validated against %s",
            len(validated),
            registry,
        )
        return result
    logger.warning(
        "%s not validated: %s",
        plural_terms(len(non_validated)),
        quote_list(non_validated),
    )
    case = [k for k, how in kinds.items() if how == "case"]
    synonyms = [k for k, how in kinds.items() if how == "synonym"]
    if case:
        logger.info(
            "detected %d term%s with case mismatches: %s → standardize via "
            ".standardize()",
            len(case),
            "" if len(case) == 1 else "s",
            quote_list(f"{k!r} → {mapper[k]!r}" for k in case),
        )
    if synonyms:
        logger.info(
            "detected %d synonym%s in %s: %s → standardize via .standardize()",
            len(synonyms),
            "" if len(synonyms) == 1 else "s",
            registry,
            quote_list(f"{k!r} → {mapper[k]!r}" for k in synonyms),
        )
    return result


# ---- from_values ----------------------------------------------------------------


def from_values(
    scope: Any,
    values: Any,
    field: Any = None,
    *,
    mute: bool = False,
    synonyms_field: str | None = "synonyms",
) -> list[Any]:
    """The stored records whose field matches the values (synonym-aware).

    Values map as in :func:`standardize` (exact, synonym, case-insensitive). No
    record is created. One query: the candidates (field values matching
    case-insensitively, or records with synonyms) are loaded and matched here.

    Returns:
        The records, distinct, in the order of the values they match.
    """
    qs = as_queryset(scope)
    name = field_name(qs.model, field)
    items, _ = to_list(values)
    distinct_values = unique(items)
    if not distinct_values:
        return []
    col = column_of(qs, name)
    dialect = dialect_name()
    strings = [v for v in distinct_values if isinstance(v, str)]
    conditions = [in_values(col, distinct_values, dialect)]
    if strings and isinstance(col.type, String):
        lowered = list(dict.fromkeys(s.lower() for s in strings))
        conditions.append(
            in_values(type_coerce(func.lower(col), String), lowered, dialect)
        )
    has_synonyms = has_column(qs, synonyms_field)
    if has_synonyms:
        conditions.append(column_of(qs, synonyms_field).isnot(None))  # type: ignore[arg-type]
    pk = qs.info.pk
    stmt = qs.select().where(or_(*conditions)).order_by(pk)
    records = qs.fetch(stmt)
    rows = [
        (r, getattr(r, name), r, getattr(r, synonyms_field) if has_synonyms else None)  # type: ignore[arg-type]
        for r in records
    ]
    index = SynonymIndex(rows, has_synonyms=has_synonyms, case_sensitive=False)
    by_value: dict[Any, list[Any]] = {}
    for r in records:
        by_value.setdefault(getattr(r, name), []).append(r)
    out: dict[int, Any] = {}
    missing: list[Any] = []
    for value in distinct_values:
        found, key, _ = index.match(value)
        if found is None:
            missing.append(value)
            continue
        canonical = getattr(found.first[key], name)
        for record in by_value.get(canonical, []):
            out.setdefault(id(record), record)
    if missing and not mute:
        logger.warning(
            "did not find %s %s record%s for %s: %s",
            "any" if len(missing) == len(distinct_values) else "some",
            qs.model.__name__,
            "s",
            plural_terms(len(missing)).rsplit(" ", 1)[0],
            quote_list(missing),
        )
    return list(out.values())


# lookup and synonyms moved to their own modules; they stay importable from here
from lamin_sa.curate.lookup import Lookup, lookup, slug  # noqa: E402, F401
from lamin_sa.curate.synonyms import (  # noqa: E402, F401
    add_synonym,
    remove_synonym,
    set_abbr,
)
