"""Turn raw database driver errors into one clear lamin-sa error.

The driver's messages (psycopg, sqlite3) are accurate but long and say nothing
about what to do; these helpers map the common failures (server down, wrong
password, damaged file, full disk) to an error of :mod:`lamin_sa.errors` whose
message is one line naming the database (never its password) and the fix.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from lamin_sa.config import redact, strip_credentials
from lamin_sa.errors import (
    AccessDenied,
    AuthenticationFailed,
    DatabaseCorrupt,
    DatabaseUnreachable,
    DatabaseWriteError,
    InstanceNotFound,
    LaminSAError,
)

_WRITE_FAILURES = (
    "database or disk is full",
    "disk i/o error",
    "attempt to write a readonly database",
    "no space left on device",
    "could not extend file",
    "could not write to file",
)
_UNREACHABLE = (
    "connection refused",
    "could not translate host name",
    "name or service not known",
    "temporary failure in name resolution",
    "no route to host",
    "timeout expired",
    "connection timed out",
    "network is unreachable",
    "no such file or directory",  # a Unix socket that is not there
    "server closed the connection unexpectedly",
)
_AUTH = (
    "password authentication failed",
    "no password supplied",
    "authentication failed",
    "role .* does not exist",
)
_CORRUPT = ("file is not a database", "database disk image is malformed")


def _reason(exc: DBAPIError) -> str:
    text = str(exc.orig if exc.orig is not None else exc)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return redact(lines[0] if lines else type(exc).__name__)


def _sqlstate(exc: DBAPIError) -> str:
    return str(getattr(exc.orig, "sqlstate", None) or "")


def _where(url: str) -> str:
    """``host:port/db`` or the SQLite path of a URL, without credentials."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return strip_credentials(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or ":memory:"
    host = parsed.host or "localhost (socket)"
    port = f":{parsed.port}" if parsed.port else ""
    return f"{host}{port}/{parsed.database or ''}"


# PostgreSQL's SQLSTATE for "insufficient privilege" (a read-only role).
_INSUFFICIENT_PRIVILEGE = "42501"


def write_error(exc: DBAPIError, user: str | None = None) -> LaminSAError | None:
    """The lamin-sa error for a refused write, or None if ``exc`` is another error.

    Args:
        exc: The driver's error.
        user: The database user who wrote, named in a permission error.

    Example:
        >>> write_error(err)  # doctest: +SKIP
        DatabaseWriteError('The database refused the write (database or disk is ...
    """
    if exc.connection_invalidated:
        return DatabaseWriteError(
            "The connection to the database was lost during the write; lamin-sa "
            "reconnects on the next call: check whether it was stored, then retry."
        )
    if _sqlstate(exc) == _INSUFFICIENT_PRIVILEGE:
        who = user or "this database user"
        return AccessDenied(
            f"The database refused to write: {who} has read-only access to this "
            f"instance; ask its owner to run `lamin-sa grant {user or 'USER'} --write`."
        )
    reason = _reason(exc)
    low = reason.lower()
    if _sqlstate(exc).startswith("53") or any(s in low for s in _WRITE_FAILURES):
        return DatabaseWriteError(
            f"The database refused the write ({reason}); nothing was saved: free "
            "disk space or fix the database file's permissions, then retry."
        )
    return None


def connect_error(exc: DBAPIError, url: str) -> LaminSAError | None:
    """The lamin-sa error for a failed connection to ``url``, or None.

    Example:
        >>> connect_error(err, "postgresql://me@db.example/lab")  # doctest: +SKIP
        DatabaseUnreachable('Cannot reach the database server db.example/lab ...
    """
    import re

    reason = _reason(exc)
    low = reason.lower()
    where = _where(url)
    state = _sqlstate(exc)
    if any(s in low for s in _CORRUPT) or state == "26000":
        return DatabaseCorrupt(
            f"{where} is not a readable SQLite database (damaged, or another kind "
            "of file): restore it from a backup, or move it away to start afresh."
        )
    if state.startswith("28") or any(re.search(s, low) for s in _AUTH):
        user = ""
        with contextlib.suppress(ArgumentError):
            user = make_url(url).username or ""
        who = f"user {user!r}" if user else "the user"
        return AuthenticationFailed(
            f"The database server {where} refused {who} ({reason}): give the "
            "password in the URL you connect with, in LAMIN_SA_DB_PASSWORD or in "
            "~/.pgpass."
        )
    if state == "3D000" or re.search(r"database .* does not exist", low):
        return InstanceNotFound(
            f"The database {where} does not exist: create it (createdb) or fix the URL."
        )
    if "unable to open database file" in low:
        return DatabaseUnreachable(
            f"Cannot open the SQLite file {where}: check that its folder exists and "
            "is readable."
        )
    if state.startswith("08") or any(s in low for s in _UNREACHABLE):
        return DatabaseUnreachable(
            f"Cannot reach the database server {where} ({reason}): check that it is "
            "running and that host and port are right."
        )
    return None


@contextlib.contextmanager
def translated(url: str) -> Iterator[None]:
    """Re-raise driver errors of connecting to ``url`` as one-line lamin-sa errors."""
    try:
        yield
    except DBAPIError as e:
        err = connect_error(e, url) or write_error(e)
        if err is None:
            raise
        raise err from e
