"""clinical notes and after-visit summaries; sensitive categories opened to proxies;
pre-visit questionnaires and consent forms

`clinical_notes` holds signed notes from the EHR feed (an amendment is a new row, the
earlier one points to it); `proxy_grants.opened_note_categories` the sensitive categories a
patient opened to each proxy (none by default: existing grants keep them closed);
`questionnaire_forms` versioned form definitions and `form_responses` the answers and
signatures given for an appointment; `result_explanations` plain-language explanations by
LOINC code; `message_threads.result_id` the result a question was asked about;
`health_maintenance_topics` the screenings and immunizations due, from the EHR feed.

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
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
    op.create_table(
        "questionnaire_forms",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("visit_type", sa.String(length=100), nullable=True),
        sa.Column("department_id", sa.String(length=40), nullable=True),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("consent_text", sa.Text(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_questionnaire_forms_department_id_departments"),
        ),
        sa.PrimaryKeyConstraint("id", "version", name=op.f("pk_questionnaire_forms")),
    )
    op.create_table(
        "form_responses",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("appointment_id", sa.String(length=40), nullable=False),
        sa.Column("patient_id", sa.String(length=40), nullable=False),
        sa.Column("form_id", sa.String(length=40), nullable=False),
        sa.Column("form_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("acting_as", sa.String(length=20), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signed_name", sa.String(length=200), nullable=True),
        sa.Column("text_sha256", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_form_responses_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_form_responses_appointment_id_appointments"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_form_responses_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_responses")),
    )
    op.create_index(
        "uq_form_responses_appointment_form",
        "form_responses",
        ["appointment_id", "form_id"],
        unique=True,
    )
    op.create_index(op.f("ix_form_responses_patient_id"), "form_responses", ["patient_id"])
    op.create_table(
        "result_explanations",
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("text", sa.String(length=1000), nullable=False),
        sa.Column("more_url", sa.String(length=500), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_result_explanations")),
    )
    op.create_table(
        "health_maintenance_topics",
        sa.Column("patient_id", sa.String(length=40), nullable=False),
        sa.Column("topic_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("last_done_on", sa.Date(), nullable=True),
        sa.Column("postponed", sa.Boolean(), nullable=False),
        sa.Column("visit_type", sa.String(length=100), nullable=True),
        sa.Column("department_id", sa.String(length=100), nullable=True),
        sa.Column("notified_for", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_health_maintenance_topics_patient_id_patients"),
        ),
        sa.PrimaryKeyConstraint(
            "patient_id", "topic_id", name=op.f("pk_health_maintenance_topics")
        ),
    )
    with op.batch_alter_table("message_threads") as batch:
        batch.add_column(sa.Column("result_id", sa.String(length=40), nullable=True))
        batch.create_index(batch.f("ix_message_threads_result_id"), ["result_id"])
        batch.create_foreign_key(
            batch.f("fk_message_threads_result_id_results"), "results", ["result_id"], ["id"]
        )
    with op.batch_alter_table("proxy_grants") as batch:
        batch.add_column(
            sa.Column("opened_note_categories", sa.JSON(), server_default="[]", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("message_threads") as batch:
        batch.drop_constraint(batch.f("fk_message_threads_result_id_results"), type_="foreignkey")
        batch.drop_index(batch.f("ix_message_threads_result_id"))
        batch.drop_column("result_id")
    op.drop_table("result_explanations")
    op.drop_table("health_maintenance_topics")
    with op.batch_alter_table("proxy_grants") as batch:
        batch.drop_column("opened_note_categories")
    op.drop_index(op.f("ix_form_responses_patient_id"), table_name="form_responses")
    op.drop_index("uq_form_responses_appointment_form", table_name="form_responses")
    op.drop_table("form_responses")
    op.drop_table("questionnaire_forms")
    op.drop_index(op.f("ix_clinical_notes_appointment_id"), table_name="clinical_notes")
    op.drop_index("ix_clinical_notes_patient_signed", table_name="clinical_notes")
    op.drop_table("clinical_notes")
