"""Schema changes that SQLite makes only by copying a table, done in place instead.

Copying `users` (Alembic's batch mode) would delete, by cascade, the sessions, tokens and
screenings that refer to it. A looser CHECK or a longer VARCHAR changes nothing stored, so
the table's definition is edited in place, as SQLite documents for such changes ("Making
Other Kinds Of Table Schema Changes", sqlite.org/lang_altertable.html).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy.engine import Connection

ROLE_CHECK = re.compile(r"CHECK \(role in \([^)]*\)\)")


def edit_sqlite_table(connection: Connection, table: str, edit: Callable[[str], str]) -> None:
    sql = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar_one()
    edited = edit(sql)
    if edited == sql:
        raise RuntimeError(f"the definition of {table} is not the one this migration expects")
    version = connection.exec_driver_sql("PRAGMA schema_version").scalar_one()
    connection.exec_driver_sql("PRAGMA writable_schema = ON")
    connection.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (edited, table)
    )
    connection.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    connection.exec_driver_sql("PRAGMA writable_schema = OFF")


def set_role_check(connection: Connection, check: str) -> None:
    """Replace the users table's role CHECK with `check` (SQLite, in place)."""
    edit_sqlite_table(connection, "users", lambda sql: ROLE_CHECK.sub(f"CHECK ({check})", sql))
