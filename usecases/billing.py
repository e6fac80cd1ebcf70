"""Billing writes: paying a statement, asking for a payment plan or for financial assistance,
and reconciling the payments a dead process left pending.

A payment runs in three short steps, so no transaction stays open while the gateway answers:
1. reserve: with the statement row locked, find the idempotency key or store it as a pending
   attempt for the amount, once the amount is checked against what is due minus what other
   pending attempts hold (committed: other payments now see it);
2. charge: ask the gateway, no transaction open;
3. settle: record the payment and end the attempt (or record the decline), mark the
   statement paid when nothing is due any more.
A request whose key is already stored waits for that attempt to end and answers with its
outcome. If the gateway cannot be reached the attempt is removed, so the key can be retried;
the gateway gets a reference derived from the key, so a provider that did charge recognizes
the retry.

A process killed between the charge and the settle leaves the attempt pending, holding its
amount against the statement, while the gateway may have charged the card.
`reconcile_payments` asks the gateway what became of each attempt pending longer than any
charge takes, by the reference it was charged with, and records that answer exactly as the
request would have: approved, the payment is recorded once (the attempt row ends in the same
transaction, only if still pending); declined, the decline is recorded; never received, the
attempt is released so the amount and the key are free again (docs/operations.md).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from domain import billing
from domain.access import PatientGrant
from domain.billing import (
    AlreadyPaid,
    AlreadyRequested,
    ChargeOutcome,
    ChargeRequest,
    GatewayUnavailable,
    PaymentDeclined,
    PaymentGateway,
    PaymentInProgress,
    PaymentRequest,
    PaymentUnavailable,
)
from domain.errors import BrokenInvariant
from domain.money import Money
from persistence import models as m
from persistence.billing import DECLINED, SUCCEEDED, AttemptEnded, DuplicateAttempt, PendingAttempt
from persistence.db import retry_while_unavailable
from persistence.queries.billing import PaymentRow, RequestRow
from persistence.uow import UnitOfWork

log = logging.getLogger("portal.billing")
# How long a request whose card was charged waits for an unreachable database to record it;
# past that the attempt stays pending and the reconciliation job records it.
SETTLE_WAIT_SECONDS = 15.0
REPLAY_WAIT_SECONDS = 15.0  # how long a repeated request waits for the first to finish
REPLAY_POLL_SECONDS = 0.05

# The command of payStatement is `domain.billing.PaymentRequest`.


@dataclass(frozen=True)
class RequestPaymentPlan:
    statement_id: str
    months: int


@dataclass(frozen=True)
class RequestFinancialAssistance:
    statement_id: str
    household_size: int
    annual_income_cents: int
    note: str | None


@dataclass(frozen=True)
class Paid:
    payment: PaymentRow
    statement: m.Statement
    grant: PatientGrant  # the statement's, for reading it back


R = TypeVar("R", m.PaymentPlanRequest, m.FinancialAssistanceRequest)


@dataclass(frozen=True)
class Requested(Generic[R]):
    request: RequestRow[R]
    statement: m.Statement
    grant: PatientGrant  # the statement's, for reading it back


async def guarantor_of(uow: UnitOfWork, statement_id: str) -> str | None:
    """Whose statement it is: the caller checks BILLING of that patient before any write."""
    async with uow:
        return await uow.billing.guarantor_of(statement_id)


# -- payStatement ---------------------------------------------------------------------------
async def pay_statement(
    command: PaymentRequest,
    grant: PatientGrant,
    uow: UnitOfWork,
    gateway: PaymentGateway,
    now: datetime,
) -> Paid:
    """`grant`: BILLING of the statement's guarantor (checked by the caller); the payment is
    the grant's account's, keyed by its idempotency key."""
    billing.check_payment_request(command)
    attempt_id = await _reserve(uow, grant.account_id, command, now)
    if attempt_id is None:
        payment_id = await _outcome_of(uow, grant.account_id, command)
    else:
        payment_id = await _charge(uow, gateway, attempt_id, grant.account_id, command, now)
    return await _paid(uow, payment_id, grant)


async def _reserve(
    uow: UnitOfWork, account_id: str, request: PaymentRequest, now: datetime
) -> str | None:
    """Step 1: the new pending attempt's id, or None when the key is stored already."""
    try:
        async with uow:
            if not await uow.billing.lock_statement(request.statement_id):
                raise AlreadyPaid(field="statementId")  # gone since the access check
            if await uow.billing.attempt(account_id, request.idempotency_key) is not None:
                return None
            balance = await uow.billing.balance(request.statement_id)
            billing.check_payable(balance, request.amount_cents)
            attempt_id = await uow.billing.add_attempt(
                account_id=account_id,
                idempotency_key=request.idempotency_key,
                statement_id=request.statement_id,
                amount_cents=request.amount_cents,
                now=now,
            )
            await uow.commit()
    except DuplicateAttempt:
        return None  # the same key, stored meanwhile for another statement
    return attempt_id


