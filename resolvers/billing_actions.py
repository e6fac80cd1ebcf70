"""payStatement, requestPaymentPlan, requestFinancialAssistance: the mutations, then the
steps a payment is made of.

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
the retry. A process that dies between steps 1 and 3 leaves a pending attempt that holds its
amount until the reconciliation job (usecases/billing.py, docs/operations.md) asks the
gateway and settles it.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from domain import billing
from domain.billing import (
    AlreadyPaid,
    AlreadyRequested,
    ChargeRequest,
    GatewayUnavailable,
    PaymentDeclined,
    PaymentInProgress,
    PaymentRequest,
    PaymentUnavailable,
    gateway_reference,
)
from domain.errors import BrokenInvariant
from domain.money import Money
from domain.scopes import RecordArea
from persistence.billing import DECLINED, SUCCEEDED, AttemptEnded, DuplicateAttempt
from persistence.queries.billing import PaymentRow
from persistence.queries.billing_requests import RequestRow
from persistence.uow import UnitOfWork
from resolvers.payloads import user_errors
from schema import billing as b
from schema import billing_actions as s
from schema.base import internal_id
from usecases.billing import GatewayAnswer, settle_charge

if TYPE_CHECKING:
    from domain.access import PatientGrant
    from schema.base import Info

REPLAY_WAIT_SECONDS = 15.0  # how long a repeated request waits for the first to finish
REPLAY_POLL_SECONDS = 0.05


# -- the mutations ------------------------------------------------------------------------
@user_errors(s.PayStatementPayload, s.PaymentError, s.PaymentErrorCode)
async def pay_statement(info: Info, input: s.PayStatementInput) -> s.PayStatementPayload:
    ctx = info.context
    uow = UnitOfWork(ctx.services.sessions)
    request = PaymentRequest(
        statement_id=internal_id(input.statement_id, "Statement"),
        amount_cents=input.amount_cents,
        token=input.payment_token,
        idempotency_key=input.idempotency_key,
    )
    grant = await billing_grant(info, uow, request.statement_id, "Payment")
    billing.check_payment_request(request)
    account_id = ctx.require_principal().account_id
    attempt_id = await reserve(uow, account_id, request, ctx.now)
    if attempt_id is None:
        payment_id = await outcome_of(uow, account_id, request)
    else:
        payment_id = await charge(info, uow, attempt_id, account_id, request)
    return await paid(uow, grant, payment_id)


@user_errors(s.RequestPaymentPlanPayload, s.BillingRequestError, s.BillingRequestErrorCode)
async def request_payment_plan(
    info: Info, input: s.RequestPaymentPlanInput
) -> s.RequestPaymentPlanPayload:
    ctx = info.context
    uow = UnitOfWork(ctx.services.sessions)
    statement_id = internal_id(input.statement_id, "Statement")
    grant = await billing_grant(info, uow, statement_id, "PaymentPlanRequest")
    async with uow:
        due = await open_balance(uow, statement_id)
        installment = billing.plan_installment(
            due, input.months, ctx.services.settings.payment_plans
        )
        if await uow.billing.open_plan_request(statement_id):
            raise AlreadyRequested(field="statementId")
        row = uow.billing.add_plan_request(
            statement_id=statement_id,
            account_id=grant.account_id,
            months=input.months,
            installment_cents=installment.amount_cents,
            now=ctx.now,
        )
        statement = await uow.billing.statement(statement_id)
        await uow.commit()
    if statement is None:
        raise BrokenInvariant("statement is None")
    return s.RequestPaymentPlanPayload(
        payment_plan_request=b.PaymentPlanRequest.from_row(
            RequestRow(row, statement.guarantor_patient_id, statement.currency)
        ),
        statement=b.Statement.from_row(statement, grant),
    )


@user_errors(s.RequestFinancialAssistancePayload, s.BillingRequestError, s.BillingRequestErrorCode)
async def request_financial_assistance(
    info: Info, input: s.RequestFinancialAssistanceInput
) -> s.RequestFinancialAssistancePayload:
    ctx = info.context
    uow = UnitOfWork(ctx.services.sessions)
    statement_id = internal_id(input.statement_id, "Statement")
    grant = await billing_grant(info, uow, statement_id, "FinancialAssistanceRequest")
    note = (input.note or "").strip() or None
    billing.check_assistance(input.household_size, input.annual_income_cents, note)
    async with uow:
        await open_balance(uow, statement_id)
        if await uow.billing.open_assistance_request(statement_id):
            raise AlreadyRequested(field="statementId")
        row = uow.billing.add_assistance_request(
            statement_id=statement_id,
            account_id=grant.account_id,
            household_size=input.household_size,
            annual_income_cents=input.annual_income_cents,
            note=note,
            now=ctx.now,
        )
        statement = await uow.billing.statement(statement_id)
        await uow.commit()
    if statement is None:
        raise BrokenInvariant("statement is None")
    return s.RequestFinancialAssistancePayload(
        financial_assistance_request=b.FinancialAssistanceRequest.from_row(
            RequestRow(row, statement.guarantor_patient_id, statement.currency)
        ),
        statement=b.Statement.from_row(statement, grant),
    )


# -- the steps ------------------------------------------------------------------------------
async def billing_grant(
    info: Info, uow: UnitOfWork, statement_id: str, object_type: str
) -> PatientGrant:
    """BILLING of the statement's guarantor; unknown statements answer like forbidden ones."""
    async with uow:
        guarantor = await uow.billing.guarantor_of(statement_id)
    return info.context.act(guarantor or "", RecordArea.BILLING, object_type)


