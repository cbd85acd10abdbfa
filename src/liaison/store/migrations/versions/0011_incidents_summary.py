"""incident_seizure_summary: the seizure dashboard's figures kept on write, built here from
the incidents already stored (the full aggregation, once); incident_attachments: documents
on incidents and follow-ups.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from liaison.store.incident_summary import rebuild_summary

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incident_seizure_summary",
        sa.Column("dimension", sa.String(16), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("occurred_on", sa.Date, primary_key=True),
        sa.Column("owner_node", sa.String(32), primary_key=True),
        sa.Column("substance", sa.String(200), primary_key=True),
        sa.Column("incidents", sa.Integer, nullable=False),
        sa.Column("items", sa.Integer, nullable=False),
        sa.Column("grams", sa.Float, nullable=False),
        sa.Column("pure_grams", sa.Float, nullable=False),
    )
    op.create_index(
        "ix_incident_seizure_summary_day", "incident_seizure_summary", ["dimension", "occurred_on"]
    )
    rebuild_summary(op.get_bind())
    op.create_table(
        "incident_attachments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incidents.id"), nullable=True),
        sa.Column(
            "follow_up_id", sa.Integer, sa.ForeignKey("incident_follow_ups.id"), nullable=True
        ),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("verified", sa.Boolean, nullable=False),
    )
    op.create_index("ix_incident_attachments_incident_id", "incident_attachments", ["incident_id"])
    op.create_index(
        "ix_incident_attachments_follow_up_id", "incident_attachments", ["follow_up_id"]
    )


def downgrade() -> None:
    op.drop_table("incident_attachments")
    op.drop_index("ix_incident_seizure_summary_day", "incident_seizure_summary")
    op.drop_table("incident_seizure_summary")
