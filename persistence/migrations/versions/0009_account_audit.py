"""audit events of account-level actions: no patient

Sign-in, sign-up, passwords, two-step verification, notification settings: actions on an
account rather than on a patient's record are audited too, with no patient_id.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PATIENT_ID = sa.String(length=40)


def upgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column("patient_id", existing_type=PATIENT_ID, nullable=True)
    # An operator's question "what did this account do" (a reported takeover, say).
    op.create_index("ix_audit_events_account_at", "audit_events", ["account_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_account_at", table_name="audit_events")
    # The older schema has no place for account-level events: they go with the downgrade.
    op.execute(sa.text("DELETE FROM audit_events WHERE patient_id IS NULL"))
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column("patient_id", existing_type=PATIENT_ID, nullable=False)
