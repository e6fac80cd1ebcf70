"""Statements, their line items and payments. Billing belongs to the guarantor."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING

import strawberry

from domain.access import PatientGrant
from resolvers import billing as r
from schema.base import Connection, Info, Node, cursor_values, page_size
from schema.construct import enum_of, maker
from schema.money import Money

if TYPE_CHECKING:
    from persistence import models as m
    from persistence.queries.billing import LineItemRow, PaymentRow, RequestRow, StatementRow


_new = object.__new__  # (line items make their Money inline)


@strawberry.enum
class StatementStatus(Enum):
    OPEN = "open"
    PAID = "paid"


@strawberry.enum
class PaymentMethod(Enum):
    CARD = "card"
    BANK_ACCOUNT = "bank_account"
    HSA_CARD = "hsa_card"
    CHECK = "check"


@strawberry.type
class StatementLineItem:
    service_date: date
    description: str
    code: str = strawberry.field(description="Procedure code (CPT/HCPCS).")
    charge: Money
    insurance_paid: Money
    adjustment: Money
    patient_responsibility: Money
    patient_name: str = strawberry.field(
        description="Who was served; a guarantor's statement also lists their dependents."
    )

    @classmethod
    def from_row(cls, row: LineItemRow) -> StatementLineItem:
        line, currency = row.line, row.currency
        # Its four amounts made as `cents` makes them, inline: no frame per amount.
        charge, paid, adjustment, patient = _new(Money), _new(Money), _new(Money), _new(Money)
        charge.amount_cents, charge.currency = line.charge_cents, currency
        paid.amount_cents, paid.currency = line.insurance_paid_cents, currency
        adjustment.amount_cents, adjustment.currency = line.adjustment_cents, currency
        patient.amount_cents, patient.currency = line.patient_cents, currency
        return _line_item(
            line.service_date,
            line.description,
            line.code,
            charge,
            paid,
            adjustment,
            patient,
            f"{row.patient_preferred or row.patient_given} {row.patient_family}",
        )


# Positional, in this order (schema/construct.py).
_line_item = maker(
    StatementLineItem,
    "service_date",
    "description",
    "code",
    "charge",
    "insurance_paid",
    "adjustment",
    "patient_responsibility",
    "patient_name",
)


@strawberry.type
class Payment:
    confirmation_number: str = strawberry.field(description="Quote it to the billing office.")
    amount: Money
    paid_at: datetime
    method: PaymentMethod

    @classmethod
    def from_row(cls, row: PaymentRow) -> Payment:
        return cls(
            confirmation_number=row.payment.id,
            amount=Money.cents(row.payment.amount_cents, row.currency),
            paid_at=row.payment.paid_at,
            method=PaymentMethod(row.payment.method),
        )


@strawberry.enum
class BillingRequestStatus(Enum):
    REQUESTED = "requested"  # recorded, waiting for the billing office
    APPROVED = "approved"
    DECLINED = "declined"


@strawberry.type(description="A request to pay a statement in monthly installments.")
class PaymentPlanRequest:
    months: int
    installment: Money
    status: BillingRequestStatus
    requested_at: datetime

    @classmethod
    def from_row(cls, row: RequestRow[m.PaymentPlanRequest]) -> PaymentPlanRequest:
        request = row.request
        return cls(
            months=request.months,
            installment=Money.cents(request.installment_cents, row.currency),
            status=BillingRequestStatus(request.status),
            requested_at=request.created_at,
        )


@strawberry.type(description="A request for financial assistance with a statement.")
class FinancialAssistanceRequest:
    household_size: int
    annual_income: Money
    note: str | None
    status: BillingRequestStatus
    requested_at: datetime

    @classmethod
    def from_row(cls, row: RequestRow[m.FinancialAssistanceRequest]) -> FinancialAssistanceRequest:
        request = row.request
        return cls(
            household_size=request.household_size,
            annual_income=Money.cents(request.annual_income_cents, row.currency),
            note=request.note,
            status=BillingRequestStatus(request.status),
            requested_at=request.created_at,
        )


@strawberry.type
class Statement(Node):
    account_number: str
    statement_date: date
    due_date: date
    status: StatementStatus
    internal_id: strawberry.Private[str]
    patient_id: strawberry.Private[str]  # the guarantor
    currency: strawberry.Private[str]
    grant: strawberry.Private[PatientGrant]
    paid_cents: strawberry.Private[int | None]  # when the query loading it summed them

    def node_id(self) -> str:
        return self.internal_id

    @strawberry.field
    async def line_items(self, info: Info) -> list[StatementLineItem]:
        rows = await r.line_items(info.context, self.grant, self.internal_id)
        return [StatementLineItem.from_row(row) for row in rows]

    @strawberry.field
    async def payments(self, info: Info) -> list[Payment]:
        rows = await r.payments(info.context, self.grant, self.internal_id)
        return [Payment.from_row(row) for row in rows]

    @strawberry.field(description="Patient responsibility of the lines, minus payments.")
    async def amount_due(self, info: Info) -> Money:
        return Money.of(
            await r.statement_amount_due(
                info.context, self.grant, self.internal_id, self.currency, self.paid_cents
            )
        )

    @strawberry.field(description="The latest payment-plan request on this statement, if any.")
    async def payment_plan_request(self, info: Info) -> PaymentPlanRequest | None:
        row = await r.payment_plan_request(info.context, self.grant, self.internal_id)
        return PaymentPlanRequest.from_row(row) if row else None

    @strawberry.field(description="The latest financial-assistance request, if any.")
    async def financial_assistance_request(self, info: Info) -> FinancialAssistanceRequest | None:
        row = await r.financial_assistance_request(info.context, self.grant, self.internal_id)
        return FinancialAssistanceRequest.from_row(row) if row else None

    @classmethod
    async def fetch_node(cls, info: Info, row_id: str) -> Statement | None:
        row, grant = await r.statement(info.context, row_id)
        return cls.from_row(row, grant) if row else None

    @classmethod
    def from_row(cls, row: m.Statement | StatementRow, grant: PatientGrant) -> Statement:
        return _statement(
            row.id,
            row.guarantor_patient_id,
            row.currency,
            grant,
            row.paid_cents,
            row.account_number,
            row.statement_date,
            row.due_date,
            _statement_status(row.status),
        )


_statement = maker(
    Statement,
    "internal_id",
    "patient_id",
    "currency",
    "grant",
    "paid_cents",
    "account_number",
    "statement_date",
    "due_date",
    "status",
)
_statement_status = enum_of(StatementStatus)


async def statements(
    info: Info,
    grant: PatientGrant,
    status: StatementStatus | None,
    first: int | None,
    after: str | None,
) -> Connection[Statement]:
    """Patient.statements: the guarantor's statements, newest first, a page at a time."""
    size, after_values = page_size(first), cursor_values(after, [date, str])
    page = await r.statements(
        info.context, grant, status.value if status else None, size, after_values
    )
    return Connection.of_each(page, Statement.from_row, grant)


async def balance(info: Info, grant: PatientGrant) -> Money:
    """Patient.balance: sum of the amounts due of the guarantor's open statements."""
    return Money.of(await r.balance(info.context, grant))
