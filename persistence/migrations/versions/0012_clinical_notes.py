"""clinical notes and after-visit summaries; sensitive categories opened to proxies

`clinical_notes` holds signed notes from the EHR feed (an amendment is a new row, the
earlier one points to it); `proxy_grants.opened_note_categories` the sensitive categories a
patient opened to each proxy (none by default: existing grants keep them closed).

Revision ID: 0012
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "clinical_notes",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("patient_id", sa.String(length=40), nullable=False),
        sa.Column("appointment_id", sa.String(length=40), nullable=True),
        sa.Column("author_provider_id", sa.String(length=40), nullable=True),
        sa.Column("author_name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sensitive_category", sa.String(length=40), nullable=True),
        sa.Column("supersedes_id", sa.String(length=40), nullable=True),
        sa.Column("superseded_by_id", sa.String(length=40), nullable=True),
        sa.Column("withheld_exception", sa.String(length=40), nullable=True),
        sa.Column("withheld_reason", sa.String(length=1000), nullable=True),
        sa.Column("hidden_from_proxies", sa.Boolean(), nullable=False),
        sa.Column("hidden_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_clinical_notes_appointment_id_appointments"),
        ),
        sa.ForeignKeyConstraint(
            ["author_provider_id"],
            ["providers.id"],
            name=op.f("fk_clinical_notes_author_provider_id_providers"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_clinical_notes_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinical_notes")),
    )
    op.create_index(
        "ix_clinical_notes_patient_signed", "clinical_notes", ["patient_id", "signed_at"]
    )
    op.create_index(op.f("ix_clinical_notes_appointment_id"), "clinical_notes", ["appointment_id"])
    with op.batch_alter_table("proxy_grants") as batch:
        batch.add_column(
            sa.Column("opened_note_categories", sa.JSON(), server_default="[]", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("proxy_grants") as batch:
        batch.drop_column("opened_note_categories")
    op.drop_index(op.f("ix_clinical_notes_appointment_id"), table_name="clinical_notes")
    op.drop_index("ix_clinical_notes_patient_signed", table_name="clinical_notes")
    op.drop_table("clinical_notes")
