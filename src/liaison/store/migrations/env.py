"""Alembic environment: always run on the connection the node hands over (see Database)."""

from __future__ import annotations

from alembic import context

from liaison.store.base import load_all_tables

target_metadata = load_all_tables()
connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `liaison db upgrade DIR` (liaison.store.Database)")

context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
