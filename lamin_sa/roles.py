"""Who may read or write a shared PostgreSQL instance: database roles.

lamin-sa keeps no access list of its own. ``grant(user, "read")`` gives a
PostgreSQL role ``SELECT`` on the instance's tables, ``"write"`` adds
``INSERT/UPDATE/DELETE`` and the sequences; both also cover tables that later
migrations create. Data in object stores stays under the bucket's own policies.
"""

from __future__ import annotations

import logging
from typing import Literal

from sqlalchemy import Connection, text

from lamin_sa.db.session import current
from lamin_sa.errors import RoleError

logger = logging.getLogger(__name__)

Access = Literal["read", "write"]
_TABLE_RIGHTS = {"read": "SELECT", "write": "SELECT, INSERT, UPDATE, DELETE"}
_SEQUENCE_RIGHTS = {"read": "SELECT", "write": "USAGE, SELECT, UPDATE"}


def _connection() -> Connection:
    session = current().session
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        raise RoleError(
            "Roles need a PostgreSQL instance; a SQLite instance's access follows "
            "its file's permissions."
        )
    return conn


def _quoted(conn: Connection, role: str) -> str:
    exists = conn.execute(
        text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}
    ).first()
    if exists is None:
        raise RoleError(
            f"No database role {role!r}: create it first, e.g. in psql: "
            f"CREATE ROLE \"{role}\" LOGIN PASSWORD '...';"
        )
    return conn.dialect.identifier_preparer.quote(role)


def _schema(conn: Connection) -> str:
    return conn.dialect.identifier_preparer.quote(
        str(conn.execute(text("SELECT current_schema()")).scalar_one())
    )


def grant(user: str, access: Access = "read") -> None:
    """Give a PostgreSQL role read or write access to the connected instance.

    Args:
        user: The database role (it must exist; create it with ``CREATE ROLE``).
        access: ``"read"`` (queries only) or ``"write"`` (also saves).

    Example:
        >>> from lamin_sa.roles import grant
        >>> grant("alice", "write")  # doctest: +SKIP
    """
    if access not in _TABLE_RIGHTS:
        raise RoleError(f"Unknown access {access!r}: use 'read' or 'write'.")
    session = current().session
    conn = _connection()
    role = _quoted(conn, user)
    schema = _schema(conn)
    database = conn.dialect.identifier_preparer.quote(
        str(conn.execute(text("SELECT current_database()")).scalar_one())
    )
    # A downgrade from write to read first takes the write rights back.
    _revoke_all(conn, role, schema)
    statements = [
        f"GRANT CONNECT ON DATABASE {database} TO {role}",
        f"GRANT USAGE ON SCHEMA {schema} TO {role}",
        f"GRANT {_TABLE_RIGHTS[access]} ON ALL TABLES IN SCHEMA {schema} TO {role}",
        f"GRANT {_SEQUENCE_RIGHTS[access]} ON ALL SEQUENCES IN SCHEMA {schema} "
        f"TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT {_TABLE_RIGHTS[access]} "
        f"ON TABLES TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT "
        f"{_SEQUENCE_RIGHTS[access]} ON SEQUENCES TO {role}",
    ]
    for statement in statements:
        conn.execute(text(statement))
    session.commit()
    logger.info("granted %s access to %s", access, user)


def _revoke_all(conn: Connection, role: str, schema: str) -> None:
    for statement in (
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} REVOKE ALL ON TABLES FROM {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} REVOKE ALL ON SEQUENCES "
        f"FROM {role}",
    ):
        conn.execute(text(statement))


def revoke(user: str) -> None:
    """Take a PostgreSQL role's access to the connected instance's tables away.

    Args:
        user: The database role.

    Example:
        >>> from lamin_sa.roles import revoke
        >>> revoke("alice")  # doctest: +SKIP
    """
    session = current().session
    conn = _connection()
    role = _quoted(conn, user)
    _revoke_all(conn, role, _schema(conn))
    session.commit()
    logger.info("revoked the access of %s", user)
