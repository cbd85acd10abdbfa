"""The node: agencies, accounts, sessions, API tokens, login failures, audit trail, screenings.

Revision ID: 0001_node
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from liaison.store.base import UTCDateTime

revision = "0001_node"
down_revision = None
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64


def upgrade() -> None:
    op.create_table(
        "agencies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_agencies"),
        sa.UniqueConstraint("name", name="uq_agencies_name"),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("disabled_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name="fk_users_agency_id_agencies"),
        sa.CheckConstraint(
            "role in ('admin', 'officer', 'analyst', 'auditor')", name="ck_users_role"
        ),
    )
    for table in ("web_sessions", "api_tokens"):
        columns: list[sa.schema.SchemaItem] = [
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("token_hash", sa.String(64), nullable=False),
            sa.Column("user_id", sa.Integer(), nullable=False),
            sa.Column("created_at", UTCDateTime(), nullable=False),
            sa.Column("expires_at", UTCDateTime(), nullable=False),
        ]
        if table == "web_sessions":
            columns += [
                sa.Column("csrf_token", sa.String(64), nullable=False),
                sa.Column("address", sa.String(64), nullable=True),
            ]
        else:
            columns.append(sa.Column("revoked_at", UTCDateTime(), nullable=True))
        op.create_table(
            table,
            *columns,
            sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
            sa.UniqueConstraint("token_hash", name=f"uq_{table}_token_hash"),
            sa.ForeignKeyConstraint(
                ["user_id"], ["users.id"], name=f"fk_{table}_user_id_users", ondelete="CASCADE"
            ),
        )
        op.create_index(f"ix_{table}_user_id", table, ["user_id"])
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_login_failures"),
    )
    for column in ("username", "address", "at"):
        op.create_index(f"ix_login_failures_{column}", "login_failures", [column])
    op.create_table(
        "audit_entries",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("agency", sa.String(200), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("record_type", sa.String(64), nullable=True),
        sa.Column("record_id", sa.String(100), nullable=True),
        sa.Column("address", sa.String(64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_entries"),
    )
    op.create_index("ix_audit_entries_action", "audit_entries", ["action"])
    audit_head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_head"),
    )
    op.bulk_insert(audit_head, [{"id": 1, "seq": 0, "hash": GENESIS_HASH}])
    op.create_table(
        "screening_runs",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.Column("results_csv", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_screening_runs"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_screening_runs_user_id_users",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_screening_runs_user_id", "screening_runs", ["user_id"])


def downgrade() -> None:
    for table in (
        "screening_runs",
        "audit_head",
        "audit_entries",
        "login_failures",
        "api_tokens",
        "web_sessions",
        "users",
        "agencies",
    ):
        op.drop_table(table)
