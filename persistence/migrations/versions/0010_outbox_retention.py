"""outbox retention: how far published events have been pruned

Published outbox events older than `REALTIME_RETENTION_HOURS` are deleted; the one row of
`outbox_retention` keeps the highest seq pruned, so a subscriber resuming from below it is
told that the events it missed are gone instead of silently skipping them.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    retention = op.create_table(
        "outbox_retention",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column(
            "pruned_through",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("pruned_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_retention")),
    )
    # Nothing pruned yet: every seq can still be resumed from.
    op.bulk_insert(retention, [{"id": 1, "pruned_through": 0, "pruned_at": None}])


def downgrade() -> None:
    op.drop_table("outbox_retention")
