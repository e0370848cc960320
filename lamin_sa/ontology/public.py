"""PublicOntology: a public source's terms in memory, no database needed.

Search, validate, inspect, standardize, look up and diff the canonical table
of a source (see :mod:`lamin_sa.ontology.sources` for how files are found).
Validation and standardization reuse the in-memory index of
:mod:`lamin_sa.curate.validate`, so a public source and a registry map values
the same way (exact, then synonym, then case-insensitive).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lamin_sa.config import SUCCESS
from lamin_sa.errors import FieldError, ValidationError
from lamin_sa.ontology.entities import EntitySpec, entity_spec

if TYPE_CHECKING:
    import networkx as nx
    import numpy as np
    import pandas as pd

    from lamin_sa.curate.validate import InspectResult, Lookup
    from lamin_sa.ontology.sources import ResolvedSource
    from lamin_sa.ontology.table import OntologyTable

logger = logging.getLogger(__name__)

#: search scores (``__ratio__``) of the ranked tiers; fuzzy matches score lower.
TIER_RATIOS = {
    "exact": 100.0,
    "synonym": 95.0,
    "prefix": 90.0,
    "word": 85.0,
    "contains": 80.0,
    "synonym_contains": 75.0,
}
FUZZY_MAX = 70.0
FUZZY_CUTOFF = 60.0
# punctuation counts as a word break when searching ("gamma-delta" ~ "gamma delta")
_PUNCT = str.maketrans({c: " " for c in "-_,.;:/()[]{}'\"+|"})


def _norm(text: str, case_sensitive: bool = False) -> str:
    text = text.translate(_PUNCT)
    if not case_sensitive:
        text = text.lower()
    return " ".join(text.split())


class PublicOntologyField:
    """A column of a public table, usable as ``field=`` (``str()`` is its name)."""

    def __init__(self, owner: PublicOntology, name: str) -> None:
        self.owner = owner
        self.name = name

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"PublicOntologyField({self.owner.entity}.{self.name})"


@dataclass
class OntologyDiff:
    """What changed between two versions of one source.

    Attributes:
        added: Active terms of the newer version absent (or obsolete) in the
            older one: id and name.
        removed: Active terms of the older version that are absent or obsolete
            in the newer one: id, name, ``replaced_by``.
        renamed: Terms in both whose name changed: id, ``old_name``, ``new_name``.
        reparented: Terms in both whose parents changed: id, name,
            ``old_parents``, ``new_parents`` (tuples).
    """

    added: pd.DataFrame
    removed: pd.DataFrame
    renamed: pd.DataFrame
    reparented: pd.DataFrame

    def __repr__(self) -> str:
        return (
            f"OntologyDiff(added={len(self.added)}, removed={len(self.removed)}, "
            f"renamed={len(self.renamed)}, reparented={len(self.reparented)})"
        )


class PublicOntology:
    """The terms of one public source release, for one entity.

    Args:
        entity: ``"CellType"``, ``"Gene"``, ... (or a spec).
        source: The source key (default: the manifest's default).
        version: The release (default: the manifest's first).
        organism: For per-organism sources.
        format: Prefer the release in this format (``"obo"``, ``"cxg-json"``).
        file: Read this file (or URL, or list of files) instead.
        table: An already parsed table (then nothing is resolved).
        found: The resolved source of ``table``.

    Example:
        >>> from lamin_sa.ontology import PublicOntology
        >>> cl = PublicOntology("CellType")  # doctest: +SKIP
        >>> cl.search("gamma delta T cell").head(1).name.item()  # doctest: +SKIP
        'gamma-delta T cell'
    """

    def __init__(
        self,
        entity: str | EntitySpec,
        *,
        source: str | None = None,
        version: str | None = None,
        organism: str | None = None,
        format: str | None = None,
        file: Any = None,
        table: OntologyTable | None = None,
        found: ResolvedSource | None = None,
    ) -> None:
        spec = entity_spec(entity)
        if table is None:
            from lamin_sa.ontology.load import load_source

            table, found = load_source(
                spec,
                source=source,
                version=version,
                organism=organism,
                format=format,
                file=file,
            )
        self._spec = spec
        self._table = table
        self._found = found
        self.entity = spec.name
        self.source = found.name if found else (source or "custom")
        self.version = found.version if found else (version or "unknown")
        self.organism = organism or (found.organism if found else "all")
        self._df: pd.DataFrame | None = None
        self._search_index: tuple[list[str], list[list[str]]] | None = None
        self._sets: dict[str, set[Any]] = {}
        self._indexes: dict[tuple[str, str, bool], Any] = {}

    # ---- the table -----------------------------------------------------------

    @property
    def table(self) -> OntologyTable:
        """The parsed table (terms, obsolete terms, parse issues)."""
        return self._table

    @property
    def found(self) -> ResolvedSource | None:
        """Where the source's files were found (None for a table passed in)."""
        return self._found

    @property
    def checksum(self) -> str | None:
        """The sha256 of the source file(s)."""
        return self._found.checksum if self._found else None

    @property
    def fields(self) -> tuple[str, ...]:
        """The table's columns (the id column first)."""
        return self._spec.columns

    def df(self) -> pd.DataFrame:
        """Active terms, indexed by the id column (``ontology_id``, ...)."""
        if self._df is None:
            self._df = self._table.terms.set_index(self._spec.id_field, drop=True)
        return self._df

    to_dataframe = df

    @property
    def obsolete(self) -> pd.DataFrame:
        """Obsolete terms with ``replaced_by`` and ``consider``."""
        return self._table.obsolete

    def __len__(self) -> int:
        return len(self._table.terms)

    def __repr__(self) -> str:
        return (
            f"PublicOntology\nEntity: {self.entity}\nOrganism: {self.organism}\n"
            f"Source: {self.source}, {self.version}\n#terms: {len(self)}"
        )

    def __getattr__(self, name: str) -> PublicOntologyField:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._spec.columns:
            return PublicOntologyField(self, name)
        raise AttributeError(
            f"{self.entity} public source has no field {name!r}; fields are "
            f"{', '.join(self._spec.columns)}."
        )

    def _field(self, field: Any, default: str | None = None) -> str:
        if field is None:
            return default or self._spec.name_field
        name = field.name if isinstance(field, PublicOntologyField) else str(field)
        name = getattr(field, "key", name) if not isinstance(field, str) else name
        if name not in self._spec.columns or name == "parents":
            raise FieldError(
                f"{self.entity} public source has no field {name!r}; use one of "
                f"{', '.join(c for c in self._spec.columns if c != 'parents')}."
            )
        return name

    def _column(self, name: str) -> list[Any]:
        return self._table.terms[name].tolist()

    # ---- validate / inspect / standardize -------------------------------------

    def _value_set(self, name: str) -> set[Any]:
        if name not in self._sets:
            values = set(self._column(name))
            values.discard(None)
            self._sets[name] = values
        return self._sets[name]

    def validate(
        self, values: Any, field: Any = None, *, mute: bool = False
    ) -> np.ndarray:
        """Which values are stored in ``field`` (case-sensitive, exact).

        Args:
            values: A column of values or a single string.
            field: The field (default: the name field, e.g. ``symbol``).
            mute: Do not log the summary.

        Returns:
            A boolean array, one flag per value.

        Example:
            >>> genes.validate(["CD8A", "TCF-1"], genes.symbol)  # doctest: +SKIP
            array([ True, False])
        """
        import numpy as np

        from lamin_sa.curate.validate import to_list

        name = self._field(field)
        items, _ = to_list(values)
        stored = self._value_set(name)
        flags = np.fromiter(
            map(stored.__contains__, items), dtype=bool, count=len(items)
        )
        if not mute:
            n_ok = len({v for v, ok in zip(items, flags, strict=True) if ok})
            n_all = len(set(items))
            logger.info(
                "%d of %d unique values validated against %s %s %s",
                n_ok,
                n_all,
                self.source,
                self.version,
                name,
            )
        return flags

    def _index(self, name: str, return_name: str, case_sensitive: bool) -> Any:
        key = (name, return_name, case_sensitive)
        if key not in self._indexes:
            from lamin_sa.curate.validate import SynonymIndex

            values = self._column(name)
            targets = values if return_name == name else self._column(return_name)
            use_syn = name == self._spec.name_field
            syns = self._column("synonyms") if use_syn else [None] * len(values)
            rows = list(zip(range(len(values)), values, targets, syns, strict=True))
            self._indexes[key] = SynonymIndex(
                rows, has_synonyms=use_syn, case_sensitive=case_sensitive
            )
        return self._indexes[key]

    def standardize(
        self,
        values: Any,
        field: Any = None,
        *,
        return_field: Any = None,
        return_mapper: bool = False,
        case_sensitive: bool = False,
        keep: str | bool = "first",
        mute: bool = False,
    ) -> Any:
        """Map values to the source's names via synonyms and case.

        Synonyms are used when ``field`` is the name field; for genes they hold
        the aliases and retired symbols (``TCF-1`` → ``TCF7``).

        Args:
            values: A column of values or a single string.
            field: The field holding canonical values (default: the name field).
            return_field: Return this field of the matched term instead.
            return_mapper: Return ``{input: standardized}`` for changed values.
            case_sensitive: Match case exactly.
            keep: Which of several matching terms wins: ``"first"``, ``"last"``
                or False (a list of all).
            mute: Do not log.

        Returns:
            A list in input order (unmapped values unchanged), the mapper, or a
            string for a single string.

        Example:
            >>> genes.standardize(["TCF-1", "CD8A"])  # doctest: +SKIP
            ['TCF7', 'CD8A']
        """
        from lamin_sa.curate.validate import map_values, quote_list, to_list, unique

        if keep not in ("first", "last", False):
            raise ValidationError(
                f"keep must be 'first', 'last' or False, got {keep!r}."
            )
        name = self._field(field)
        return_name = self._field(return_field, default=name)
        items, single = to_list(values)
        index = self._index(name, return_name, case_sensitive)
        mapper, kinds = map_values(
            index, unique(items), same_field=return_name == name, keep=keep
        )
        if not mute and kinds:
            logger.info(
                "standardized %d value(s) via synonyms or case: %s",
                len(kinds),
                quote_list(f"{k!r} → {mapper[k]!r}" for k in kinds),
            )
        if return_mapper:
            return mapper
        result = list(map(mapper.get, items, items)) if mapper else list(items)
        return result[0] if single else result

    def inspect(
        self, values: Any, field: Any = None, *, mute: bool = False
    ) -> InspectResult:
        """Validated and non-validated values, with synonym and case hints.

        Example:
            >>> cl.inspect(["T cell", "T-lymphocyte", "foo"]).non_validated
            ['T-lymphocyte', 'foo']  # doctest: +SKIP
        """
        from lamin_sa.curate.validate import (
            InspectResult,
            count_empty,
            map_values,
            quote_list,
            to_list,
            unique,
        )

        name = self._field(field)
        items, _ = to_list(values)
        distinct_values = unique(items)
        stored = self._value_set(name)
        validated = [v for v in distinct_values if v in stored]
        non_validated = [v for v in distinct_values if v not in stored]
        mapper: dict[Any, Any] = {}
        kinds: dict[Any, str] = {}
        if non_validated:
            index = self._index(name, name, False)
            mapper, kinds = map_values(index, non_validated, same_field=True)
        result = InspectResult(validated, non_validated, mapper, count_empty(items))
        if not mute:
            where = f"{self.source} {self.version} {name}"
            if non_validated:
                logger.warning(
                    "%d of %d terms not validated against %s: %s",
                    len(non_validated),
                    len(distinct_values),
                    where,
                    quote_list(non_validated),
                )
                if mapper:
                    logger.info(
                        "   detected %d synonym(s) or case variant(s): %s → "
                        "standardize via .standardize()",
                        len(mapper),
                        quote_list(f"{k!r} → {v!r}" for k, v in mapper.items()),
                    )
            else:
                logger.log(
                    SUCCESS, "all %d terms validated against %s", len(validated), where
                )
        return result

    # ---- lookup -----------------------------------------------------------------

    def lookup(self, field: Any = None) -> Lookup:
        """Attribute access to terms by a field's values (tab completion).

        Example:
            >>> cl.lookup().t_cell.ontology_id  # doctest: +SKIP
            'CL:0000084'
        """
        from lamin_sa.curate.validate import Lookup

        name = self._field(field)
        terms = self._table.terms
        rows = terms.itertuples(index=False, name=self.entity)
        return Lookup(list(zip(terms[name].tolist(), rows, strict=True)), self.entity)

    # ---- search -----------------------------------------------------------------

    def _searchable(self, case_sensitive: bool) -> tuple[list[str], list[list[str]]]:
        if case_sensitive:
            return self._build_search(True)
        if self._search_index is None:
            self._search_index = self._build_search(False)
        return self._search_index

    def _build_search(self, case_sensitive: bool) -> tuple[list[str], list[list[str]]]:
        names = [
            _norm(v, case_sensitive) if isinstance(v, str) else ""
            for v in self._column(self._spec.name_field)
        ]
        syns = [
            [_norm(s, case_sensitive) for s in v.split("|") if s] if v else []
            for v in self._column("synonyms")
        ]
        return names, syns

    def search(
        self,
        string: str,
        field: Any = None,
        *,
        limit: int | None = 20,
        case_sensitive: bool = False,
    ) -> pd.DataFrame:
        """Terms matching ``string``, best first, with a ``__ratio__`` column.

        Punctuation counts as a word break (``gamma delta T cell`` matches
        ``gamma-delta T cell`` exactly). Tiers: the name equals the string
        (100), a synonym does (95), the name starts with it (90), contains it as
        whole words (85) or anywhere (80), a synonym contains it (75); shorter
        names first within a tier. When fewer than ``limit`` terms match, fuzzy
        matches of names and synonyms (rapidfuzz, typos) follow with ratios
        below 70.

        Args:
            string: What to search for.
            field: Search this field instead of the name field and synonyms.
            limit: At most this many rows (None: all ranked matches).
            case_sensitive: Match case exactly.
        """
        name_field = self._spec.name_field
        field_name = self._field(field)
        if field_name == name_field:
            names, syns = self._searchable(case_sensitive)
        else:
            names = [
                _norm(str(v), case_sensitive) if v is not None else ""
                for v in self._column(field_name)
            ]
            syns = [[] for _ in names]
        q = _norm(string, case_sensitive)
        scored: dict[int, float] = {}
        if q:
            word = f" {q} "
            for i in [i for i, s in enumerate(names) if q in s]:
                s = names[i]
                if s == q:
                    scored[i] = TIER_RATIOS["exact"]
                elif s.startswith(q):
                    scored[i] = TIER_RATIOS["prefix"]
                elif word in f" {s} ":
                    scored[i] = TIER_RATIOS["word"]
                else:
                    scored[i] = TIER_RATIOS["contains"]
            for i, entry in enumerate(syns):
                if not entry or scored.get(i, 0.0) >= TIER_RATIOS["synonym"]:
                    continue
                for s in entry:
                    if q in s:
                        tier = "synonym" if s == q else "synonym_contains"
                        if TIER_RATIOS[tier] > scored.get(i, 0.0):
                            scored[i] = TIER_RATIOS[tier]
                        if tier == "synonym":
                            break
        ranked = sorted(scored, key=lambda i: (-scored[i], len(names[i]), i))
        wanted = 20 if limit is None else limit
        if len(ranked) < wanted and q:
            ranked += self._fuzzy(
                q, names, syns, set(scored), wanted - len(ranked), scored
            )
        if limit is not None:
            ranked = ranked[:limit]
        result = self._table.terms.iloc[ranked].copy()
        result["__ratio__"] = [scored[i] for i in ranked]
        return result.set_index(self._spec.id_field)

    @staticmethod
    def _fuzzy(
        q: str,
        names: list[str],
        syns: list[list[str]],
        exclude: set[int],
        n: int,
        scored: dict[int, float],
    ) -> list[int]:
        from rapidfuzz import fuzz, process

        owners = list(range(len(names)))
        choices = list(names)
        for i, entry in enumerate(syns):
            for s in entry:
                choices.append(s)
                owners.append(i)
        best: dict[int, float] = {}
        for _, score, idx in process.extract(
            q,
            choices,
            scorer=fuzz.ratio,
            limit=(n + len(exclude)) * 3,
            score_cutoff=FUZZY_CUTOFF,
        ):
            owner = owners[idx]
            if owner not in exclude and score > best.get(owner, -1.0):
                best[owner] = score
        picked = sorted(best, key=lambda i: (-best[i], len(names[i]), i))[:n]
        for i in picked:
            scored[i] = round(best[i] * FUZZY_MAX / 100.0, 2)
        return picked

    # ---- diff and graph ---------------------------------------------------------

    def diff(self, other: PublicOntology) -> OntologyDiff:
        """Terms added, removed, renamed and re-parented from ``other`` to ``self``.

        The older version is the one passed or ``self``, whichever has the
        smaller version string; the result reads "old → new".

        Raises:
            ValidationError: ``other`` is another entity or source, or the same
                version.

        Example:
            >>> new, old = PublicOntology("Disease"), PublicOntology(
            ...     "Disease", version="2025-02-04")  # doctest: +SKIP
            >>> new.diff(old)  # doctest: +SKIP
            OntologyDiff(added=..., removed=..., renamed=..., reparented=...)
        """
        import pandas as pd

        if not isinstance(other, PublicOntology):
            raise ValidationError("diff() takes another PublicOntology.")
        if (other.entity, other.source) != (self.entity, self.source):
            raise ValidationError(
                f"diff() needs the same entity and source, got {self.entity}/"
                f"{self.source} and {other.entity}/{other.source}."
            )
        if other.version == self.version:
            raise ValidationError(
                f"both are version {self.version}; pass another version to diff()."
            )
        old, new = (other, self) if other.version < self.version else (self, other)
        idf, nf = self._spec.id_field, self._spec.name_field
        o, n = old._table.terms, new._table.terms
        o_name = dict(zip(o[idf], o[nf], strict=True))
        n_name = dict(zip(n[idf], n[nf], strict=True))
        replaced = dict(
            zip(new.obsolete[idf], new.obsolete["replaced_by"], strict=True)
        )
        added = [(i, n_name[i]) for i in n_name if i not in o_name]
        removed = [(i, o_name[i], replaced.get(i)) for i in o_name if i not in n_name]
        common = [i for i in n_name if i in o_name]
        renamed = [(i, o_name[i], n_name[i]) for i in common if o_name[i] != n_name[i]]
        reparented = []
        if self._spec.hierarchical:
            o_par = dict(zip(o[idf], o["parents"], strict=True))
            n_par = dict(zip(n[idf], n["parents"], strict=True))
            for i in common:
                before, after = tuple(sorted(o_par[i])), tuple(sorted(n_par[i]))
                if before != after:
                    reparented.append((i, n_name[i], before, after))
        return OntologyDiff(
            added=pd.DataFrame(added, columns=[idf, nf]),
            removed=pd.DataFrame(removed, columns=[idf, nf, "replaced_by"]),
            renamed=pd.DataFrame(renamed, columns=[idf, "old_name", "new_name"]),
            reparented=pd.DataFrame(
                reparented, columns=[idf, nf, "old_parents", "new_parents"]
            ),
        )

    def to_networkx(self) -> nx.DiGraph:
        """The hierarchy as a graph: one node per term, edges child → parent.

        Node attributes: ``name``. Parents outside the source's active terms
        are left out.
        """
        import networkx as nx

        if not self._spec.hierarchical:
            raise ValidationError(f"{self.entity} terms have no hierarchy.")
        terms = self._table.terms
        ids = terms[self._spec.id_field].tolist()
        graph = nx.DiGraph(name=f"{self.source} {self.version}")
        graph.add_nodes_from(
            (i, {"name": name})
            for i, name in zip(ids, terms[self._spec.name_field].tolist(), strict=True)
        )
        known = set(ids)
        graph.add_edges_from(
            (child, parent)
            for child, parents in zip(ids, terms["parents"].tolist(), strict=True)
            for parent in parents
            if parent in known
        )
        return graph
