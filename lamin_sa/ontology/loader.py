"""Bulk-import a canonical table: registry rows, parent links, a Source row.

The loader works on SQLAlchemy Core tables described by a :class:`LoadTarget`
(which table, which columns, which link table, which Source table), so any
registry with an id column, a source foreign key and a self-referential link
table can be filled. Everything happens in one transaction with a fixed number
of statements per import (multi-row inserts, ``executemany`` updates), whatever
the number of terms:

1. the Source row (entity, name, organism, version) is found or created; if it
   is already fully imported with the same checksum, nothing else happens;
2. terms new to the registry are inserted; stored terms (matched by id) whose
   name, definition or synonyms changed are updated in place, so their primary
   keys — and every link to them — stay; all of them now point to the Source;
3. stored terms that the release marks obsolete, or that an older release of
   the same source had and this one dropped, are flagged obsolete (never
   deleted);
4. parent links among the source's terms are added; links between two active
   terms of the source that the release no longer has are removed (links to
   records from elsewhere are never touched);
5. the Source is marked imported (and current, if the table has the column).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, and_, bindparam, func, select, tuple_

from lamin_sa.config import SUCCESS
from lamin_sa.errors import ValidationError
from lamin_sa.ontology.table import OntologyTable
from lamin_sa.progress import steps

logger = logging.getLogger(__name__)

#: rows per statement when selecting by a list of keys.
_CHUNK = 5_000


@dataclass(frozen=True)
class LoadTarget:
    """Where a canonical table goes in the database.

    Attributes:
        table: The registry table.
        columns: Canonical column → registry column for the copied values, e.g.
            ``{"name": "name", "definition": "description", "synonyms":
            "synonyms"}``. The id column is ``id_column``.
        id_column: The registry column holding the term id (``ontology_id``).
        source_table: The table of Source rows.
        source_fk: The registry column referring to the Source row.
        link_table: The parents link table (None: no hierarchy).
        link_child: Its column referring to the child record.
        link_parent: Its column referring to the parent record.
        obsolete_column: A boolean registry column flagged for obsolete terms.
        replaced_by_column: A registry column for the id that replaces an
            obsolete term (set when it is flagged, cleared when it comes back).
        uid_column: The registry column filled by ``make_uid`` for new terms.
        make_uid: Term id → uid (deterministic, so re-imports agree).
        defaults: Values for new rows (a callable is called once per import),
            e.g. ``{"created_by_id": 1, "organism_id": 2}``.
        source_columns: Logical Source field → Source column. Logical fields:
            ``entity, name, organism, version, url, checksum, description,
            in_db, currently_used``; absent ones are not written.
        source_defaults: Values for a new Source row (e.g. ``uid``,
            ``created_by_id``); callables are called with the source dict.
    """

    table: Table
    columns: Mapping[str, str]
    source_table: Table
    id_column: str = "ontology_id"
    source_fk: str = "source_id"
    link_table: Table | None = None
    link_child: str = "child_id"
    link_parent: str = "parent_id"
    obsolete_column: str | None = None
    replaced_by_column: str | None = None
    uid_column: str | None = None
    make_uid: Callable[[str], str] | None = None
    defaults: Mapping[str, Any] = field(default_factory=dict)
    source_columns: Mapping[str, str] = field(
        default_factory=lambda: {
            k: k
            for k in (
                "entity",
                "name",
                "organism",
                "version",
                "url",
                "checksum",
                "description",
                "in_db",
                "currently_used",
            )
        }
    )
    source_defaults: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class ImportResult:
    """What an import did.

    Attributes:
        source_id: The Source row's primary key.
        skipped: True when the release was already imported (nothing changed).
        inserted: New terms.
        updated: Stored terms whose values or source changed.
        obsoleted: Stored terms newly flagged obsolete.
        links_added: New parent links.
        links_removed: Parent links the release no longer has.
        seconds: Wall time of the import.
        rejected: ``(term id, reason)`` of terms not imported because a value
            does not fit its column (e.g. a name longer than the column).
    """

    source_id: Any
    skipped: bool = False
    inserted: int = 0
    updated: int = 0
    obsoleted: int = 0
    links_added: int = 0
    links_removed: int = 0
    seconds: float = 0.0
    rejected: list[tuple[str, str]] = field(default_factory=list)


def _chunks(items: list[Any], n: int = _CHUNK) -> list[list[Any]]:
    return [items[i : i + n] for i in range(0, len(items), n)]


def _pk(table: Table) -> Any:
    cols = list(table.primary_key.columns)
    if len(cols) != 1:
        raise ValidationError(f"{table.name} needs a single-column primary key.")
    return cols[0]


def _source_row(
    conn: Any, target: LoadTarget, source: Mapping[str, Any], create_done: bool = True
) -> tuple[Any, bool]:
    """The Source row's id (created if absent) and whether it is done.

    Done: fully imported already, with the same checksum.
    """
    st = target.source_table
    sc = target.source_columns
    key_fields = [f for f in ("entity", "name", "organism", "version") if f in sc]
    where = and_(*(st.c[sc[f]] == source.get(f) for f in key_fields))
    cols = [_pk(st)]
    if "in_db" in sc:
        cols.append(st.c[sc["in_db"]])
    if "checksum" in sc:
        cols.append(st.c[sc["checksum"]])
    row = conn.execute(select(*cols).where(where)).first()
    if row is not None:
        in_db = bool(row[1]) if "in_db" in sc else False
        same = "checksum" not in sc or row[-1] == source.get("checksum")
        if "checksum" in sc and row[-1] != source.get("checksum"):
            conn.execute(
                st.update()
                .where(_pk(st) == row[0])
                .values({sc["checksum"]: source.get("checksum")})
            )
        return row[0], in_db and same and create_done
    values = {sc[f]: source.get(f) for f in sc if f in source}
    if "in_db" in sc:
        values[sc["in_db"]] = False
    if "currently_used" in sc:
        values[sc["currently_used"]] = False
    for col, default in target.source_defaults.items():
        values[col] = default(source) if callable(default) else default
    result = conn.execute(st.insert().values(values).returning(_pk(st)))
    return result.scalar_one(), False


def _older_sources(
    conn: Any, target: LoadTarget, source: Mapping[str, Any], sid: Any
) -> list[Any]:
    """Ids of other Source rows of the same entity, name and organism."""
    st = target.source_table
    sc = target.source_columns
    conds = [
        st.c[sc[f]] == source.get(f) for f in ("entity", "name", "organism") if f in sc
    ]
    return [
        r[0] for r in conn.execute(select(_pk(st)).where(and_(*conds), _pk(st) != sid))
    ]


def fetch_all(conn: Any, stmt: Any) -> list[tuple[Any, ...]]:
    """All rows of a parameterless SELECT as plain tuples.

    Read straight from the DBAPI cursor when no selected column needs result
    processing (strings, integers): several times faster than Row objects for
    whole columns.
    """
    compiled = stmt.compile(dialect=conn.dialect)
    if compiled.params or any(
        c.type._cached_result_processor(conn.dialect, None) is not None
        for c in stmt.selected_columns
    ):
        return [tuple(r) for r in conn.execute(stmt)]
    return list(conn.exec_driver_sql(str(compiled)).cursor.fetchall())


def _column_defaults(table: Table, given: set[str]) -> dict[str, Any]:
    """Python-side defaults of columns not given (evaluated once per import)."""
    out: dict[str, Any] = {}
    for col in table.columns:
        if col.key in given or col.primary_key:
            continue
        default = col.default
        if default is None:
            continue
        if getattr(default, "is_scalar", False):
            out[col.key] = default.arg
        elif getattr(default, "is_callable", False):
            out[col.key] = default.arg(None)
    return out


#: new rows from which rebuilding a table's indexes beats updating them per row.
_DEFER_MIN = 5_000


@contextmanager
def indexes_deferred(
    conn: Any, table: Table, n_new: int, n_stored: int
) -> Iterator[None]:
    """Build ``table``'s plain indexes after a bulk insert instead of during it.

    Used when the insert adds many rows to a table that holds far fewer: one
    sorted index build is about three times cheaper than inserting every key
    into every index (SQLite and PostgreSQL). Only the indexes of the table's
    metadata that exist in the database are dropped and rebuilt, inside the
    caller's transaction: a failure (e.g. a duplicate in a unique index) rolls
    back the whole import. Constraints (primary key, unique constraints) stay.
    On PostgreSQL the table's foreign keys are dropped and added back too: one
    validating join instead of a trigger query per row and key (about half of
    a large import there). The table is locked against readers until the
    commit.
    """
    if n_new < _DEFER_MIN or n_new < 2 * n_stored:
        yield
        return
    from sqlalchemy import inspect as sa_inspect

    present = {
        ix["name"] for ix in sa_inspect(conn).get_indexes(table.name, table.schema)
    }
    deferred = [ix for ix in table.indexes if ix.name in present]
    for ix in deferred:
        ix.drop(conn)
    prep = conn.dialect.identifier_preparer
    name = prep.format_table(table)
    keys = _foreign_keys(conn, name) if conn.dialect.name == "postgresql" else []
    for key, _ in keys:
        conn.exec_driver_sql(f"ALTER TABLE {name} DROP CONSTRAINT {prep.quote(key)}")
    yield
    for key, definition in keys:
        conn.exec_driver_sql(
            f"ALTER TABLE {name} ADD CONSTRAINT {prep.quote(key)} {definition}"
        )
    for ix in deferred:
        ix.create(conn)


def _foreign_keys(conn: Any, name: str) -> list[tuple[str, str]]:
    """``(name, definition)`` of a PostgreSQL table's foreign keys, as stored.

    ``name``: the table's quoted (and schema-qualified) name.
    """
    rows = conn.exec_driver_sql(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %(t)s::regclass AND contype = 'f' ORDER BY conname",
        {"t": name},
    )
    return [(str(r[0]), str(r[1])) for r in rows]


def insert_many(
    conn: Any,
    table: Table,
    rows: list[dict[str, Any]] | list[tuple[Any, ...]],
    columns: list[str] | None = None,
) -> None:
    """Insert many rows fast.

    ``executemany`` on the raw cursor (SQLite), ``COPY`` (PostgreSQL with
    psycopg), else SQLAlchemy's executemany.

    Column defaults defined in Python are applied (once per call), and values
    go through each column type's bind processing, so the stored rows equal
    those of an ORM insert.
    """
    if not rows:
        return
    if columns is None:
        names = list(rows[0])  # type: ignore[arg-type]
        tuples = [tuple(r.values()) for r in rows]  # type: ignore[union-attr]
    else:
        names = list(columns)
        tuples = rows  # type: ignore[assignment]
    defaults = _column_defaults(table, set(names))
    dialect = conn.dialect
    if dialect.name not in ("sqlite", "postgresql") or (
        dialect.name == "postgresql" and dialect.driver != "psycopg"
    ):
        conn.execute(
            table.insert(),
            [{**defaults, **dict(zip(names, r, strict=True))} for r in tuples],
        )
        return
    cols = names + list(defaults)
    procs = [table.c[c].type._cached_bind_processor(dialect) for c in cols]
    const = [defaults[c] for c in defaults]
    const = [
        proc(v) if proc else v
        for proc, v in zip(procs[len(names) :], const, strict=True)
    ]
    given = [(j, p) for j, p in enumerate(procs[: len(names)]) if p is not None]
    if given:
        # one pass over the rows, converting only the columns that need it
        data = []
        for r in tuples:
            row = list(r)
            for j, proc in given:
                row[j] = proc(row[j])
            data.append((*row, *const))
    else:
        data = tuples if not const else [(*r, *const) for r in tuples]
    prep = dialect.identifier_preparer
    tname = prep.format_table(table)
    collist = ", ".join(prep.quote(c) for c in cols)
    if dialect.name == "sqlite":
        marks = ", ".join("?" for _ in cols)
        conn.exec_driver_sql(f"INSERT INTO {tname} ({collist}) VALUES ({marks})", data)
        return
    raw = conn.connection.dbapi_connection
    with raw.cursor() as cur, cur.copy(f"COPY {tname} ({collist}) FROM STDIN") as copy:
        for d in data:
            copy.write_row(d)


def import_table(
    conn: Any,
    target: LoadTarget,
    table: OntologyTable,
    source: Mapping[str, Any],
    *,
    subset: Iterable[str] | None = None,
) -> ImportResult:
    """Import ``table`` into ``target`` as the release described by ``source``.

    With ``subset``, only those terms and their ancestors are imported (new
    ones inserted, missing links added; nothing updated, flagged or removed,
    and the Source is not marked fully imported): what saving one public
    record with its ancestor chain needs, in a fixed number of statements.

    Args:
        conn: A SQLAlchemy Connection. Without an open transaction the import
            runs in its own and commits; inside one it joins it (the caller
            commits or rolls back).
        target: The tables and columns to write.
        table: The parsed release (active terms and obsolete ones).
        source: ``entity, name, organism, version, url, checksum, description``.
        subset: Term ids to import with their ancestors (None: all).

    Returns:
        What was inserted, updated, flagged and linked.

    Example:
        >>> with engine.connect() as conn:  # doctest: +SKIP
        ...     import_table(conn, target, table, {"entity": "CellType", "name": "cl",
        ...                  "organism": "all", "version": "2026-03-26",
        ...                  "checksum": found.checksum})
        ImportResult(source_id=1, inserted=3324, ...)
    """
    start = time.perf_counter()
    keys = None if subset is None else ancestors_closure(table, subset)
    if conn.in_transaction():
        result = _import(conn, target, table, source, keys)
    else:
        with conn.begin():
            result = _import(conn, target, table, source, keys)
    result.seconds = time.perf_counter() - start
    return result


def ancestors_closure(table: OntologyTable, ids: Iterable[str]) -> list[str]:
    """``ids`` and all their ancestors in ``table`` (unknown ids dropped)."""
    spec = table.entity
    terms = table.terms
    known = terms[spec.id_field].tolist()
    if not spec.hierarchical:
        wanted = set(ids)
        return [i for i in known if i in wanted]
    parents = dict(zip(known, terms["parents"].tolist(), strict=True))
    seen: dict[str, None] = {}
    stack = [i for i in ids if i in parents]
    while stack:
        tid = stack.pop()
        if tid in seen:
            continue
        seen[tid] = None
        stack.extend(p for p in parents[tid] if p in parents and p not in seen)
    return list(seen)


def _fit(
    table: Table,
    id_column: str,
    ids: list[str],
    dbcols: list[str],
    values: list[list[Any]],
) -> tuple[list[int], list[tuple[str, str]]]:
    """Positions of the terms that fit their columns, and the others named.

    PostgreSQL rejects them (the whole transaction would fail); SQLite would
    store them silently longer than declared.
    """
    bad: dict[int, str] = {}
    checks = [(id_column, ids)] + list(zip(dbcols, values, strict=True))
    for col, column_values in checks:
        length = getattr(table.c[col].type, "length", None)
        if not length:
            continue
        for i, v in enumerate(column_values):
            if v.__class__ is str and len(v) > length and i not in bad:
                bad[i] = f"{col} longer than {length} characters"
    if not bad:
        return list(range(len(ids))), []
    keep = [i for i in range(len(ids)) if i not in bad]
    rejected = [(ids[i], reason) for i, reason in bad.items()]
    logger.warning(
        "%d term(s) not imported, values too long for %s: %s",
        len(rejected),
        table.name,
        ", ".join(f"{i} ({r})" for i, r in rejected[:5]),
    )
    return keep, rejected


def _import(
    conn: Any,
    target: LoadTarget,
    parsed: OntologyTable,
    source: Mapping[str, Any],
    keys: list[str] | None = None,
) -> ImportResult:
    spec = parsed.entity
    t = target.table
    pk = _pk(t)
    key = t.c[target.id_column]
    sfk = t.c[target.source_fk]
    sid, done = _source_row(conn, target, source, create_done=keys is None)
    if done:
        return ImportResult(source_id=sid, skipped=True)
    terms = parsed.terms
    if keys is not None:
        terms = terms[terms[spec.id_field].isin(set(keys))]
    ids: list[str] = terms[spec.id_field].tolist()
    canon = [c for c in target.columns if c in terms.columns]
    dbcols = [target.columns[c] for c in canon]
    values = [terms[c].tolist() for c in canon]
    obs_col = target.obsolete_column
    rep_col = target.replaced_by_column if obs_col else None
    has_parents = target.link_table is not None and "parents" in terms.columns
    parent_lists = terms["parents"].tolist() if has_parents else []
    keep, rejected = _fit(t, target.id_column, ids, dbcols, values)
    if rejected:
        ids = [ids[i] for i in keep]
        values = [[col[i] for i in keep] for col in values]
        parent_lists = [parent_lists[i] for i in keep] if has_parents else []

    # stored rows of the registry that carry a term id
    sel = [pk, key, sfk, *(t.c[c] for c in dbcols)]
    if obs_col:
        sel.append(t.c[obs_col])
    if keys is None:
        rows = fetch_all(conn, select(*sel).where(key.isnot(None)))
    else:
        rows = [
            r
            for chunk in _chunks(keys)
            for r in conn.execute(select(*sel).where(key.in_(chunk)))
        ]
    stored: dict[str, tuple[Any, ...]] = {r[1]: tuple(r) for r in rows}
    defaults = {
        col: (value() if callable(value) else value)
        for col, value in target.defaults.items()
    }
    # new rows as tuples in one column order (no per-row dicts)
    new_cols = [target.id_column, target.source_fk, *dbcols]
    make_uid = target.make_uid if target.uid_column else None
    if make_uid is not None:
        new_cols.append(target.uid_column)  # type: ignore[arg-type]
    const: tuple[Any, ...] = ()
    if obs_col:
        new_cols.append(obs_col)
        const = (False,)
    extra = [c for c in defaults if c not in new_cols]
    new_cols += extra
    const += tuple(defaults[c] for c in extra)
    new_rows: list[tuple[Any, ...]] = []
    updates: list[dict[str, Any]] = []
    n_cols = len(dbcols)
    if not stored:
        # first import: every term is new; build the rows column-wise
        columns: list[Any] = [ids, [sid] * len(ids), *values]
        if make_uid is not None:
            columns.append([make_uid(tid) for tid in ids])
        columns += [[c] * len(ids) for c in const]
        new_rows = list(zip(*columns, strict=True))
    value_rows = (
        (zip(*values, strict=True) if values else [()] * len(ids)) if stored else ()
    )
    for tid, row_tuple in zip(ids if stored else (), value_rows, strict=True):
        row_values = list(row_tuple)
        old = stored.get(tid)
        if old is not None and keys is not None:
            continue  # saving a subset never rewrites stored records
        if old is None:
            if make_uid is not None:
                new_rows.append((tid, sid, *row_values, make_uid(tid), *const))
            else:
                new_rows.append((tid, sid, *row_values, *const))
            continue
        changed = list(old[3 : 3 + n_cols]) != row_values or old[2] != sid
        if obs_col and old[-1]:
            changed = True  # back from obsolete
        if changed:
            upd = {"_pk": old[0], "_source": sid}
            for j, value in enumerate(row_values):
                upd[f"_v{j}"] = value
            updates.append(upd)
    with indexes_deferred(conn, t, len(new_rows), len(stored)):
        insert_many(conn, t, new_rows, new_cols)
    if updates:
        stmt = (
            t.update()
            .where(pk == bindparam("_pk"))
            .values(
                {
                    target.source_fk: bindparam("_source"),
                    **{c: bindparam(f"_v{j}") for j, c in enumerate(dbcols)},
                    **({obs_col: False} if obs_col else {}),
                    **({rep_col: None} if rep_col else {}),
                }
            )
        )
        conn.execute(stmt, updates)

    # obsolete: flagged by the release, or dropped since an older release
    obsoleted = 0
    active = set(ids)
    if obs_col and keys is None:
        older = set(_older_sources(conn, target, source, sid))
        obs = parsed.obsolete
        replaced = dict(
            zip(
                obs[spec.id_field].tolist(),
                obs["replaced_by"].tolist()
                if "replaced_by" in obs.columns
                else [None] * len(obs),
                strict=True,
            )
        )
        to_flag = [
            (row[0], tid)
            for tid, row in stored.items()
            if tid not in active
            and not row[-1]
            and (tid in replaced or row[2] in older)
        ]
        if to_flag:
            flag: dict[str, Any] = {obs_col: True}
            if rep_col:
                flag[rep_col] = bindparam("_rep")
            stmt = t.update().where(pk == bindparam("_pk")).values(flag)
            conn.execute(
                stmt,
                [
                    {"_pk": p, "_rep": _replacement(replaced.get(tid))}
                    for p, tid in to_flag
                ]
                if rep_col
                else [{"_pk": p} for p, _ in to_flag],
            )
        obsoleted = len(to_flag)

    added = removed = 0
    if has_parents:
        added, removed = _link(conn, target, ids, parent_lists, subset=keys is not None)
    if keys is None:
        _finish_source(conn, target, source, sid)
    result = ImportResult(
        source_id=sid,
        inserted=len(new_rows),
        updated=len(updates),
        obsoleted=obsoleted,
        links_added=added,
        links_removed=removed,
        rejected=rejected,
    )
    if keys is not None:
        logger.log(
            SUCCESS,
            "saved %d term(s) and %d parent link(s) from %s %s",
            result.inserted,
            added,
            source.get("name"),
            source.get("version"),
        )
        return result
    logger.log(
        SUCCESS,
        "imported %s %s %s: %d new, %d updated, %d obsolete, "
        "%d links added, %d removed",
        source.get("entity"),
        source.get("name"),
        source.get("version"),
        result.inserted,
        result.updated,
        result.obsoleted,
        added,
        removed,
    )
    return result


def _replacement(value: Any) -> str | None:
    """A replaced_by value as stored: an id, or None (NaN, empty)."""
    if value is None or value != value or value == "":
        return None
    return str(value)


def _link(
    conn: Any,
    target: LoadTarget,
    ids: list[str],
    parents: list[list[str]],
    *,
    subset: bool = False,
) -> tuple[int, int]:
    """Add the release's parent links, drop links it no longer has.

    With ``subset`` (``ids`` hold every ancestor), links are only added.
    """
    t = target.table
    lt = target.link_table
    assert lt is not None
    pk = _pk(t)
    key = t.c[target.id_column]
    if subset:
        id_of = {
            k: v
            for chunk in _chunks(ids)
            for k, v in conn.execute(select(key, pk).where(key.in_(chunk)))
        }
    else:
        id_of = dict(fetch_all(conn, select(key, pk).where(key.isnot(None))))
    wanted: set[tuple[Any, Any]] = set()
    for tid, plist in zip(ids, parents, strict=True):
        if not plist:
            continue
        child = id_of[tid]
        for p in plist:
            parent = id_of.get(p)
            if parent is not None and parent != child:
                wanted.add((child, parent))
    c_col, p_col = lt.c[target.link_child], lt.c[target.link_parent]
    if subset:
        children = sorted({c for c, _ in wanted})
        existing = {
            tuple(r)
            for chunk in _chunks(children)
            for r in conn.execute(select(c_col, p_col).where(c_col.in_(chunk)))
        }
        add = sorted(wanted - existing)
        insert_many(conn, lt, add, [target.link_child, target.link_parent])
        return len(add), 0
    existing = set(fetch_all(conn, select(c_col, p_col)))
    # sorted: the unique (child, parent) index fills in order, ~2x faster
    add = sorted(wanted - existing)
    members = {id_of[i] for i in ids}
    stale = [(c, p) for c, p in existing - wanted if c in members and p in members]
    with indexes_deferred(conn, lt, len(add), len(existing)):
        insert_many(conn, lt, add, [target.link_child, target.link_parent])
    if stale:
        for chunk in _chunks(stale):
            conn.execute(lt.delete().where(tuple_(c_col, p_col).in_(chunk)))
    return len(add), len(stale)


def _finish_source(
    conn: Any, target: LoadTarget, source: Mapping[str, Any], sid: Any
) -> None:
    st = target.source_table
    sc = target.source_columns
    values: dict[str, Any] = {}
    if "in_db" in sc:
        values[sc["in_db"]] = True
    if "currently_used" in sc:
        values[sc["currently_used"]] = True
        others = [r for r in _older_sources(conn, target, source, sid)]
        if others:
            conn.execute(
                st.update()
                .where(_pk(st).in_(others))
                .values({sc["currently_used"]: False})
            )
    if values:
        conn.execute(st.update().where(_pk(st) == sid).values(values))


def count_rows(conn: Any, table: Table) -> int:
    """The number of rows of ``table`` (for reports and tests)."""
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def is_imported(conn: Any, target: LoadTarget, source: Mapping[str, Any]) -> bool:
    """Whether the release is fully imported already, with the same checksum."""
    st = target.source_table
    sc = target.source_columns
    if "in_db" not in sc:
        return False
    conds = [
        st.c[sc[f]] == source.get(f)
        for f in ("entity", "name", "organism", "version", "checksum")
        if f in sc
    ]
    row = conn.execute(select(st.c[sc["in_db"]]).where(and_(*conds))).first()
    return bool(row and row[0])


def import_release(
    conn: Any,
    target: LoadTarget,
    entity: str,
    *,
    source: str | None = None,
    version: str | None = None,
    organism: str | None = None,
    format: str | None = None,
    file: Any = None,
    entity_label: str | None = None,
    subset: Iterable[str] | None = None,
) -> ImportResult:
    """Resolve a release, and import it unless it is imported already.

    The check needs only the files' checksum, so re-importing the same release
    neither parses nor reads the parsed cache.

    Args:
        conn: A SQLAlchemy Connection (see :func:`import_table`).
        target: The tables and columns to write.
        entity: ``"CellType"``, ``"Gene"``, ...
        source: The source key (default: the manifest's default).
        version: The release (default: the manifest's first).
        organism: For per-organism sources.
        format: Prefer this format's release.
        file: Read this file or URL instead.
        entity_label: The Source row's ``entity`` (default: ``entity``), e.g.
            ``"bionty.CellType"``.
        subset: Import only these ids with their ancestors.

    Example:
        >>> with engine.connect() as conn:  # doctest: +SKIP
        ...     import_release(conn, target, "CellType", version="2026-03-26")
    """
    from lamin_sa.ontology.load import load_source
    from lamin_sa.ontology.sources import resolve

    start = time.perf_counter()
    found = resolve(
        entity,
        source=source,
        version=version,
        organism=organism,
        format=format,
        file=file,
    )
    row = {
        "entity": entity_label or entity,
        "name": found.name,
        "organism": organism or found.organism,
        "version": found.version,
        "url": ", ".join(found.spec.url) or None,
        "checksum": found.checksum,
        "description": found.spec.description or None,
    }
    if subset is None:
        done = (
            is_imported(conn, target, row)
            if conn.in_transaction()
            else _in_tx(conn, lambda: is_imported(conn, target, row))
        )
        if done:
            return ImportResult(
                source_id=None, skipped=True, seconds=time.perf_counter() - start
            )
    names = ["parsing", "writing terms and parent links"]
    desc = f"importing {entity} from {found.name} {found.version}"
    # a full release takes seconds to minutes: always worth a bar
    with steps(desc, names, work=None if subset is None else 0, unit="term") as bar:
        table, _ = load_source(
            entity,
            source=found.name,
            version=found.version,
            organism=organism,
            format=format or found.format or None,
            file=file,
        )
        bar.advance()
        result = import_table(conn, target, table, row, subset=subset)
    result.seconds = time.perf_counter() - start
    return result


def _in_tx(conn: Any, fn: Callable[[], Any]) -> Any:
    with conn.begin():
        return fn()
