"""peers.resync_from: set by `liaison restore` to the stream position the backup held, until
the peer has told the restored node how far it applied that stream.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


# Plain ALTER TABLE on both backends: batch mode would copy `peers` on SQLite, and dropping
# the old copy fails on (or deletes by cascade) the rows that refer to a peer.
def upgrade() -> None:
    op.add_column("peers", sa.Column("resync_from", sa.BigInteger, nullable=True))


def downgrade() -> None:
    op.drop_column("peers", "resync_from")
