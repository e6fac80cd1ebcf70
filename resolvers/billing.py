"""Statements of a guarantor, their lines and payments, amounts due and the balance."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import TYPE_CHECKING

from domain.access import PatientGrant
from domain.errors import BrokenInvariant
from domain.money import Money
from domain.money import amount_due as due
from persistence.paging import Page
from schema import billing as s
from schema.base import Connection, cursor_values, page_size
from schema.money import Money as MoneyType

if TYPE_CHECKING:
    from schema.base import Info

BALANCE_CURRENCY = "USD"  # a balance with no open statements


async def statements(
    info: Info,
    grant: PatientGrant,
    status: s.StatementStatus | None,
    first: int | None,
    after: str | None,
) -> Connection[s.Statement]:
    filter_ = status.value if status else None
    page = Page(page_size(first), cursor_values(after, [date, str]), filter_)
    result = await info.context.loaders.statement_pages.get((grant, page))
    if result is None:
        raise BrokenInvariant("result is None")
    return Connection.of(result, lambda row: s.Statement.from_row(row, grant))


async def balance(info: Info, grant: PatientGrant) -> MoneyType:
    """Sum of the amounts due of the guarantor's open statements."""
    totals = await info.context.loaders.open_statement_totals.get(grant) or []
    amounts = [due(t.patient_cents, t.paid_cents, t.currency) for t in totals]
    return MoneyType.of(
        sum(amounts, Money(0, amounts[0].currency if amounts else BALANCE_CURRENCY))
    )


async def line_items(info: Info, statement: s.Statement) -> list[s.StatementLineItem]:
    rows = await info.context.loaders.statement_lines.get((statement.grant, statement.internal_id))
    return [s.StatementLineItem.from_row(row) for row in rows or []]


async def payments(info: Info, statement: s.Statement) -> list[s.Payment]:
    key = (statement.grant, statement.internal_id)
    rows = await info.context.loaders.statement_payments.get(key)
    return [s.Payment.from_row(row) for row in rows or []]


async def amount_due(info: Info, statement: s.Statement) -> MoneyType:
    """From the lines and payments this request loads anyway: no query per statement."""
    key = (statement.grant, statement.internal_id)
    loaders = info.context.loaders
    paid_cents = statement.paid_cents  # summed by the statement pages' own statement
    if paid_cents is None:
        lines, paid = await asyncio.gather(
            loaders.statement_lines.get(key), loaders.statement_payments.get(key)
        )
        paid_cents = sum(row.payment.amount_cents for row in paid or [])
    else:
        lines = await loaders.statement_lines.get(key)
    patient_cents = sum(row.line.patient_cents for row in lines or [])
    return MoneyType.of(due(patient_cents, paid_cents, statement.currency))


async def payment_plan_request(info: Info, statement: s.Statement) -> s.PaymentPlanRequest | None:
    key = (statement.grant, statement.internal_id)
    row = await info.context.loaders.payment_plan_request.get(key)
    return s.PaymentPlanRequest.from_row(row) if row else None


async def financial_assistance_request(
    info: Info, statement: s.Statement
) -> s.FinancialAssistanceRequest | None:
    key = (statement.grant, statement.internal_id)
    row = await info.context.loaders.assistance_request.get(key)
    return s.FinancialAssistanceRequest.from_row(row) if row else None


async def statement_node(info: Info, row_id: str) -> s.Statement | None:
    from persistence import models as m
    from resolvers.nodes import owned_row  # resolvers.nodes imports this module

    row, grant = await owned_row(info, m.Statement, "Statement", row_id)
    return s.Statement.from_row(row, grant) if row else None
