"""appointment actions: check-in records and booking rules

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The backstop for "a slot holds one appointment, an appointment one slot".
    op.create_index("uq_slots_appointment_id", "slots", ["appointment_id"], unique=True)
    op.create_table(
        "appointment_check_ins",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("appointment_id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("contact_confirmed", sa.Boolean(), nullable=False),
        sa.Column("insurance_confirmed", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_appointment_check_ins_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_appointment_check_ins_appointment_id_appointments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_check_ins")),
    )
    op.create_index(
        op.f("ix_appointment_check_ins_appointment_id"),
        "appointment_check_ins",
        ["appointment_id"],
        unique=False,
    )
    op.create_table(
        "appointment_changes",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("appointment_id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("change", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_appointment_changes_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_appointment_changes_appointment_id_appointments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_changes")),
    )
    op.create_index(
        op.f("ix_appointment_changes_appointment_id"),
        "appointment_changes",
        ["appointment_id"],
        unique=False,
    )
    op.create_table(
        "appointment_reminders",
        sa.Column("appointment_id", sa.String(length=40), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_appointment_reminders_appointment_id_appointments"),
        ),
        sa.PrimaryKeyConstraint(
            "appointment_id", "starts_at", name=op.f("pk_appointment_reminders")
        ),
    )


def downgrade() -> None:
    op.drop_table("appointment_reminders")
    op.drop_index(op.f("ix_appointment_changes_appointment_id"), table_name="appointment_changes")
    op.drop_table("appointment_changes")
    op.drop_index(
        op.f("ix_appointment_check_ins_appointment_id"), table_name="appointment_check_ins"
    )
    op.drop_table("appointment_check_ins")
    op.drop_index("uq_slots_appointment_id", table_name="slots")
