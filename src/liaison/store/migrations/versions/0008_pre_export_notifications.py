"""Pre-export notifications of precursor chemicals: notifications, their steps, each
node's register of substances and annual requirements; the `regulator` role.

Revision ID: 0008
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from liaison.store.base import UTCDateTime
from liaison.store.sqlite_schema import set_role_check

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None

ROLES = "role in ('admin', 'officer', 'analyst', 'auditor', 'regulator')"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Copying users (batch mode) would delete, by cascade, what refers to it.
        set_role_check(op.get_bind(), ROLES)
    else:
        # The role check as it is named in this database (0001 named it through the naming
        # convention twice; an upgrade after a downgrade finds this revision's name).
        checks = sa.inspect(op.get_bind()).get_check_constraints("users")
        with op.batch_alter_table("users") as batch:
            for check in checks:
                if "role" in check["sqltext"] and check["name"]:
                    # op.f: the name as it is, not passed through the naming convention again.
                    batch.drop_constraint(op.f(check["name"]), type_="check")
            batch.create_check_constraint(op.f("ck_users_role"), ROLES)
    op.create_table(
        "pen_notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("global_id", sa.String(36), nullable=False),
        sa.Column("owner_node", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("peer_id", sa.Integer(), nullable=False),
        sa.Column("exporting_node", sa.String(32), nullable=False),
        sa.Column("importing_node", sa.String(32), nullable=False),
        sa.Column("from_agency", sa.String(200), nullable=False),
        sa.Column("to_agency", sa.String(200), nullable=False),
        sa.Column("lodged_by", sa.String(200), nullable=False),
        sa.Column("substance", sa.String(500), nullable=False),
        sa.Column("ship_date", sa.Date(), nullable=False),
        sa.Column("respond_by", UTCDateTime(), nullable=False),
        sa.Column("if_no_reply", sa.String(20), nullable=False),
        sa.Column("declared", sa.JSON(), nullable=False),
        sa.Column("screening", sa.JSON(), nullable=False),
        sa.Column("acknowledged_at", UTCDateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.String(200), nullable=True),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.Column("decision", sa.String(32), nullable=True),
        sa.Column("withdrawn_at", UTCDateTime(), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("incident", sa.String(100), nullable=True),
        sa.CheckConstraint(
            "if_no_reply in ('proceeds', 'does_not_proceed')",
            name="ck_pen_notifications_if_no_reply",
        ),
        sa.ForeignKeyConstraint(
            ["peer_id"], ["peers.id"], name="fk_pen_notifications_peer_id_peers"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_pen_notifications"),
        sa.UniqueConstraint("global_id", name="uq_pen_notifications_global_id"),
    )
    op.create_index("ix_pen_notifications_peer_id", "pen_notifications", ["peer_id"])
    op.create_index("ix_pen_notifications_ship_date", "pen_notifications", ["ship_date"])
    op.create_index("ix_pen_notifications_respond_by", "pen_notifications", ["respond_by"])
    op.create_table(
        "pen_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("global_id", sa.String(36), nullable=False),
        sa.Column("owner_node", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("incident", sa.String(100), nullable=True),
        sa.Column("quantity", sa.String(40), nullable=True),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("author_agency", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["pen_notifications.id"],
            name="fk_pen_events_notification_id_pen_notifications",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_pen_events"),
        sa.UniqueConstraint("global_id", name="uq_pen_events_global_id"),
    )
    op.create_index("ix_pen_events_notification_id", "pen_events", ["notification_id"])
    op.create_table(
        "pen_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["pen_notifications.id"],
            name="fk_pen_attachments_notification_id_pen_notifications",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_pen_attachments"),
    )
    op.create_index("ix_pen_attachments_notification_id", "pen_attachments", ["notification_id"])
    op.create_table(
        "pen_requirements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("node", sa.String(32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("substance", sa.String(200), nullable=False),
        sa.Column("requires_notification", sa.Boolean(), nullable=False),
        sa.Column("annual_kg", sa.String(40), nullable=True),
        sa.Column("citation", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_pen_requirements"),
        sa.UniqueConstraint("node", "year", "substance", name="uq_pen_requirements_node"),
    )
    op.create_index("ix_pen_requirements_node", "pen_requirements", ["node"])


def downgrade() -> None:
    op.drop_table("pen_requirements")
    op.drop_table("pen_attachments")
    op.drop_table("pen_events")
    op.drop_table("pen_notifications")
    # The wider role check stays: regulators' accounts are kept, and the earlier version
    # grants an unknown role nothing (liaison.capabilities.may).
