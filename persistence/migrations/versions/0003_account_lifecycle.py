"""account lifecycle: activation, sign-up verification, resets, TOTP, mail outbox

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _at(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("to_address", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        _at("created_at"),
        _at("next_attempt_at"),
        _at("claimed_until", nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        _at("sent_at", nullable=True),
        _at("failed_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_outbox")),
    )
    op.create_index(
        "ix_mail_outbox_pending", "mail_outbox", ["sent_at", "next_attempt_at"], unique=False
    )
    op.create_index(
        "ix_mail_outbox_to_created", "mail_outbox", ["to_address", "created_at"], unique=False
    )

    op.create_table(
        "activation_codes",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("patient_id", sa.String(length=40), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        _at("created_at"),
        _at("expires_at"),
        _at("used_at", nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_activation_codes_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_activation_codes_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activation_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_activation_codes_code_hash")),
    )
    op.create_index(
        op.f("ix_activation_codes_patient_id"), "activation_codes", ["patient_id"], unique=False
    )

    op.create_table(
        "signup_verifications",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("patient_id", sa.String(length=40), nullable=True),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        _at("created_at"),
        _at("expires_at"),
        _at("used_at", nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_signup_verifications_patient_id_patients"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signup_verifications")),
    )
    op.create_index(
        op.f("ix_signup_verifications_patient_id"),
        "signup_verifications",
        ["patient_id"],
        unique=False,
    )

    op.create_table(
        "password_reset_tokens",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        _at("created_at"),
        _at("expires_at"),
        _at("used_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_password_reset_tokens_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_reset_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_password_reset_tokens_token_hash")),
    )
    op.create_index(
        op.f("ix_password_reset_tokens_account_id"),
        "password_reset_tokens",
        ["account_id"],
        unique=False,
    )

    op.create_table(
        "totp_factors",
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        _at("created_at"),
        _at("confirmed_at", nullable=True),
        sa.Column("last_used_step", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_totp_factors_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_totp_factors")),
    )

    op.create_table(
        "email_change_requests",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("patient_id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("new_email", sa.String(length=320), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        _at("created_at"),
        _at("expires_at"),
        _at("used_at", nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_email_change_requests_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_email_change_requests_patient_id_patients"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_change_requests")),
    )
    op.create_index(
        op.f("ix_email_change_requests_patient_id"),
        "email_change_requests",
        ["patient_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_email_change_requests_patient_id"), table_name="email_change_requests")
    op.drop_table("email_change_requests")
    op.drop_table("totp_factors")
    op.drop_index(op.f("ix_password_reset_tokens_account_id"), table_name="password_reset_tokens")
    op.drop_table("password_reset_tokens")
    op.drop_index(op.f("ix_signup_verifications_patient_id"), table_name="signup_verifications")
    op.drop_table("signup_verifications")
    op.drop_index(op.f("ix_activation_codes_patient_id"), table_name="activation_codes")
    op.drop_table("activation_codes")
    op.drop_index("ix_mail_outbox_to_created", table_name="mail_outbox")
    op.drop_index("ix_mail_outbox_pending", table_name="mail_outbox")
    op.drop_table("mail_outbox")
