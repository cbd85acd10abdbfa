"""Nationality verification cases: cases, their events, per-peer agreements, registry
imports; the roles `immigration_officer`, `verifier` and `supervisor` (role names up to
32 characters, in accounts and in the audit trail).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

from liaison.store.base import UTCDateTime
from liaison.store.sqlite_schema import edit_sqlite_table, set_role_check

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None

ROLES_BEFORE = "role in ('admin', 'officer', 'analyst', 'auditor', 'regulator')"
ROLES_AFTER = (
    "role in ('admin', 'officer', 'analyst', 'auditor', 'regulator', "
    "'immigration_officer', 'verifier', 'supervisor')"
)
STATUSES = (
    "status in ('requested', 'information_requested', 'confirmed', 'not_confirmed', "
    "'travel_document_issued', 'travel_scheduled', 'returned', 'closed', 'withdrawn')"
)


def _roles(check: str, length: int) -> None:
    if op.get_bind().dialect.name == "postgresql":
        # The constraint's name as migration 0008 left it (op.f: no convention applied).
        with op.batch_alter_table("users") as batch:
            batch.drop_constraint(op.f("ck_users_role"), type_="check")
            batch.alter_column("role", type_=sa.String(length), existing_nullable=False)
            batch.create_check_constraint(op.f("ck_users_role"), check)
        # A type change rewrites no row of the append-only trail.
        op.alter_column("audit_entries", "role", type_=sa.String(length), existing_nullable=True)
        return
    # SQLite would copy the table, deleting by cascade what refers to users: edit in place.
    connection = op.get_bind()
    role = re.compile(r"\brole VARCHAR\(\d+\)")
    edit_sqlite_table(connection, "users", lambda sql: role.sub(f"role VARCHAR({length})", sql))
    set_role_check(connection, check)
    edit_sqlite_table(
        connection, "audit_entries", lambda sql: role.sub(f"role VARCHAR({length})", sql)
    )


def _shared() -> list[sa.Column[object]]:
    return [
        sa.Column("global_id", sa.String(36), nullable=False),
        sa.Column("owner_node", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    ]


def upgrade() -> None:
    _roles(ROLES_AFTER, 32)
    op.create_table(
        "verification_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("peer_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(100), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("evidence", sa.String(16), nullable=False),
        sa.Column("protection_claim", sa.Boolean(), nullable=False),
        sa.Column("requester_agency", sa.String(200), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("due_step", sa.String(32), nullable=True),
        sa.Column("silence_agrees", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("purged_at", UTCDateTime(), nullable=True),
        sa.Column("subject_sealed", sa.LargeBinary(), nullable=True),
        *_shared(),
        sa.CheckConstraint(STATUSES, name=op.f("ck_verification_cases_status")),
        sa.CheckConstraint(
            "evidence in ('proving', 'starting', 'none')",
            name=op.f("ck_verification_cases_evidence"),
        ),
        sa.ForeignKeyConstraint(
            ["peer_id"], ["peers.id"], name=op.f("fk_verification_cases_peer_id_peers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_cases")),
        sa.UniqueConstraint("global_id", name=op.f("uq_verification_cases_global_id")),
    )
    with op.batch_alter_table("verification_cases") as batch:
        for column in ("peer_id", "reference", "status", "due_at", "closed_at"):
            batch.create_index(batch.f(f"ix_verification_cases_{column}"), [column])
    op.create_table(
        "verification_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("author_agency", sa.String(200), nullable=False),
        sa.Column("target", sa.String(36), nullable=True),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("data_sealed", sa.LargeBinary(), nullable=True),
        *_shared(),
        sa.CheckConstraint(
            "kind in ('decision', 'step', 'hold', 'lift')",
            name=op.f("ck_verification_events_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["verification_cases.id"],
            name=op.f("fk_verification_events_case_id_verification_cases"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_events")),
        sa.UniqueConstraint("global_id", name=op.f("uq_verification_events_global_id")),
    )
    with op.batch_alter_table("verification_events") as batch:
        for column in ("case_id", "target"):
            batch.create_index(batch.f(f"ix_verification_events_{column}"), [column])
    op.create_table(
        "verification_agreements",
        sa.Column("peer_id", sa.Integer(), nullable=False),
        sa.Column("deadlines", sa.Text(), nullable=False),
        sa.Column("refused_fields", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["peer_id"], ["peers.id"], name=op.f("fk_verification_agreements_peer_id_peers")
        ),
        sa.PrimaryKeyConstraint("peer_id", name=op.f("pk_verification_agreements")),
    )
    op.create_table(
        "registry_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("imported_at", UTCDateTime(), nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("file", sa.String(200), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("problems", sa.Integer(), nullable=False),
        sa.Column("imported_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_imports")),
    )


def downgrade() -> None:
    op.drop_table("registry_imports")
    op.drop_table("verification_agreements")
    op.drop_table("verification_events")
    op.drop_table("verification_cases")
    _roles(ROLES_BEFORE, 16)
