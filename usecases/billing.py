"""Payments: recording the gateway's answer, and reconciling what a dead process left pending.

A payment is reserved (a pending attempt, committed), charged with no transaction open, then
settled (resolvers/billing_actions.py). A process killed between the charge and the settle
leaves the attempt pending, holding its amount against the statement, while the gateway may
have charged the card. `reconcile_payments` asks the gateway what became of each attempt
pending longer than any charge takes, by the reference it was charged with, and records
that answer exactly as the request would have: approved, the payment is recorded once (the
attempt row ends in the same transaction, only if still pending); declined, the decline is
recorded; never received, the attempt is released so the amount and the key are free again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from domain import billing
from domain.billing import ChargeOutcome, GatewayUnavailable, PaymentGateway
from persistence.billing import AttemptEnded, PendingAttempt
from persistence.db import retry_while_unavailable
from persistence.uow import UnitOfWork

log = logging.getLogger("portal.billing")
# How long a request whose card was charged waits for an unreachable database to record it;
# past that the attempt stays pending and the reconciliation job records it.
SETTLE_WAIT_SECONDS = 15.0


@dataclass(frozen=True)
class GatewayAnswer:
    """What the gateway answered for one pending attempt."""

    attempt_id: str
    statement_id: str
    amount_cents: int
    outcome: ChargeOutcome


async def settle_charge(uow: UnitOfWork, answer: GatewayAnswer, now: datetime) -> str | None:
    """Step 3 of a payment: record the gateway's answer in a transaction of its own, waiting
    out a database restart (the card is charged already: failing now would leave the payer
    with an error and a charge). The new payment's id, or None if declined."""

    async def record() -> str | None:
        async with uow:
            payment_id = await record_outcome(uow, answer, now)
            await uow.commit()
        return payment_id

    return await retry_while_unavailable(
        record, f"recording payment attempt {answer.attempt_id}", SETTLE_WAIT_SECONDS
    )


async def record_outcome(uow: UnitOfWork, answer: GatewayAnswer, now: datetime) -> str | None:
    """Settle a pending attempt with the gateway's answer, inside `uow`'s transaction (the
    caller commits): the new payment's id, or None when the charge was declined."""
    attempt_id, statement_id, outcome = answer.attempt_id, answer.statement_id, answer.outcome
    if not outcome.approved:
        await uow.billing.settle_declined(attempt_id, outcome.decline_reason, now)
        return None
    await uow.billing.lock_statement(statement_id)
    payment_id = await uow.billing.settle_approved(
        attempt_id,
        statement_id=statement_id,
        amount_cents=answer.amount_cents,
        method=outcome.method,
        gateway_reference=outcome.reference,
        now=now,
    )
    if billing.paid_in_full(await uow.billing.balance(statement_id)):
        await uow.billing.mark_paid(statement_id)
    return payment_id


@dataclass(frozen=True)
class ReconcilePayments:
    now: datetime
    # Attempts started before this are not in flight any more: no charge takes that long.
    pending_before: datetime
    limit: int = 100


@dataclass
class Reconciliation:
    settled: int = 0  # the gateway had charged: the payment is recorded
    declined: int = 0
    released: int = 0  # the gateway never received it: nothing was charged
    unknown: int = 0  # the gateway could not say now: tried again next time

    @property
    def total(self) -> int:
        return self.settled + self.declined + self.released


async def reconcile_payments(
    command: ReconcilePayments, uow: UnitOfWork, gateway: PaymentGateway
) -> Reconciliation:
    async with uow:
        pending = await uow.billing.pending_attempts(command.pending_before, command.limit)
    done = Reconciliation()
    for attempt in pending:
        reference = billing.gateway_reference(attempt.account_id, attempt.idempotency_key)
        try:
            outcome = await gateway.lookup(reference)
        except GatewayUnavailable:
            done.unknown += 1
            continue
        try:
            await _settle(uow, attempt, outcome, command.now, done)
        except AttemptEnded:
            continue  # its own request (or another instance) settled it meanwhile
    if done.total or done.unknown:
        log.info("payments reconciled: %s", done)
    return done


async def _settle(
    uow: UnitOfWork,
    attempt: PendingAttempt,
    outcome: ChargeOutcome | None,
    now: datetime,
    done: Reconciliation,
) -> None:
    async with uow:
        if outcome is None:
            await uow.billing.lock_statement(attempt.statement_id)
            await uow.billing.forget_attempt(attempt.id)
            done.released += 1
        elif await record_outcome(
            uow, GatewayAnswer(attempt.id, attempt.statement_id, attempt.amount_cents, outcome), now
        ):
            done.settled += 1
        else:
            done.declined += 1
        await uow.commit()
