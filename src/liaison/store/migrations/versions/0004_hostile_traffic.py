"""The node under hostile traffic: refusal windows per client address (one audit entry
per window instead of one per refused envelope), records the peer refused (reported
back in its acknowledgement), the write probe of /readyz, and idempotency keys of API POSTs.

Revision ID: 0004
Revises: 0003_audit_append_only
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from liaison.store.base import UTCDateTime

revision = "0004"
down_revision = "0003_audit_append_only"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "federation_refusal_windows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("closes_at", UTCDateTime(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.Column("throttled", sa.Integer(), nullable=False),
        sa.Column("first_reason", sa.String(length=300), nullable=False),
        sa.Column("last_reason", sa.String(length=300), nullable=False),
        sa.Column("last_claimed_sender", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_refusal_windows")),
        sa.UniqueConstraint("address", name=op.f("uq_federation_refusal_windows_address")),
    )
    op.create_index(
        op.f("ix_federation_refusal_windows_closes_at"),
        "federation_refusal_windows",
        ["closes_at"],
    )
    op.create_table(
        "refused_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("peer_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("record_type", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("refused_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["peer_id"], ["peers.id"], name=op.f("fk_refused_records_peer_id_peers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refused_records")),
        sa.UniqueConstraint("peer_id", "seq", name="uq_refused_records_peer_seq"),
    )
    op.create_index(op.f("ix_refused_records_record_id"), "refused_records", ["record_id"])
    probe = op.create_table(
        "write_probe",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("probed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_write_probe")),
    )
    op.bulk_insert(probe, [{"id": 1, "probed_at": datetime.now(UTC)}])
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_idempotency_keys_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_key"),
    )
    op.create_index(op.f("ix_idempotency_keys_expires_at"), "idempotency_keys", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_idempotency_keys_expires_at"), table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    op.drop_table("write_probe")
    op.drop_index(op.f("ix_refused_records_record_id"), table_name="refused_records")
    op.drop_table("refused_records")
    op.drop_index(
        op.f("ix_federation_refusal_windows_closes_at"), table_name="federation_refusal_windows"
    )
    op.drop_table("federation_refusal_windows")
