"""peers.record_types: the shared record types a peer said it handles (None: it never said,
an older node), and peers.told_record_types: the ones this node last told it it handles.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


# Plain ALTER TABLE on both backends: batch mode would copy `peers` on SQLite, and dropping
# the old copy fails on (or deletes by cascade) the rows that refer to a peer.
def upgrade() -> None:
    op.add_column("peers", sa.Column("record_types", sa.JSON, nullable=True))
    op.add_column("peers", sa.Column("told_record_types", sa.JSON, nullable=True))


def downgrade() -> None:
    op.drop_column("peers", "told_record_types")
    op.drop_column("peers", "record_types")
