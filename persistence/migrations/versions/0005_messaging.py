"""messaging: attachments, refill requests, notification preferences and deliveries

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id(name: str = "id") -> sa.Column[Any]:
    return sa.Column(name, sa.String(length=40), nullable=False)


def _at(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade() -> None:
    op.create_table(
        "attachments",
        _id(),
        _id("patient_id"),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("message_id", sa.String(length=40), nullable=True),
        sa.Column("appointment_id", sa.String(length=40), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=64), nullable=False),
        _id("uploaded_by"),
        _at("created_at"),
        _fk("attachments", "appointment_id", "appointments"),
        _fk("attachments", "message_id", "messages"),
        _fk("attachments", "patient_id", "patients"),
        _fk("attachments", "uploaded_by", "accounts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_attachments_storage_key")),
    )
    for column in ("patient_id", "message_id", "appointment_id"):
        op.create_index(op.f(f"ix_attachments_{column}"), "attachments", [column], unique=False)

    op.create_table(
        "refill_requests",
        _id(),
        _id("patient_id"),
        _id("medication_id"),
        _id("thread_id"),
        sa.Column("pharmacy", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        _id("requested_by"),
        _at("created_at"),
        _fk("refill_requests", "medication_id", "medications"),
        _fk("refill_requests", "patient_id", "patients"),
        _fk("refill_requests", "requested_by", "accounts"),
        _fk("refill_requests", "thread_id", "message_threads"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refill_requests")),
    )
    for column in ("patient_id", "medication_id"):
        op.create_index(
            op.f(f"ix_refill_requests_{column}"), "refill_requests", [column], unique=False
        )

    op.create_table(
        "notification_preferences",
        _id("account_id"),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        _at("updated_at"),
        _fk("notification_preferences", "account_id", "accounts"),
        sa.PrimaryKeyConstraint("account_id", "kind", name=op.f("pk_notification_preferences")),
    )

    op.create_table(
        "notification_deliveries",
        _id(),
        _id("account_id"),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("destination", sa.String(length=40), nullable=True),
        sa.Column("text", sa.String(length=300), nullable=False),
        _at("created_at"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        _at("sent_at", nullable=True),
        _at("failed_at", nullable=True),
        _fk("notification_deliveries", "account_id", "accounts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_deliveries")),
    )
    op.create_index(
        op.f("ix_notification_deliveries_account_id"),
        "notification_deliveries",
        ["account_id"],
        unique=False,
    )
    op.create_index(
        "ix_notification_deliveries_pending",
        "notification_deliveries",
        ["sent_at", "created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_notification_deliveries_pending", table_name="notification_deliveries")
    op.drop_index(
        op.f("ix_notification_deliveries_account_id"), table_name="notification_deliveries"
    )
    op.drop_table("notification_deliveries")
    op.drop_table("notification_preferences")
    for column in ("medication_id", "patient_id"):
        op.drop_index(op.f(f"ix_refill_requests_{column}"), table_name="refill_requests")
    op.drop_table("refill_requests")
    for column in ("appointment_id", "message_id", "patient_id"):
        op.drop_index(op.f(f"ix_attachments_{column}"), table_name="attachments")
    op.drop_table("attachments")
