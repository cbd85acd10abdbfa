"""Seizure and incident reports (issue 10): incidents, their items with the verdict
snapshot, the peers each is shared with, follow-ups, entity mentions (on incidents,
follow-ups and hotline messages), focal points and their alerts.

Revision ID: 0007
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from liaison.store.base import UTCDateTime

revision = "0007"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing messages keep their content; they carry no restriction and no grading.
    op.add_column(
        "hotline_messages",
        sa.Column("handling_code", sa.String(16), nullable=False, server_default="none"),
    )
    op.add_column("hotline_messages", sa.Column("source_reliability", sa.String(1)))
    op.add_column("hotline_messages", sa.Column("information_accuracy", sa.String(1)))
    op.create_table(
        "incident_focal_points",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency", sa.String(length=200), nullable=False),
        sa.Column("username", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_focal_points")),
        sa.UniqueConstraint("agency", "username", name=op.f("uq_incident_focal_points_agency")),
    )
    op.create_index(
        op.f("ix_incident_focal_points_agency"), "incident_focal_points", ["agency"], unique=False
    )
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("reporting_agency", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("port_code", sa.String(length=8), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("conveyance", sa.String(length=32), nullable=False),
        sa.Column("route", sa.String(length=200), nullable=False),
        sa.Column("narrative", sa.Text(), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("handling_code", sa.String(length=16), nullable=False),
        sa.Column("source_reliability", sa.String(length=1), nullable=True),
        sa.Column("information_accuracy", sa.String(length=1), nullable=True),
        sa.Column("global_id", sa.String(length=36), nullable=False),
        sa.Column("owner_node", sa.String(length=32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
        sa.UniqueConstraint("global_id", name=op.f("uq_incidents_global_id")),
    )
    op.create_index(op.f("ix_incidents_country"), "incidents", ["country"], unique=False)
    op.create_index(
        "ix_incidents_kind_occurred_on", "incidents", ["kind", "occurred_on"], unique=False
    )
    op.create_index(
        "ix_incidents_occurred_on_owner", "incidents", ["occurred_on", "owner_node"], unique=False
    )
    op.create_table(
        "incident_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("agency", sa.String(length=200), nullable=False),
        sa.Column("username", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("seen_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_incident_alerts_incident_id_incidents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_alerts")),
    )
    op.create_index(
        op.f("ix_incident_alerts_incident_id"), "incident_alerts", ["incident_id"], unique=False
    )
    op.create_index(
        op.f("ix_incident_alerts_username"), "incident_alerts", ["username"], unique=False
    )
    op.create_table(
        "incident_follow_ups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("author_agency", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=True),
        sa.Column("global_id", sa.String(length=36), nullable=False),
        sa.Column("owner_node", sa.String(length=32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_follow_ups_incident_id_incidents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_follow_ups")),
        sa.UniqueConstraint("global_id", name=op.f("uq_incident_follow_ups_global_id")),
    )
    op.create_index(
        op.f("ix_incident_follow_ups_incident_id"),
        "incident_follow_ups",
        ["incident_id"],
        unique=False,
    )
    op.create_table(
        "incident_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("substance", sa.String(length=2000), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("grams", sa.Float(), nullable=True),
        sa.Column("purity_percent", sa.Float(), nullable=True),
        sa.Column("form", sa.String(length=16), nullable=True),
        sa.Column("packaging", sa.String(length=200), nullable=False),
        sa.Column("verdicts", sa.JSON(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("statuses", sa.String(length=120), nullable=False),
        sa.Column("substance_label", sa.String(length=200), nullable=False),
        sa.Column("standardized_smiles", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_incident_items_incident_id_incidents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_items")),
    )
    op.create_index(
        op.f("ix_incident_items_incident_id"), "incident_items", ["incident_id"], unique=False
    )
    op.create_index(
        op.f("ix_incident_items_statuses"), "incident_items", ["statuses"], unique=False
    )
    op.create_index(
        op.f("ix_incident_items_substance_label"),
        "incident_items",
        ["substance_label"],
        unique=False,
    )
    op.create_table(
        "incident_shares",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("peer_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_incident_shares_incident_id_incidents")
        ),
        sa.ForeignKeyConstraint(
            ["peer_id"], ["peers.id"], name=op.f("fk_incident_shares_peer_id_peers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_shares")),
        sa.UniqueConstraint("incident_id", "peer_id", name=op.f("uq_incident_shares_incident_id")),
    )
    op.create_index(
        op.f("ix_incident_shares_incident_id"), "incident_shares", ["incident_id"], unique=False
    )
    op.create_index(
        op.f("ix_incident_shares_peer_id"), "incident_shares", ["peer_id"], unique=False
    )
    op.create_table(
        "entity_mentions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("follow_up_id", sa.Integer(), nullable=True),
        sa.Column("hotline_message_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("chain", sa.String(length=32), nullable=True),
        sa.Column("value", sa.String(length=500), nullable=False),
        sa.Column("normalized", sa.String(length=500), nullable=False),
        sa.Column("role", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["follow_up_id"],
            ["incident_follow_ups.id"],
            name=op.f("fk_entity_mentions_follow_up_id_incident_follow_ups"),
        ),
        sa.ForeignKeyConstraint(
            ["hotline_message_id"],
            ["hotline_messages.id"],
            name=op.f("fk_entity_mentions_hotline_message_id_hotline_messages"),
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_entity_mentions_incident_id_incidents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entity_mentions")),
    )
    op.create_index(
        op.f("ix_entity_mentions_follow_up_id"), "entity_mentions", ["follow_up_id"], unique=False
    )
    op.create_index(
        op.f("ix_entity_mentions_hotline_message_id"),
        "entity_mentions",
        ["hotline_message_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_entity_mentions_incident_id"), "entity_mentions", ["incident_id"], unique=False
    )
    op.create_index(
        "ix_entity_mentions_kind_normalized",
        "entity_mentions",
        ["kind", "normalized"],
        unique=False,
    )

    op.create_table(
        "incident_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_by", sa.String(length=200), nullable=False),
        sa.Column("previous", sa.JSON(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("global_id", sa.String(length=36), nullable=False),
        sa.Column("owner_node", sa.String(length=32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_revisions_incident_id_incidents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_revisions")),
        sa.UniqueConstraint("global_id", name=op.f("uq_incident_revisions_global_id")),
    )
    op.create_index(
        op.f("ix_incident_revisions_incident_id"), "incident_revisions", ["incident_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_incident_revisions_incident_id"), table_name="incident_revisions")
    op.drop_table("incident_revisions")
    op.drop_column("hotline_messages", "information_accuracy")
    op.drop_column("hotline_messages", "source_reliability")
    op.drop_column("hotline_messages", "handling_code")
    op.drop_index("ix_entity_mentions_kind_normalized", table_name="entity_mentions")
    op.drop_index(op.f("ix_entity_mentions_incident_id"), table_name="entity_mentions")
    op.drop_index(op.f("ix_entity_mentions_hotline_message_id"), table_name="entity_mentions")
    op.drop_index(op.f("ix_entity_mentions_follow_up_id"), table_name="entity_mentions")
    op.drop_table("entity_mentions")
    op.drop_index(op.f("ix_incident_shares_peer_id"), table_name="incident_shares")
    op.drop_index(op.f("ix_incident_shares_incident_id"), table_name="incident_shares")
    op.drop_table("incident_shares")
    op.drop_index(op.f("ix_incident_items_substance_label"), table_name="incident_items")
    op.drop_index(op.f("ix_incident_items_statuses"), table_name="incident_items")
    op.drop_index(op.f("ix_incident_items_incident_id"), table_name="incident_items")
    op.drop_table("incident_items")
    op.drop_index(op.f("ix_incident_follow_ups_incident_id"), table_name="incident_follow_ups")
    op.drop_table("incident_follow_ups")
    op.drop_index(op.f("ix_incident_alerts_username"), table_name="incident_alerts")
    op.drop_index(op.f("ix_incident_alerts_incident_id"), table_name="incident_alerts")
    op.drop_table("incident_alerts")
    op.drop_index("ix_incidents_occurred_on_owner", table_name="incidents")
    op.drop_index("ix_incidents_kind_occurred_on", table_name="incidents")
    op.drop_index(op.f("ix_incidents_country"), table_name="incidents")
    op.drop_table("incidents")
    op.drop_index(op.f("ix_incident_focal_points_agency"), table_name="incident_focal_points")
    op.drop_table("incident_focal_points")
