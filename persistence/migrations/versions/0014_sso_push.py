"""push devices and single sign-on

`devices`: Web Push subscriptions and APNs/FCM tokens per account; push deliveries become one
row per device with a deep link and a backoff time. `sso_identities`, `sso_logins`,
`sso_handoffs` and `accounts.sso_only`: OpenID Connect sign-in (docs/sso.md, docs/push.md).

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def _account(table: str) -> sa.Column[str]:
    return sa.Column(
        "account_id",
        sa.String(length=40),
        sa.ForeignKey("accounts.id", name=op.f(f"fk_{table}_account_id_accounts")),
        nullable=False,
    )


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("sso_only", sa.Boolean(), server_default="0", nullable=False))
    with op.batch_alter_table("notification_deliveries") as batch:
        batch.add_column(sa.Column("link", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("next_attempt_at", TS, nullable=True))

    op.create_table(
        "devices",
        sa.Column("id", sa.String(length=40), nullable=False),
        _account("devices"),
        sa.Column("platform", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("p256dh", sa.String(length=100), nullable=True),
        sa.Column("auth", sa.String(length=40), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_used_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        sa.UniqueConstraint("address_hash", name=op.f("uq_devices_address_hash")),
    )
    op.create_index(op.f("ix_devices_account_id"), "devices", ["account_id"])

    op.create_table(
        "sso_identities",
        sa.Column("id", sa.String(length=40), nullable=False),
        _account("sso_identities"),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("linked_at", TS, nullable=False),
        sa.Column("last_used_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_identities")),
    )
    op.create_index(op.f("ix_sso_identities_account_id"), "sso_identities", ["account_id"])
    op.create_index(
        "uq_sso_identities_provider_subject",
        "sso_identities",
        ["provider", "subject"],
        unique=True,
    )

    op.create_table(
        "sso_logins",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("nonce", sa.String(length=100), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("return_to", sa.String(length=500), nullable=False),
        sa.Column("client_challenge", sa.String(length=100), nullable=False),
        sa.Column(
            "link_account_id",
            sa.String(length=40),
            sa.ForeignKey("accounts.id", name=op.f("fk_sso_logins_link_account_id_accounts")),
            nullable=True,
        ),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_logins")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_sso_logins_state_hash")),
    )

    op.create_table(
        "sso_handoffs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        _account("sso_handoffs"),
        sa.Column("client_challenge", sa.String(length=100), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_handoffs")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_sso_handoffs_code_hash")),
    )
    op.create_index(op.f("ix_sso_handoffs_account_id"), "sso_handoffs", ["account_id"])


def downgrade() -> None:
    op.drop_table("sso_handoffs")
    op.drop_table("sso_logins")
    op.drop_table("sso_identities")
    op.drop_table("devices")
    with op.batch_alter_table("notification_deliveries") as batch:
        batch.drop_column("next_attempt_at")
        batch.drop_column("link")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("sso_only")
