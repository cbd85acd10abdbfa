"""Each user's interface language (en, zh-CN) and time zone (an IANA name); both optional.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


# Plain ALTER TABLE on both backends: batch mode may copy `users` on SQLite, and dropping
# the old copy deletes by cascade (or fails on) the sessions and tokens that refer to it.
def upgrade() -> None:
    op.add_column("users", sa.Column("language", sa.String(8), nullable=True))
    op.add_column("users", sa.Column("time_zone", sa.String(64), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "time_zone")
    op.drop_column("users", "language")
