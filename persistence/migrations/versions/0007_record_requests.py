"""health readings, records releases, contact changes

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _upgrade_records() -> None:
    """Health readings and records release requests (contact changes are 0003's)."""
    op.create_table(
        "health_readings",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("patient_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("systolic", sa.Integer(), nullable=True),
        sa.Column("diastolic", sa.Integer(), nullable=True),
        sa.Column("unit", sa.String(length=10), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_account_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_health_readings_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_account_id"],
            ["accounts.id"],
            name=op.f("fk_health_readings_recorded_by_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_readings")),
    )
    op.create_index(
        "ix_health_readings_patient_kind_taken",
        "health_readings",
        ["patient_id", "kind", "taken_at"],
        unique=False,
    )
    op.create_table(
        "records_release_requests",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("patient_id", sa.String(length=40), nullable=False),
        sa.Column("requested_by_account_id", sa.String(length=40), nullable=False),
        sa.Column("recipient_kind", sa.String(length=20), nullable=False),
        sa.Column("recipient_name", sa.String(length=200), nullable=True),
        sa.Column("recipient_email", sa.String(length=200), nullable=True),
        sa.Column("recipient_fax", sa.String(length=20), nullable=True),
        sa.Column("recipient_address", sa.JSON(), nullable=True),
        sa.Column("areas", sa.JSON(), nullable=False),
        sa.Column("from_date", sa.Date(), nullable=True),
        sa.Column("to_date", sa.Date(), nullable=True),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_records_release_requests_patient_id_patients"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_account_id"],
            ["accounts.id"],
            name=op.f("fk_records_release_requests_requested_by_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_records_release_requests")),
    )
    op.create_index(
        op.f("ix_records_release_requests_patient_id"),
        "records_release_requests",
        ["patient_id"],
        unique=False,
    )


def _downgrade_records() -> None:
    op.drop_index(
        op.f("ix_records_release_requests_patient_id"), table_name="records_release_requests"
    )
    op.drop_table("records_release_requests")
    op.drop_index("ix_health_readings_patient_kind_taken", table_name="health_readings")
    op.drop_table("health_readings")


def upgrade() -> None:
    _upgrade_records()


def downgrade() -> None:
    _downgrade_records()
