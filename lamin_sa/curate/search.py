"""Ranked search over a registry's name-like fields.

Ranking (best first): exact value, exact synonym, prefix, whole word, substring,
substring of a synonym, then fuzzy matches (rapidfuzz). The first five tiers are
ranked and cut to ``limit`` in one SQL query; only when it finds fewer than
``limit`` records are the field values read (one more query) and scored with
rapidfuzz, so a query with a typo still finds the record.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Float,
    Integer,
    String,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
    or_,
    type_coerce,
)

from lamin_sa.curate.validate import (
    SYNONYM_SEP,
    as_queryset,
    execute,
    field_name,
    has_column,
    scoped_select,
    split_synonyms,
)
from lamin_sa.curate.values import column_values, dialect_name
from lamin_sa.db.sql import in_values

if TYPE_CHECKING:
    from lamin_sa.query.queryset import QuerySet

#: score of each SQL tier (rank 0..5); fuzzy scores are scaled below the last.
TIER_SCORES = (100.0, 95.0, 90.0, 85.0, 80.0, 75.0)
FUZZY_MAX = 70.0
#: rapidfuzz scores (0-100) below this are not returned.
FUZZY_CUTOFF = 50.0


def _position(haystack: Any, needle: Any, dialect: str) -> Any:
    """1-based position of ``needle`` in ``haystack`` (0 if absent)."""
    if dialect == "postgresql":
        return func.strpos(haystack, needle)
    return func.instr(haystack, needle)


def _like(col: Any, case_sensitive: bool, dialect: str) -> Any:
    """``col`` contains the search string, as the database evaluates it fastest.

    SQLite's LIKE ignores ASCII case (as does its ``lower()``); a case-sensitive
    match on SQLite uses ``instr``. On PostgreSQL ``strpos(lower(col),
    lower(q))`` is what ILIKE '%q%' does (it lowers both sides), in 60 % of
    its time over 10,000 names.
    """
    pattern = bindparam("lamin_q_like", type_=String)
    if case_sensitive:
        if dialect == "sqlite":
            return func.instr(col, bindparam("lamin_q_raw", type_=String)) > 0
        return col.like(pattern, escape="\\")
    if dialect == "postgresql":
        raw = bindparam("lamin_q_raw", type_=String)
        return func.strpos(func.lower(col), func.lower(raw)) > 0
    return col.like(pattern, escape="\\")


def _text(col: Any, case_sensitive: bool) -> Any:
    value = type_coerce(func.coalesce(col, ""), String)
    return value if case_sensitive else type_coerce(func.lower(value), String)


@functools.lru_cache(maxsize=256)
def _tiers(
    model: type,
    names: tuple[str, ...],
    synonyms_field: str | None,
    case_sensitive: bool,
    dialect: str,
) -> tuple[Any, Any, Any]:
    """``(rank, where, length)`` SQL expressions with bound ``lamin_q*`` params.

    Built once per registry, fields and mode (building them costs more than
    running the query); the search string is bound at execution.
    """
    from lamin_sa.query.compiler import model_info

    table = model_info(model).table_columns
    cols = [
        table[n] if isinstance(table[n].type, String) else cast(table[n], String)
        for n in names
    ]
    q = bindparam("lamin_q", type_=String)
    texts = [_text(c, case_sensitive) for c in cols]
    exact = or_(*(t == q for t in texts))
    prefix = or_(
        *(
            func.substr(t, 1, bindparam("lamin_q_len", type_=Integer)) == q
            for t in texts
        )
    )
    word_needle = bindparam("lamin_q_word", type_=String)
    word = or_(
        *(
            _position(literal(" ") + t + literal(" "), word_needle, dialect) > 0
            for t in texts
        )
    )
    contains = or_(*(_position(t, q, dialect) > 0 for t in texts))
    whens: list[tuple[Any, int]] = [(exact, 0)]
    where = [_like(c, case_sensitive, dialect) for c in cols]
    if synonyms_field is not None:
        syn_col = table[synonyms_field]
        syn = _text(syn_col, case_sensitive)
        padded = literal(SYNONYM_SEP) + syn + literal(SYNONYM_SEP)
        needle = bindparam("lamin_q_syn", type_=String)
        whens.append((_position(padded, needle, dialect) > 0, 1))
        where.append(_like(syn_col, case_sensitive, dialect))
    whens += [(prefix, 2), (word, 3), (contains, 4)]
    rank = case(*whens, else_=5)
    if len(cols) == 1:
        length = func.length(cols[0])
    elif dialect == "postgresql":
        length = func.least(*(func.length(c) for c in cols))
    else:
        length = func.min(*(func.length(c) for c in cols))
    return rank, or_(*where), length


def search(
    scope: Any,
    string: str,
    *,
    field: Any = None,
    limit: int | None = 20,
    case_sensitive: bool = False,
    synonyms_field: str | None = "synonyms",
) -> QuerySet:
    """Records matching ``string``, best first.

    Args:
        scope: A registry class or a QuerySet.
        string: What to search for.
        field: A field or a list of fields (default: the name field). The
            ``synonyms`` column, if the registry has one, is searched as well.
        limit: At most this many records (None: all SQL matches plus up to 20
            fuzzy ones).
        case_sensitive: Match case exactly (fuzzy scoring too).
        synonyms_field: The ``|``-joined synonyms column.

    Returns:
        A QuerySet in rank order; its ``df()`` has a ``score`` column (100 for
        an exact match, lower for weaker tiers, below 70 for fuzzy matches).
    """
    qs = as_queryset(scope)
    model = qs.model
    fields = field if isinstance(field, list | tuple) else [field]
    names = list(dict.fromkeys(field_name(model, f) for f in fields))
    cols = [
        c if isinstance(c.type, String) else cast(c, String)
        for c in (qs.info.table_columns[n] for n in names)
    ]
    syn_col = (
        qs.info.table_columns[synonyms_field]
        if synonyms_field and has_column(qs, synonyms_field)
        else None
    )
    pk = qs.info.pk
    query = string if case_sensitive else string.lower()
    if not query:
        return _ranked(qs, [])
    dialect = dialect_name()
    syn_name = synonyms_field if syn_col is not None else None
    rank, where, length = _tiers(model, tuple(names), syn_name, case_sensitive, dialect)
    stmt = scoped_select(qs, pk, rank).where(where).order_by(rank, length, pk)
    if limit is not None:
        stmt = stmt.limit(limit)
    escaped = string.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    params = {
        "lamin_q": query,
        "lamin_q_len": len(query),
        "lamin_q_word": f" {query} ",
        "lamin_q_syn": f"{SYNONYM_SEP}{query}{SYNONYM_SEP}",
        "lamin_q_like": f"%{escaped}%",
        "lamin_q_raw": string,
    }
    ranked: list[tuple[Any, float]] = [
        (row[0], TIER_SCORES[int(row[1])]) for row in execute(stmt, params)
    ]
    wanted = 20 if limit is None else limit
    if len(ranked) < wanted or limit is None:
        ranked += _fuzzy(
            qs,
            string,
            cols,
            syn_col,
            exclude={r[0] for r in ranked},
            n=wanted - len(ranked) if limit is not None else 20,
            case_sensitive=case_sensitive,
        )
    return _ranked(qs, ranked)


def _fuzzy(
    qs: QuerySet,
    string: str,
    cols: list[Any],
    syn_col: Any,
    *,
    exclude: set[Any],
    n: int,
    case_sensitive: bool,
) -> list[tuple[Any, float]]:
    """Up to ``n`` records by rapidfuzz score of their field values and synonyms.

    With one field and no synonyms only the values are read (one aggregated
    column, see :func:`column_values`), and the records of the few values that
    score are looked up afterwards: reading 10,000 ids along with the values
    costs more than that second query.
    """
    if n <= 0:
        return []
    from rapidfuzz import fuzz, process, utils

    owners: list[Any] | None = None
    if len(cols) == 1 and syn_col is None:
        choices = column_values(qs, cols[0])
    else:
        owners, choices = _rows(qs, cols, syn_col)
    if not choices:
        return []
    query, scored_choices = string, choices
    if not case_sensitive:
        # the same processing rapidfuzz's processor= applies to both sides
        query = utils.default_process(string)
        scored_choices = _PROCESSED.of(choices)
    matches = process.extract(
        query,
        scored_choices,
        scorer=fuzz.ratio,
        limit=(n + len(exclude)) * 3,
        score_cutoff=FUZZY_CUTOFF,
    )
    if owners is not None:
        scored = [(owners[index], score) for _, score, index in matches]
    else:
        by_value: dict[Any, float] = {}
        for _, score, index in matches:
            # best first: keep the highest
            by_value.setdefault(choices[index], score)
        col = cols[0]
        found = execute(
            scoped_select(qs, qs.info.pk, col).where(
                in_values(col, list(by_value), dialect_name())
            )
        )
        scored = [(owner, by_value[value]) for owner, value in found]
    best: dict[Any, float] = {}
    for owner, score in scored:
        if owner in exclude:
            continue
        if score > best.get(owner, -1.0):
            best[owner] = score
    ordered = sorted(best.items(), key=lambda item: (-item[1], item[0]))[:n]
    return [(owner, round(score * FUZZY_MAX / 100.0, 2)) for owner, score in ordered]


class _ProcessedChoices:
    """The last searched choices with rapidfuzz's default processing (one entry).

    Processing 10,000 values took longer than scoring them, and a user searches
    the same registry again and again: when the values just read equal the last
    ones (a list comparison, a tenth of the processing), their processed form
    is reused. Any change to the values processes them anew.
    """

    def __init__(self) -> None:
        self._entry: tuple[list[str], list[str]] = ([], [])

    def of(self, choices: list[str]) -> list[str]:
        raw, processed = self._entry
        if choices != raw:
            from rapidfuzz import utils

            processed = list(map(utils.default_process, choices))
            self._entry = (choices, processed)  # one assignment: threads see both
        return processed


_PROCESSED = _ProcessedChoices()


def _rows(qs: QuerySet, cols: list[Any], syn_col: Any) -> tuple[list[Any], list[str]]:
    """Ids and values (one entry per column value and synonym)."""
    pk = qs.info.pk
    extra = [syn_col] if syn_col is not None else []
    rows = execute(scoped_select(qs, pk, *cols, *extra))
    choices: list[str] = []
    owners: list[Any] = []
    for i in range(1, 1 + len(cols)):
        owners += [r[0] for r in rows if r[i] is not None]
        choices += [r[i] for r in rows if r[i] is not None]
    if extra:
        for row in rows:
            if row[-1]:
                for syn in split_synonyms(row[-1]):
                    choices.append(syn)
                    owners.append(row[0])
    return owners, choices


def _ranked(qs: QuerySet, ranked: list[tuple[Any, float]]) -> QuerySet:
    """A QuerySet of the ranked ids in order, with a ``score`` column."""
    from lamin_sa.query.queryset import QuerySet

    pk = qs.info.pk
    result = QuerySet(qs.model, implicit_visibility=False)
    ids = [r[0] for r in ranked]
    result = result.where(pk.in_(ids))
    if not ranked:
        return result
    position, score = _ranks_from_text(pk, ranked)
    return result.order_by(position).annotate("score", score)


def _ranks_from_text(pk: Any, ranked: list[tuple[int, float]]) -> tuple[Any, Any]:
    """Position and score of each ranked id, looked up in one bound string.

    The string is ``;id:score;id:score;...`` with scores as six characters
    (``095.00``): a row's position is where ``;id:`` starts (increasing along
    the list) and its score the six characters after it. Two CASE expressions
    of one bound pair per id cost more to build than the query costs to run.
    Scores are 0-100 by construction (tiers and scaled fuzzy scores); ids are
    matched as text, so any id without ``;`` or ``:`` works.
    """
    text = ";" + "".join(f"{id_}:{score:06.2f};" for id_, score in ranked)
    # anonymous: two searches combined in one statement keep their own strings
    bound = bindparam(None, text, type_=String)
    needle: Any = literal_column("';'") + cast(pk, String) + literal_column("':'")
    position = _position(bound, needle, dialect_name())
    start = position + func.length(needle)
    return position, cast(func.substr(bound, start, 6), Float)
