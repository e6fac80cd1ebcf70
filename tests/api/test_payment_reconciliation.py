"""The reconciliation job's answers, case by case (usecases/billing.py): the gateway
approved, declined, never received the charge, or the attempt is too recent to judge."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from domain.billing import ChargeRequest, gateway_reference
from domain.money import Money
from persistence import models as m
from portal.jobs import reconcile_pending_payments
from tests.conftest import ACCOUNT_IDS, ALEX, NOW, Portal

ALEX_ID = "pat-0000001"


async def pending(portal: Portal, key: str, minutes_ago: int, cents: int = 100) -> str:
    async with portal.services.sessions() as session, session.begin():
        statement = await session.scalar(
            select(m.Statement.id)
            .where(m.Statement.guarantor_patient_id == ALEX_ID, m.Statement.status != "paid")
            .limit(1)
        )
        assert statement is not None
        session.add(
            m.PaymentAttempt(
                id=m.new_id("pat"),
                account_id=ACCOUNT_IDS[ALEX],
                idempotency_key=key,
                statement_id=statement,
                amount_cents=cents,
                status="pending",
                decline_reason=None,
                payment_id=None,
                gateway_reference=None,
                created_at=NOW - timedelta(minutes=minutes_ago),
                completed_at=None,
            )
        )
    return statement


async def charged(portal: Portal, key: str, token: str) -> None:
    """The gateway received the charge (the process died before recording its answer)."""
    reference = gateway_reference(ACCOUNT_IDS[ALEX], key)
    request = ChargeRequest(token, Money(100, "USD"), reference, "test")
    await portal.services.gateway.charge(request)


async def test_each_pending_attempt_is_settled_declined_or_released(
    fresh_portal: Portal,
) -> None:
    portal = fresh_portal
    statement = await pending(portal, "approved", 10)
    await pending(portal, "declined", 10)
    await pending(portal, "never-sent", 10)
    await pending(portal, "in-flight", 0)  # may still be charging: not touched yet
    await charged(portal, "approved", "tok_approve")
    await charged(portal, "declined", "tok_decline")

    done = await reconcile_pending_payments(portal.services, NOW)
    assert (done.settled, done.declined, done.released, done.unknown) == (1, 1, 1, 0)
    again = await reconcile_pending_payments(portal.services, NOW)
    assert again.total == 0  # nothing is settled twice

    async with portal.services.sessions() as session:
        attempts = dict(
            (
                await session.execute(
                    select(m.PaymentAttempt.idempotency_key, m.PaymentAttempt.status)
                )
            ).all()
        )
        payments = (
            await session.scalars(
                select(m.Payment.amount_cents)
                .join(m.PaymentAttempt, m.PaymentAttempt.payment_id == m.Payment.id)
                .where(m.Payment.statement_id == statement)
            )
        ).all()
    assert attempts == {"approved": "succeeded", "declined": "declined", "in-flight": "pending"}
    assert payments == [100]
