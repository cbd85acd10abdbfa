"""Own records back after a restore: peers.recover_from, and peer_inbound_records (each
record applied from a peer, kept so that the peer, restored from an older backup, can ask
for its own records back).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from liaison.store.base import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


# Plain ALTER TABLE on both backends: batch mode would copy `peers` on SQLite, and dropping
# the old copy fails on (or deletes by cascade) the rows that refer to a peer.
def upgrade() -> None:
    op.add_column("peers", sa.Column("recover_from", sa.BigInteger, nullable=True))
    op.create_table(
        "peer_inbound_records",
        sa.Column("peer_id", sa.Integer, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("record_type", sa.String(64), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["peer_id"], ["peers.id"], name=op.f("fk_peer_inbound_records_peer_id_peers")
        ),
        sa.PrimaryKeyConstraint("peer_id", "seq", name=op.f("pk_peer_inbound_records")),
    )


def downgrade() -> None:
    op.drop_table("peer_inbound_records")
    op.drop_column("peers", "recover_from")
