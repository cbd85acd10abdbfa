"""The audit trail is append-only in the database too: triggers refuse UPDATE and DELETE
on audit entries (and TRUNCATE on PostgreSQL), so a stray statement or a compromised
application account cannot rewrite history without first dropping the triggers, which
needs the rights of the table's owner. `liaison audit verify` still detects what someone
with those rights does.

Revision ID: 0003_audit_append_only
Revises: 0002_federation
"""

from __future__ import annotations

from alembic import op

revision = "0003_audit_append_only"
down_revision = "0002_federation"
branch_labels = None
depends_on = None

REFUSAL = "audit entries are append-only"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION liaison_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{REFUSAL} (% refused)', TG_OP; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries "
            "FOR EACH ROW EXECUTE FUNCTION liaison_audit_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries "
            "FOR EACH STATEMENT EXECUTE FUNCTION liaison_audit_append_only()"
        )
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_entries_no_{event.lower()} BEFORE {event} ON audit_entries "
            f"BEGIN SELECT RAISE(ABORT, '{REFUSAL} ({event} refused)'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_entries_no_truncate ON audit_entries")
        op.execute("DROP TRIGGER audit_entries_append_only ON audit_entries")
        op.execute("DROP FUNCTION liaison_audit_append_only()")
        return
    for event in ("update", "delete"):
        op.execute(f"DROP TRIGGER audit_entries_no_{event}")
