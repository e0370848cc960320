"""The canonical table a parser yields, with what it skipped and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lamin_sa.ontology.entities import EntitySpec

if TYPE_CHECKING:
    import pandas as pd

#: columns of the obsolete-terms table besides the id and name columns.
OBSOLETE_EXTRA = ("replaced_by", "consider")
#: stands in for "|" inside a synonym ("|" separates synonyms in a column).
SEPARATOR_STAND_IN = "\u00a6"


def clean_synonym(
    text: str, issues: list[ParseIssue], line: int, term: str | None
) -> str:
    """``text`` with ``|`` replaced by ``¦``, reported.

    ``|`` separates synonyms in the ``synonyms`` column.
    """
    if "|" not in text:
        return text
    fixed = text.replace("|", SEPARATOR_STAND_IN)
    issues.append(
        ParseIssue(
            line,
            term,
            f"synonym {text!r} contains '|', the synonym separator; kept as {fixed!r}",
            "kept",
        )
    )
    return fixed


@dataclass(frozen=True)
class ParseIssue:
    """One line or stanza a parser could not read as written.

    Attributes:
        line: 1-based line number in the (decompressed) file; 0 if not line-based.
        term: The id of the stanza it belongs to, if known.
        reason: What was wrong.
        action: ``"skipped"`` (the line or stanza was dropped) or ``"kept"`` (it
            was read anyway, as described in ``reason``).
    """

    line: int
    term: str | None
    reason: str
    action: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        term = f" ({self.term})" if self.term else ""
        return f"{where}{term}: {self.reason} [{self.action}]"


@dataclass
class OntologyTable:
    """One parsed source: active terms, obsolete terms and the parse report.

    Attributes:
        entity: The entity the table was parsed for.
        terms: Active terms, columns ``entity.columns`` (``parents`` holds lists of
            ids, ``synonyms`` ``|``-joined EXACT synonyms or None).
        obsolete: Obsolete terms: id, name, ``replaced_by`` (an id or None) and
            ``consider`` (``|``-joined ids or None).
        issues: Lines or stanzas that were skipped or read leniently.
        meta: ``format``, ``ontology``, ``version`` (from the file, if stated),
            ``n_filtered`` (terms dropped by the id-prefix filter).
    """

    entity: EntitySpec
    terms: pd.DataFrame
    obsolete: pd.DataFrame
    issues: list[ParseIssue] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"OntologyTable({self.entity.name}, {len(self.terms)} terms, "
            f"{len(self.obsolete)} obsolete, {len(self.issues)} issues)"
        )

    @property
    def skipped(self) -> list[ParseIssue]:
        """The issues whose line or stanza was dropped."""
        return [i for i in self.issues if i.action == "skipped"]


def make_table(
    spec: EntitySpec,
    columns: dict[str, list[Any]],
    obsolete: dict[str, list[Any]] | None = None,
    issues: list[ParseIssue] | None = None,
    meta: dict[str, Any] | None = None,
) -> OntologyTable:
    """An :class:`OntologyTable` from column lists (missing columns become None)."""
    import pandas as pd

    n = len(columns[spec.id_field])
    data = {}
    for col in spec.columns:
        values = columns.get(col)
        if values is None:
            values = [[] for _ in range(n)] if col == "parents" else [None] * n
        data[col] = values
    obs_cols = (spec.id_field, spec.name_field, *OBSOLETE_EXTRA)
    obsolete = obsolete or {}
    m = len(obsolete.get(spec.id_field, ()))
    obs = {c: obsolete.get(c, [None] * m) for c in obs_cols}
    return OntologyTable(
        entity=spec,
        terms=pd.DataFrame(data, columns=list(spec.columns)),
        obsolete=pd.DataFrame(obs, columns=list(obs_cols)),
        issues=list(issues or []),
        meta=dict(meta or {}),
    )
