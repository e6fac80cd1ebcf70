"""outbox events: what committed writes publish to subscribers

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox_events",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("patient_id", sa.String(length=40), nullable=True),
        sa.Column("account_id", sa.String(length=40), nullable=True),
        sa.Column("object_id", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_outbox_events")),
    )
    op.create_index(
        "ix_outbox_events_patient_seq", "outbox_events", ["patient_id", "seq"], unique=False
    )
    op.create_index(
        "ix_outbox_events_unpublished", "outbox_events", ["published_at", "seq"], unique=False
    )
    op.create_index(
        op.f("ix_outbox_events_account_id"), "outbox_events", ["account_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_outbox_events_account_id"), table_name="outbox_events")
    op.drop_index("ix_outbox_events_unpublished", table_name="outbox_events")
    op.drop_index("ix_outbox_events_patient_seq", table_name="outbox_events")
    op.drop_table("outbox_events")
