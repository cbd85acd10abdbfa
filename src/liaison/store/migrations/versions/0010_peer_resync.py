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


def upgrade() -> None:
    with op.batch_alter_table("peers") as table:
        table.add_column(sa.Column("resync_from", sa.BigInteger, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("peers") as table:
        table.drop_column("resync_from")
