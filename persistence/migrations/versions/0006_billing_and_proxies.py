"""billing and proxies: idempotent payments, plans, assistance, invitations

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(length=40)
CENTS = sa.BigInteger()
AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    # A grant given by invitation has no proxy account until someone accepts it.
    with op.batch_alter_table("proxy_grants", schema=None) as batch_op:
        batch_op.alter_column("proxy_account_id", existing_type=ID, nullable=True)
        batch_op.add_column(sa.Column("invitee_email", sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column("revoked_at", AT, nullable=True))

    op.create_table(
        "proxy_invitations",
        sa.Column("id", ID, nullable=False),
        sa.Column("grant_id", ID, nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", AT, nullable=False),
        sa.Column("expires_at", AT, nullable=False),
        sa.Column("accepted_at", AT, nullable=True),
        sa.Column("accepted_by_account_id", ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["proxy_grants.id"],
            name=op.f("fk_proxy_invitations_grant_id_proxy_grants"),
        ),
        sa.ForeignKeyConstraint(
            ["accepted_by_account_id"],
            ["accounts.id"],
            name=op.f("fk_proxy_invitations_accepted_by_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proxy_invitations")),
        sa.UniqueConstraint("grant_id", name=op.f("uq_proxy_invitations_grant_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_proxy_invitations_token_hash")),
    )

    op.create_table(
        "payment_attempts",
        sa.Column("id", ID, nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=False),
        sa.Column("statement_id", ID, nullable=False),
        sa.Column("amount_cents", CENTS, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("decline_reason", sa.String(length=200), nullable=True),
        sa.Column("payment_id", ID, nullable=True),
        sa.Column("gateway_reference", sa.String(length=100), nullable=True),
        sa.Column("created_at", AT, nullable=False),
        sa.Column("completed_at", AT, nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_payment_attempts_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["statements.id"],
            name=op.f("fk_payment_attempts_statement_id_statements"),
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_payment_attempts_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_attempts")),
    )
    op.create_index(
        "uq_payment_attempts_account_key",
        "payment_attempts",
        ["account_id", "idempotency_key"],
        unique=True,
    )
    op.create_index(
        "ix_payment_attempts_statement_status",
        "payment_attempts",
        ["statement_id", "status"],
        unique=False,
    )

    for table, columns in (
        (
            "payment_plan_requests",
            [
                sa.Column("months", sa.Integer(), nullable=False),
                sa.Column("installment_cents", CENTS, nullable=False),
            ],
        ),
        (
            "financial_assistance_requests",
            [
                sa.Column("household_size", sa.Integer(), nullable=False),
                sa.Column("annual_income_cents", CENTS, nullable=False),
                sa.Column("note", sa.Text(), nullable=True),
            ],
        ),
    ):
        op.create_table(
            table,
            sa.Column("id", ID, nullable=False),
            sa.Column("statement_id", ID, nullable=False),
            sa.Column("account_id", ID, nullable=False),
            *columns,
            sa.Column("status", sa.String(length=20), nullable=False),
            sa.Column("created_at", AT, nullable=False),
            sa.ForeignKeyConstraint(
                ["statement_id"],
                ["statements.id"],
                name=op.f(f"fk_{table}_statement_id_statements"),
            ),
            sa.ForeignKeyConstraint(
                ["account_id"], ["accounts.id"], name=op.f(f"fk_{table}_account_id_accounts")
            ),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        )
        op.create_index(op.f(f"ix_{table}_statement_id"), table, ["statement_id"], unique=False)


def downgrade() -> None:
    for table in ("financial_assistance_requests", "payment_plan_requests"):
        op.drop_index(op.f(f"ix_{table}_statement_id"), table_name=table)
        op.drop_table(table)
    op.drop_index("ix_payment_attempts_statement_status", table_name="payment_attempts")
    op.drop_index("uq_payment_attempts_account_key", table_name="payment_attempts")
    op.drop_table("payment_attempts")
    op.drop_table("proxy_invitations")
    # Grants never accepted have no proxy to keep them for.
    op.execute("DELETE FROM proxy_grants WHERE proxy_account_id IS NULL")
    with op.batch_alter_table("proxy_grants", schema=None) as batch_op:
        batch_op.drop_column("revoked_at")
        batch_op.drop_column("invitee_email")
        batch_op.alter_column("proxy_account_id", existing_type=ID, nullable=False)