async def open_balance(uow: UnitOfWork, statement_id: str) -> Money:
    """Lock the statement (requests on it are decided one at a time) and what is due on it."""
    await uow.billing.lock_statement(statement_id)
    balance = await uow.billing.balance(statement_id)
    if balance.status == "paid" or billing.paid_in_full(balance):
        raise AlreadyPaid(field="statementId")
    return balance.due


async def reserve(
    uow: UnitOfWork, account_id: str, request: PaymentRequest, now: object
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
                now=now,  # type: ignore[arg-type]
            )
            await uow.commit()
    except DuplicateAttempt:
        return None  # the same key, stored meanwhile for another statement
    return attempt_id


async def outcome_of(uow: UnitOfWork, account_id: str, request: PaymentRequest) -> str:
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


async def charge(
    info: Info, uow: UnitOfWork, attempt_id: str, account_id: str, request: PaymentRequest
) -> str:
    """Steps 2 and 3: ask the gateway with no transaction open, then record its answer."""
    ctx = info.context
    async with uow:
        statement = await uow.billing.statement(request.statement_id)
        if statement is None:
            raise BrokenInvariant("statement is None: the attempt holds a foreign key to it")
        currency, account_number = statement.currency, statement.account_number
    charge_request = ChargeRequest(
        token=request.token,
        amount=Money(request.amount_cents, currency),
        reference=gateway_reference(account_id, request.idempotency_key),
        description=f"Statement {account_number}",
    )
    try:
        outcome = await ctx.services.gateway.charge(charge_request)
    except GatewayUnavailable:
        async with uow:
            await uow.billing.forget_attempt(attempt_id)
            await uow.commit()
        raise PaymentUnavailable() from None
    answer = GatewayAnswer(attempt_id, request.statement_id, request.amount_cents, outcome)
    try:
        payment_id = await settle_charge(uow, answer, ctx.now)
    except AttemptEnded:
        # Recorded already: by the reconciliation job while we waited out a database
        # restart, or by our own commit whose acknowledgement the restart lost.
        return await outcome_of(uow, account_id, request)
    if payment_id is None:
        raise PaymentDeclined(_declined(outcome.decline_reason), field="paymentToken")
    return payment_id


async def paid(uow: UnitOfWork, grant: PatientGrant, payment_id: str) -> s.PayStatementPayload:
    async with uow:
        payment = await uow.billing.payment(payment_id)
        if payment is None:
            raise BrokenInvariant("payment is None")
        statement = await uow.billing.statement(payment.statement_id)
        if statement is None:
            raise BrokenInvariant("statement is None")
        row = PaymentRow(payment, statement.guarantor_patient_id, statement.currency)
        return s.PayStatementPayload(
            payment=b.Payment.from_row(row), statement=b.Statement.from_row(statement, grant)
        )


def _declined(reason: str | None) -> str:
    detail = f" {reason}" if reason else ""
    return f"The payment was declined.{detail} Nothing was charged."
