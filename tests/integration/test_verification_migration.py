"""The role migrations (0008 regulator, 0009 verification roles) on a database in use: the
new roles are allowed, unknown roles still refused, and nothing that refers to a user
(sessions, tokens, idempotency keys) is lost. SQLite copies a table to change a CHECK, and
the copy of `users` deleted, by cascade, what refers to it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command

from liaison.store import Database, utcnow
from liaison.store.database import alembic_config

REFERRING = ("api_tokens", "web_sessions", "idempotency_keys")


def _user_with_sessions_tokens_and_keys(database: Database) -> None:
    now = utcnow()
    with database.engine.begin() as connection:
        connection.execute(
            sa.text("INSERT INTO agencies (name, created_at) VALUES ('DHS', :now)"), {"now": now}
        )
        connection.execute(
            sa.text(
                "INSERT INTO users (username, password_hash, role, agency_id, disabled, "
                "created_at) VALUES ('ian', 'h', 'officer', 1, false, :now)"
            ),
            {"now": now},
        )
        for table, columns in (
            ("api_tokens", "token_hash, user_id, created_at, expires_at) VALUES ('t', 1, "),
            ("web_sessions", "token_hash, csrf_token, user_id, created_at, expires_at) VALUES "
             "('s', 'c', 1, "),
        ):  # fmt: skip
            connection.execute(sa.text(f"INSERT INTO {table} ({columns}:now, :now)"), {"now": now})
        connection.execute(
            sa.text(
                "INSERT INTO idempotency_keys (user_id, key, request_hash, status, response, "
                "created_at, expires_at) VALUES (1, 'k', 'h', 201, '{}', :now, :now)"
            ),
            {"now": now},
        )


def _referring_rows(database: Database) -> list[int]:
    with database.engine.begin() as connection:
        return [
            connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in REFERRING
        ]


def test_the_roles_migration_keeps_what_refers_to_users(database_url: str) -> None:
    database = Database(database_url)
    database.upgrade("0005")  # before this wave's migrations of users
    _user_with_sessions_tokens_and_keys(database)
    database.upgrade()
    assert _referring_rows(database) == [1, 1, 1]
    with database.engine.begin() as connection:
        connection.execute(sa.text("UPDATE users SET role = 'regulator'"))
        connection.execute(sa.text("UPDATE users SET role = 'immigration_officer'"))
    with pytest.raises(sa.exc.IntegrityError), database.engine.begin() as connection:
        connection.execute(sa.text("UPDATE users SET role = 'nobody'"))
    database.dispose()


def test_downgrading_this_wave_keeps_what_refers_to_users(database_url: str) -> None:
    database = Database(database_url)
    database.upgrade()
    _user_with_sessions_tokens_and_keys(database)
    with database.engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0005")
    assert _referring_rows(database) == [1, 1, 1]
    database.dispose()
