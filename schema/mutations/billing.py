"""Paying statements and asking the billing office for a plan or for assistance: inputs
(decoded into the commands of usecases/billing.py), payloads, their error codes and the
mutation fields (rules: domain/billing.py; the steps of a payment: usecases/billing.py)."""

from __future__ import annotations

from enum import Enum

import strawberry

from domain.billing import PaymentRequest
from resolvers import billing as r
from schema.base import Info, internal_id
from schema.billing import FinancialAssistanceRequest, Payment, PaymentPlanRequest, Statement
from schema.payloads import UserError, user_errors
from usecases import billing as usecases


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

    def command(self) -> PaymentRequest:
        return PaymentRequest(
            statement_id=internal_id(self.statement_id, "Statement"),
            amount_cents=self.amount_cents,
            token=self.payment_token,
            idempotency_key=self.idempotency_key,
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

    def command(self) -> usecases.RequestPaymentPlan:
        return usecases.RequestPaymentPlan(internal_id(self.statement_id, "Statement"), self.months)


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

    def command(self) -> usecases.RequestFinancialAssistance:
        return usecases.RequestFinancialAssistance(
            internal_id(self.statement_id, "Statement"),
            self.household_size,
            self.annual_income_cents,
            self.note,
        )


@strawberry.type
class RequestFinancialAssistancePayload:
    financial_assistance_request: FinancialAssistanceRequest | None = None
    statement: Statement | None = None
    errors: list[BillingRequestError] = strawberry.field(default_factory=list)


@strawberry.type
class BillingMutations:
    @strawberry.mutation(
        description="Pay all or part of what is due on a statement: the patient (guarantor) "
        "or a proxy with the BILLING scope. The same idempotencyKey is never charged twice: "
        "a retry gets the first request's answer. A declined card changes no balance."
    )
    @user_errors(PayStatementPayload, PaymentError, PaymentErrorCode)
    async def pay_statement(self, info: Info, input: PayStatementInput) -> PayStatementPayload:
        paid = await r.pay_statement(info.context, input.command())
        return PayStatementPayload(
            payment=Payment.from_row(paid.payment),
            statement=Statement.from_row(paid.statement, paid.grant),
        )

    @strawberry.mutation(
        description="Ask to pay what is due in monthly installments; recorded on the statement "
        "for the billing office to review (one open request per statement)."
    )
    @user_errors(RequestPaymentPlanPayload, BillingRequestError, BillingRequestErrorCode)
    async def request_payment_plan(
        self, info: Info, input: RequestPaymentPlanInput
    ) -> RequestPaymentPlanPayload:
        requested = await r.request_payment_plan(info.context, input.command())
        return RequestPaymentPlanPayload(
            payment_plan_request=PaymentPlanRequest.from_row(requested.request),
            statement=Statement.from_row(requested.statement, requested.grant),
        )

    @strawberry.mutation(
        description="Ask for financial assistance with a statement; recorded on the statement "
        "for the billing office to review (one open request per statement)."
    )
    @user_errors(RequestFinancialAssistancePayload, BillingRequestError, BillingRequestErrorCode)
    async def request_financial_assistance(
        self, info: Info, input: RequestFinancialAssistanceInput
    ) -> RequestFinancialAssistancePayload:
        requested = await r.request_financial_assistance(info.context, input.command())
        return RequestFinancialAssistancePayload(
            financial_assistance_request=FinancialAssistanceRequest.from_row(requested.request),
            statement=Statement.from_row(requested.statement, requested.grant),
        )
