"""account sessions, and refused reads in the audit

A row per sign-in (device, started, last used, client address, ended): access tokens carry
its id as `sid` and are refused once it has ended (docs/sessions.md). The refresh-token
families that exist become sessions, so clients signed in before the upgrade refresh into a
session they can see and end. Audit rows of refused reads say which area, why, and which
object id was asked for (docs/audit.md).

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)

# One session per existing family: started at its first token, last used at its newest,
# alive until its newest token expires, ended if every token of it was revoked.
BACKFILL = """
INSERT INTO account_sessions
    (id, account_id, device, user_agent, client_address, started_at, last_used_at,
     expires_at, ended_at, end_reason)
SELECT family_id, MIN(account_id), 'Unknown device', NULL, NULL, MIN(created_at),
       MAX(created_at), MAX(expires_at),
       CASE WHEN COUNT(revoked_at) = COUNT(*) THEN MAX(revoked_at) END,
       CASE WHEN COUNT(revoked_at) = COUNT(*) THEN 'signed_out' END
FROM refresh_tokens
GROUP BY family_id
"""


def upgrade() -> None:
    op.create_table(
        "account_sessions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("device", sa.String(length=100), nullable=False),
        sa.Column("user_agent", sa.String(length=500), nullable=True),
        sa.Column("client_address", sa.String(length=64), nullable=True),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("last_used_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("ended_at", WHEN, nullable=True),
        sa.Column("end_reason", sa.String(length=30), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_account_sessions_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_sessions")),
    )
    op.create_index(
        "ix_account_sessions_account_started", "account_sessions", ["account_id", "started_at"]
    )
    op.execute(sa.text(BACKFILL))
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("area", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("reason", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("object_id", sa.String(length=200), nullable=True))
    op.create_index("ix_audit_events_action_at", "audit_events", ["action", "at"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_action_at", table_name="audit_events")
    # The older schema has no refused reads: they go with the downgrade.
    op.execute(sa.text("DELETE FROM audit_events WHERE action = 'refused'"))
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("object_id")
        batch_op.drop_column("reason")
        batch_op.drop_column("area")
    op.drop_index("ix_account_sessions_account_started", table_name="account_sessions")
    op.drop_table("account_sessions")
