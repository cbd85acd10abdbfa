"""Federation and the hotline: peers, invites, outbox, delivery and inbound state, seen
nonces; hotline threads, messages and attachments.

Revision ID: 0002_federation
Revises: 0001_node
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from liaison.store.base import UTCDateTime

revision = "0002_federation"
down_revision = "0001_node"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "peer_invites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.Column("used_by_node", sa.String(length=32), nullable=True),
        sa.Column("used_by_key", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_peer_invites")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_peer_invites_secret_hash")),
    )
    op.create_table(
        "peers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("base_url", sa.String(length=500), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("default_agency", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint("status in ('active', 'revoked')", name=op.f("ck_peers_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_peers")),
        sa.UniqueConstraint("name", name=op.f("uq_peers_name")),
    )
    op.create_table(
        "hotline_threads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("peer_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("from_agency", sa.String(length=200), nullable=False),
        sa.Column("to_agency", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("last_message_at", UTCDateTime(), nullable=False),
        sa.Column("global_id", sa.String(length=36), nullable=False),
        sa.Column("owner_node", sa.String(length=32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "kind in ('lead', 'alert', 'request', 'response', 'note')",
            name=op.f("ck_hotline_threads_kind"),
        ),
        sa.CheckConstraint(
            "priority in ('routine', 'urgent', 'flash')", name=op.f("ck_hotline_threads_priority")
        ),
        sa.ForeignKeyConstraint(
            ["peer_id"], ["peers.id"], name=op.f("fk_hotline_threads_peer_id_peers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotline_threads")),
        sa.UniqueConstraint("global_id", name=op.f("uq_hotline_threads_global_id")),
    )
    with op.batch_alter_table("hotline_threads", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_hotline_threads_last_message_at"), ["last_message_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_hotline_threads_peer_id"), ["peer_id"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("peer_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("record_type", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["peer_id"], ["peers.id"], name=op.f("fk_outbox_peer_id_peers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("peer_id", "seq", name="uq_outbox_peer_seq"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_peer_id"), ["peer_id"], unique=False)

    op.create_table(
        "peer_delivery",
        sa.Column("peer_id", sa.Integer(), nullable=False),
        sa.Column("acked_seq", sa.BigInteger(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", UTCDateTime(), nullable=True),
        sa.Column("last_success_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["peer_id"], ["peers.id"], name=op.f("fk_peer_delivery_peer_id_peers")
        ),
        sa.PrimaryKeyConstraint("peer_id", name=op.f("pk_peer_delivery")),
    )
    op.create_table(
        "peer_inbound",
        sa.Column("peer_id", sa.Integer(), nullable=False),
        sa.Column("last_applied_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_received_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["peer_id"], ["peers.id"], name=op.f("fk_peer_inbound_peer_id_peers")
        ),
        sa.PrimaryKeyConstraint("peer_id", name=op.f("pk_peer_inbound")),
    )
    op.create_table(
        "seen_nonces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("peer_id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["peer_id"], ["peers.id"], name=op.f("fk_seen_nonces_peer_id_peers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seen_nonces")),
        sa.UniqueConstraint("peer_id", "nonce", name="uq_seen_nonces_peer_nonce"),
    )
    with op.batch_alter_table("seen_nonces", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_seen_nonces_seen_at"), ["seen_at"], unique=False)

    op.create_table(
        "hotline_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("author_agency", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("ack_due_at", UTCDateTime(), nullable=True),
        sa.Column("acked_at", UTCDateTime(), nullable=True),
        sa.Column("acked_by", sa.String(length=200), nullable=True),
        sa.Column("read_at", UTCDateTime(), nullable=True),
        sa.Column("read_by", sa.String(length=200), nullable=True),
        sa.Column("global_id", sa.String(length=36), nullable=False),
        sa.Column("owner_node", sa.String(length=32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["hotline_threads.id"],
            name=op.f("fk_hotline_messages_thread_id_hotline_threads"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotline_messages")),
        sa.UniqueConstraint("global_id", name=op.f("uq_hotline_messages_global_id")),
    )
    with op.batch_alter_table("hotline_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_hotline_messages_ack_due_at"), ["ack_due_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_hotline_messages_thread_id"), ["thread_id"], unique=False
        )

    op.create_table(
        "hotline_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["hotline_messages.id"],
            name=op.f("fk_hotline_attachments_message_id_hotline_messages"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotline_attachments")),
    )
    with op.batch_alter_table("hotline_attachments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_hotline_attachments_message_id"), ["message_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("hotline_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hotline_attachments_message_id"))

    op.drop_table("hotline_attachments")
    with op.batch_alter_table("hotline_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hotline_messages_thread_id"))
        batch_op.drop_index(batch_op.f("ix_hotline_messages_ack_due_at"))

    op.drop_table("hotline_messages")
    with op.batch_alter_table("seen_nonces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_seen_nonces_seen_at"))

    op.drop_table("seen_nonces")
    op.drop_table("peer_inbound")
    op.drop_table("peer_delivery")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_peer_id"))

    op.drop_table("outbox")
    with op.batch_alter_table("hotline_threads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hotline_threads_peer_id"))
        batch_op.drop_index(batch_op.f("ix_hotline_threads_last_message_at"))

    op.drop_table("hotline_threads")
    op.drop_table("peers")
    op.drop_table("peer_invites")
