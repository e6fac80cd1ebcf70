"""Paying statements and asking for payment plans or financial assistance: inputs, payloads
and their error codes."""

from __future__ import annotations

from enum import Enum

import strawberry

from schema.billing import FinancialAssistanceRequest, Payment, PaymentPlanRequest, Statement
from schema.payloads import UserError


@strawberry.enum
class PaymentErrorCode(Enum):
    INVALID_AMOUNT = "INVALID_AMOUNT"
    OVERPAYMENT = "OVERPAYMENT"
    ALREADY_PAID = "ALREADY_PAID"
    INVALID_IDEMPOTENCY_KEY = "INVALID_IDEMPOTENCY_KEY"
    INVALID_PAYMENT_TOKEN = "INVALID_PAYMENT_TOKEN"  # noqa: S105 (an error code)
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    PAYMENT_IN_PROGRESS = "PAYMENT_IN_PROGRESS"
    PAYMENT_DECLINED = "PAYMENT_DECLINED"
    PAYMENT_UNAVAILABLE = "PAYMENT_UNAVAILABLE"


@strawberry.type
class PaymentError(UserError):
    code: PaymentErrorCode


@strawberry.enum
class BillingRequestErrorCode(Enum):
    ALREADY_PAID = "ALREADY_PAID"
    ALREADY_REQUESTED = "ALREADY_REQUESTED"
    INVALID_MONTHS = "INVALID_MONTHS"
    INVALID_HOUSEHOLD_SIZE = "INVALID_HOUSEHOLD_SIZE"
    INVALID_INCOME = "INVALID_INCOME"
    NOTE_TOO_LONG = "NOTE_TOO_LONG"


@strawberry.type
class BillingRequestError(UserError):
    code: BillingRequestErrorCode


@strawberry.input
class PayStatementInput:
    statement_id: strawberry.ID
    amount_cents: int = strawberry.field(description="Up to the amount due; partial is fine.")
    payment_token: str = strawberry.field(
        description="The card as tokenized by the payment provider's client library "
        "(sandbox: tok_approve, tok_decline, tok_insufficient_funds, tok_expired_card)."
    )
    idempotency_key: str = strawberry.field(
        description="Chosen by the client, one per payment the payer means to make (e.g. a "
        "UUID); a retry with the same key is never charged twice and gets the first answer."
    )


@strawberry.type
class PayStatementPayload:
    payment: Payment | None = None
    statement: Statement | None = None
    errors: list[PaymentError] = strawberry.field(default_factory=list)


@strawberry.input
class RequestPaymentPlanInput:
    statement_id: strawberry.ID
    months: int


@strawberry.type
class RequestPaymentPlanPayload:
    payment_plan_request: PaymentPlanRequest | None = None
    statement: Statement | None = None
    errors: list[BillingRequestError] = strawberry.field(default_factory=list)


@strawberry.input
class RequestFinancialAssistanceInput:
    statement_id: strawberry.ID
    household_size: int
    annual_income_cents: int
    note: str | None = None


@strawberry.type
class RequestFinancialAssistancePayload:
    financial_assistance_request: FinancialAssistanceRequest | None = None
    statement: Statement | None = None
    errors: list[BillingRequestError] = strawberry.field(default_factory=list)
