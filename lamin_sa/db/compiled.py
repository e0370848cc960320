"""Reads run as driver SQL, compiled once per statement shape.

``QuerySet.df()`` builds a new statement per call. SQLAlchemy finds its compiled
form in the engine's cache, but then adapts the cached result metadata and
parameters to the new statement object: about 0.25 ms per read, more than
building the frame of 1,000 rows takes. A read that fetches raw DBAPI rows needs
none of that. :func:`run_select` keeps the compiled SQL per cache key and passes
the new statement's bound values to ``exec_driver_sql`` (so engine events still
see every statement).

Statements with bound values expanded only at execution time (``IN`` lists,
literal-rendered values) run through ``Connection.execute`` as before.
"""

from __future__ import annotations

from typing import Any

#: compiled reads by (dialect name, statement cache key); cleared when full
_COMPILED: dict[tuple[str, Any], _CompiledSelect | None] = {}
_MAX_COMPILED = 512


class _CompiledSelect:
    """One SELECT compiled for a dialect: driver SQL, parameter order, processors.

    ``slots`` names the compiled parameter of each bound value in the cache key,
    in cache key order: the bound values of any statement with the same key fill
    them in that order.
    """

    def __init__(self, compiled: Any, slots: list[str], dialect: Any) -> None:
        self.sql: str = compiled.string
        self.slots = slots
        # parameters without a value (``bindparam("hash")``) are given per call
        self.required = {
            name for bind, name in compiled.bind_names.items() if bind.required
        }
        self.base: dict[str, Any] = compiled.construct_params(
            dict.fromkeys(self.required)
        )
        self.order: list[str] | None = (
            list(compiled.positiontup) if compiled.positional else None
        )
        self.procs: dict[str, Any] = {}
        for bind, name in compiled.bind_names.items():
            proc = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if proc is not None:
                self.procs[name] = proc

    def parameters(self, cache_key: Any, given: dict[str, Any] | None = None) -> Any:
        """The driver parameters of the statement ``cache_key`` was taken from.

        ``given`` binds values to parameters by name, as ``execute(stmt, given)``.
        """
        values = dict(self.base)
        for name, bind in zip(self.slots, cache_key.bindparams, strict=True):
            values[name] = bind.effective_value
        if given:
            values.update(given)
        missing = self.required.difference(given or ())
        if missing:
            raise ValueError(f"No value given for parameters {sorted(missing)}.")
        for name, proc in self.procs.items():
            values[name] = proc(values[name])
        if self.order is None:
            return values
        return tuple(values[name] for name in self.order)


def _compiled(stmt: Any, cache_key: Any, dialect: Any) -> _CompiledSelect | None:
    key = (dialect.name, cache_key.key)
    try:
        return _COMPILED[key]
    except KeyError:
        pass
    compiled = stmt.compile(dialect=dialect)
    names = compiled.bind_names
    usable = not (
        compiled.post_compile_params
        or compiled.literal_execute_params
        or compiled.escaped_bind_names
        or "POSTCOMPILE" in compiled.string
        or any(bind not in names for bind in cache_key.bindparams)
    )
    if len(_COMPILED) >= _MAX_COMPILED:
        _COMPILED.clear()
    found = _COMPILED[key] = (
        _CompiledSelect(compiled, [names[b] for b in cache_key.bindparams], dialect)
        if usable
        else None
    )
    return found


def driver_statement(
    stmt: Any, dialect: Any, given: dict[str, Any] | None = None
) -> tuple[str, Any] | None:
    """A SELECT as driver SQL and parameters, or None if SQLAlchemy must run it.

    Args:
        stmt: A Core SELECT.
        dialect: The dialect to compile it for.
        given: Values of its parameters by name, as for ``execute(stmt, given)``.

    Example:
        >>> sql, params = driver_statement(select(t.c.id).where(t.c.hash == 1), d)
    """
    cache_key = stmt._generate_cache_key()
    if cache_key is None:
        return None
    compiled = _compiled(stmt, cache_key, dialect)
    if compiled is None:
        return None
    return compiled.sql, compiled.parameters(cache_key, given)


def run_select(conn: Any, stmt: Any) -> Any:
    """Execute a Core SELECT on ``conn``; the DBAPI cursor result.

    Example:
        >>> run_select(session.connection(), select(ULabel.id)).cursor.fetchall()
        [(1,), (2,)]
    """
    found = driver_statement(stmt, conn.dialect)
    if found is not None:
        return conn.exec_driver_sql(*found)
    return conn.execute(stmt)