async def _outcome_of(uow: UnitOfWork, account_id: str, request: PaymentRequest) -> str:
    """A repeated key: the payment the first request made, once it has ended, or why not."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + REPLAY_WAIT_SECONDS
    while True:
        async with uow:
            stored = await uow.billing.attempt(account_id, request.idempotency_key)
        if stored is None:  # the first request could not reach the gateway and let go
            raise PaymentUnavailable()
        billing.same_request(stored.statement_id, stored.amount_cents, request)
        if stored.status == SUCCEEDED and stored.payment_id is not None:
            return stored.payment_id
        if stored.status == DECLINED:
            raise PaymentDeclined(_declined(stored.decline_reason), field="paymentToken")
        if loop.time() >= deadline:
            raise PaymentInProgress()
        await asyncio.sleep(REPLAY_POLL_SECONDS)


async def _charge(
    uow: UnitOfWork,
    gateway: PaymentGateway,
    attempt_id: str,
    account_id: str,
    request: PaymentRequest,
    now: datetime,
) -> str:
    """Steps 2 and 3: ask the gateway with no transaction open, then record its answer."""
    async with uow:
        statement = await uow.billing.statement(request.statement_id)
        if statement is None:
            raise BrokenInvariant("statement is None: the attempt holds a foreign key to it")
        currency, account_number = statement.currency, statement.account_number
    charge_request = ChargeRequest(
        token=request.token,
        amount=Money(request.amount_cents, currency),
        reference=billing.gateway_reference(account_id, request.idempotency_key),
        description=f"Statement {account_number}",
    )
    try:
        outcome = await gateway.charge(charge_request)
    except GatewayUnavailable:
        async with uow:
            await uow.billing.forget_attempt(attempt_id)
            await uow.commit()
        raise PaymentUnavailable() from None
    answer = GatewayAnswer(attempt_id, request.statement_id, request.amount_cents, outcome)
    try:
        payment_id = await settle_charge(uow, answer, now)
    except AttemptEnded:
        # Recorded already: by the reconciliation job while we waited out a database
        # restart, or by our own commit whose acknowledgement the restart lost.
        return await _outcome_of(uow, account_id, request)
    if payment_id is None:
        raise PaymentDeclined(_declined(outcome.decline_reason), field="paymentToken")
    return payment_id


async def _paid(uow: UnitOfWork, payment_id: str, grant: PatientGrant) -> Paid:
    async with uow:
        payment = await uow.billing.payment(payment_id)
        if payment is None:
            raise BrokenInvariant("payment is None")
        statement = await uow.billing.statement(payment.statement_id)
        if statement is None:
            raise BrokenInvariant("statement is None")
        uow.session.expunge(payment)  # kept as read: leaving the block expires what remains
        uow.session.expunge(statement)
    row = PaymentRow(payment, statement.guarantor_patient_id, statement.currency)
    return Paid(row, statement, grant)


def _declined(reason: str | None) -> str:
    detail = f" {reason}" if reason else ""
    return f"The payment was declined.{detail} Nothing was charged."


# -- requestPaymentPlan, requestFinancialAssistance --------------------------------------------
async def request_payment_plan(
    command: RequestPaymentPlan,
    grant: PatientGrant,
    uow: UnitOfWork,
    policy: billing.PaymentPlanPolicy,
    now: datetime,
) -> Requested[m.PaymentPlanRequest]:
    """`grant`: BILLING of the statement's guarantor (checked by the caller)."""
    async with uow:
        due = await _open_balance(uow, command.statement_id)
        installment = billing.plan_installment(due, command.months, policy)
        if await uow.billing.open_plan_request(command.statement_id):
            raise AlreadyRequested(field="statementId")
        row = uow.billing.add_plan_request(
            statement_id=command.statement_id,
            account_id=grant.account_id,
            months=command.months,
            installment_cents=installment.amount_cents,
            now=now,
        )
        statement = await uow.billing.statement(command.statement_id)
        await uow.commit()
    return _requested(row, statement, grant)


async def request_financial_assistance(
    command: RequestFinancialAssistance, grant: PatientGrant, uow: UnitOfWork, now: datetime
) -> Requested[m.FinancialAssistanceRequest]:
    """`grant`: BILLING of the statement's guarantor (checked by the caller)."""
    note = (command.note or "").strip() or None
    billing.check_assistance(command.household_size, command.annual_income_cents, note)
    async with uow:
        await _open_balance(uow, command.statement_id)
        if await uow.billing.open_assistance_request(command.statement_id):
            raise AlreadyRequested(field="statementId")
        row = uow.billing.add_assistance_request(
            statement_id=command.statement_id,
            account_id=grant.account_id,
            household_size=command.household_size,
            annual_income_cents=command.annual_income_cents,
            note=note,
            now=now,
        )
        statement = await uow.billing.statement(command.statement_id)
        await uow.commit()
    return _requested(row, statement, grant)


def _requested(row: R, statement: m.Statement | None, grant: PatientGrant) -> Requested[R]:
    if statement is None:
        raise BrokenInvariant("statement is None")
    request = RequestRow(row, statement.guarantor_patient_id, statement.currency)
    return Requested(request, statement, grant)


async def _open_balance(uow: UnitOfWork, statement_id: str) -> Money:
    """Lock the statement (requests on it are decided one at a time) and what is due on it."""
    await uow.billing.lock_statement(statement_id)
    balance = await uow.billing.balance(statement_id)
    if balance.status == "paid" or billing.paid_in_full(balance):
        raise AlreadyPaid(field="statementId")
    return balance.due


# -- the gateway's answers ------------------------------------------------------------------


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
