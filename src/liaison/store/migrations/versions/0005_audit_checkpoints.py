"""The audit trail at scale and anchored at the peer: entries record the actor's kind
(user, system, peer) and role; the verified checkpoint (so the audit page checks only
what was added since); the checkpoints of this node's head sent to peers, and those
of the peers' heads this node keeps.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from liaison.store.base import UTCDateTime, utcnow

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64


def upgrade() -> None:
    # Nullable, added in place: earlier entries keep their content and their hash.
    op.add_column("audit_entries", sa.Column("actor_kind", sa.String(8), nullable=True))
    op.add_column("audit_entries", sa.Column("role", sa.String(16), nullable=True))
    verified = op.create_table(
        "audit_verified",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("verified_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_verified"),
    )
    op.bulk_insert(verified, [{"id": 1, "seq": 0, "hash": GENESIS_HASH, "verified_at": utcnow()}])
    op.create_table(
        "audit_checkpoints_sent",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_checkpoints_sent"),
    )
    op.create_table(
        "audit_checkpoints_held",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("peer_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_checkpoints_held"),
        sa.ForeignKeyConstraint(
            ["peer_id"], ["peers.id"], name="fk_audit_checkpoints_held_peer_id_peers"
        ),
        sa.UniqueConstraint("peer_id", "seq", name="uq_audit_checkpoints_held_peer"),
    )


def downgrade() -> None:
    op.drop_table("audit_checkpoints_held")
    op.drop_table("audit_checkpoints_sent")
    op.drop_table("audit_verified")
    # In place (SQLite >= 3.35 drops columns without rebuilding the table and its triggers).
    op.drop_column("audit_entries", "role")
    op.drop_column("audit_entries", "actor_kind")
