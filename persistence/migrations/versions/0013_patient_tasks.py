"""patient tasks: appointment requests, renewals, pronouns, legal documents, coverages

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def _upgrade_appointment_requests() -> None:
    t = "appointment_requests"
    op.create_table(
        t,
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("patient_id", sa.String(length=40), nullable=False),
        sa.Column("requested_by_account_id", sa.String(length=40), nullable=False),
        sa.Column("visit_type", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("provider_id", sa.String(length=40), nullable=True),
        sa.Column("department_id", sa.String(length=40), nullable=True),
        sa.Column("preferred_days", sa.JSON(), nullable=False),
        sa.Column("preferred_times", sa.JSON(), nullable=False),
        sa.Column("contact_preference", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("appointment_id", sa.String(length=40), nullable=True),
        sa.Column("decline_reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=False),
        _fk(t, "patient_id", "patients"),
        _fk(t, "requested_by_account_id", "accounts"),
        _fk(t, "provider_id", "providers"),
        _fk(t, "department_id", "departments"),
        _fk(t, "appointment_id", "appointments"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
    )
    op.create_index(
        "ix_appointment_requests_patient_created", t, ["patient_id", "created_at"], unique=False
    )


def _upgrade_renewals() -> None:
    t = "prescription_renewals"
    op.create_table(
        t,
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("patient_id", sa.String(length=40), nullable=False),
        sa.Column("medication_id", sa.String(length=40), nullable=False),
        sa.Column("prescriber_id", sa.String(length=40), nullable=False),
        sa.Column("requested_by_account_id", sa.String(length=40), nullable=False),
        sa.Column("pharmacy", sa.String(length=200), nullable=True),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("denial_reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=False),
        _fk(t, "patient_id", "patients"),
        _fk(t, "medication_id", "medications"),
        _fk(t, "prescriber_id", "providers"),
        _fk(t, "requested_by_account_id", "accounts"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
    )
    op.create_index(op.f(f"ix_{t}_patient_id"), t, ["patient_id"], unique=False)
    op.create_index(op.f(f"ix_{t}_medication_id"), t, ["medication_id"], unique=False)


def _upgrade_legal_documents() -> None:
    op.create_table(
        "legal_documents",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_documents")),
    )
    op.create_index(
        "uq_legal_documents_kind_version", "legal_documents", ["kind", "version"], unique=True
    )
    t = "legal_acceptances"
    op.create_table(
        t,
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("document_id", sa.String(length=40), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        _fk(t, "account_id", "accounts"),
        _fk(t, "document_id", "legal_documents"),
        sa.PrimaryKeyConstraint("account_id", "document_id", name=op.f(f"pk_{t}")),
    )


def _upgrade_coverages() -> None:
    t = "coverages"
    op.create_table(
        t,
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("patient_id", sa.String(length=40), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("payer", sa.String(length=200), nullable=False),
        sa.Column("plan", sa.String(length=200), nullable=False),
        sa.Column("member_id", sa.String(length=40), nullable=False),
        sa.Column("group_number", sa.String(length=40), nullable=True),
        sa.Column("subscriber_name", sa.String(length=200), nullable=False),
        sa.Column("subscriber_relation", sa.String(length=20), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("copays", sa.JSON(), nullable=False),
        sa.Column("deductible_cents", sa.BigInteger(), nullable=True),
        sa.Column("deductible_met_cents", sa.BigInteger(), nullable=True),
        sa.Column("out_of_pocket_max_cents", sa.BigInteger(), nullable=True),
        sa.Column("out_of_pocket_met_cents", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _fk(t, "patient_id", "patients"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
    )
    op.create_index(op.f(f"ix_{t}_patient_id"), t, ["patient_id"], unique=False)


def upgrade() -> None:
    op.add_column("patients", sa.Column("pronouns", sa.String(length=40), nullable=True))
    _upgrade_appointment_requests()
    _upgrade_renewals()
    _upgrade_legal_documents()
    _upgrade_coverages()


def downgrade() -> None:
    op.drop_table("coverages")
    op.drop_table("legal_acceptances")
    op.drop_index("uq_legal_documents_kind_version", table_name="legal_documents")
    op.drop_table("legal_documents")
    op.drop_table("prescription_renewals")
    op.drop_index("ix_appointment_requests_patient_created", table_name="appointment_requests")
    op.drop_table("appointment_requests")
    with op.batch_alter_table("patients") as batch:
        batch.drop_column("pronouns")
