"""Billing: statements of a guarantor, their lines and payments, amounts due and the balance
(reads), and paying a statement or asking for a plan or for assistance (writes: the rules in
domain/billing.py, the steps of a payment in usecases/billing.py). Every statement is read
and written through the BILLING grant of its guarantor."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from domain.access import PatientGrant
from domain.billing import PaymentRequest
from domain.errors import BrokenInvariant
from domain.money import Money, amount_due
from domain.paging import Page, PageOf
from domain.scopes import RecordArea
from persistence import models as m
from persistence.uow import UnitOfWork
from resolvers.owned import owned_row
from usecases import billing as usecases

if TYPE_CHECKING:
    from persistence.queries.billing import LineItemRow, PaymentRow, RequestRow
    from runtime.context import Context

BALANCE_CURRENCY = "USD"  # a balance with no open statements


# -- reads ----------------------------------------------------------------------------------
async def statements(
    ctx: Context, grant: PatientGrant, status: str | None, size: int, after: tuple[Any, ...] | None
) -> PageOf:
    page = await ctx.loaders.statement_pages.get((grant, Page(size, after, status)))
    if page is None:
        raise BrokenInvariant("page is None")
    return page


async def balance(ctx: Context, grant: PatientGrant) -> Money:
    """Sum of the amounts due of the guarantor's open statements."""
    totals = await ctx.loaders.open_statement_totals.get(grant) or []
    amounts = [amount_due(t.patient_cents, t.paid_cents, t.currency) for t in totals]
    return sum(amounts, Money(0, amounts[0].currency if amounts else BALANCE_CURRENCY))


async def line_items(ctx: Context, grant: PatientGrant, statement_id: str) -> list[LineItemRow]:
    return await ctx.loaders.statement_lines.get((grant, statement_id)) or []


async def payments(ctx: Context, grant: PatientGrant, statement_id: str) -> list[PaymentRow]:
    return await ctx.loaders.statement_payments.get((grant, statement_id)) or []


async def statement_amount_due(
    ctx: Context, grant: PatientGrant, statement_id: str, currency: str, paid_cents: int | None
) -> Money:
    """From the lines and payments this request loads anyway: no query per statement.
    `paid_cents`: when the statement pages' own query summed them already."""
    key = (grant, statement_id)
    loaders = ctx.loaders
    if paid_cents is None:
        lines, paid = await asyncio.gather(
            loaders.statement_lines.get(key), loaders.statement_payments.get(key)
        )
        paid_cents = sum(row.payment.amount_cents for row in paid or [])
    else:
        lines = await loaders.statement_lines.get(key)
    patient_cents = sum(row.line.patient_cents for row in lines or [])
    return amount_due(patient_cents, paid_cents, currency)


async def payment_plan_request(
    ctx: Context, grant: PatientGrant, statement_id: str
) -> RequestRow[m.PaymentPlanRequest] | None:
    return await ctx.loaders.payment_plan_request.get((grant, statement_id))


async def financial_assistance_request(
    ctx: Context, grant: PatientGrant, statement_id: str
) -> RequestRow[m.FinancialAssistanceRequest] | None:
    return await ctx.loaders.assistance_request.get((grant, statement_id))


# -- writes ---------------------------------------------------------------------------------
async def pay_statement(ctx: Context, command: PaymentRequest) -> usecases.Paid:
    uow = UnitOfWork(ctx.services.sessions)
    grant = await _billing_grant(ctx, uow, command.statement_id, "Payment")
    return await usecases.pay_statement(command, grant, uow, ctx.services.gateway, ctx.now)


async def request_payment_plan(
    ctx: Context, command: usecases.RequestPaymentPlan
) -> usecases.Requested[m.PaymentPlanRequest]:
    uow = UnitOfWork(ctx.services.sessions)
    grant = await _billing_grant(ctx, uow, command.statement_id, "PaymentPlanRequest")
    policy = ctx.services.settings.payment_plans
    return await usecases.request_payment_plan(command, grant, uow, policy, ctx.now)


async def request_financial_assistance(
    ctx: Context, command: usecases.RequestFinancialAssistance
) -> usecases.Requested[m.FinancialAssistanceRequest]:
    uow = UnitOfWork(ctx.services.sessions)
    grant = await _billing_grant(ctx, uow, command.statement_id, "FinancialAssistanceRequest")
    return await usecases.request_financial_assistance(command, grant, uow, ctx.now)


async def _billing_grant(
    ctx: Context, uow: UnitOfWork, statement_id: str, object_type: str
) -> PatientGrant:
    """BILLING of the statement's guarantor; unknown statements answer like forbidden ones."""
    guarantor = await usecases.guarantor_of(uow, statement_id)
    return ctx.act(guarantor or "", RecordArea.BILLING, object_type)


async def statement(ctx: Context, row_id: str) -> tuple[m.Statement | None, PatientGrant]:
    """node(id): the statement through its guarantor's BILLING grant (unknown: forbidden)."""
    row, grant = await owned_row(ctx, m.Statement, "Statement", row_id)
    return row, grant
