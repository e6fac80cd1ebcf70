"""Paying statements and asking the billing office for a plan or for assistance (rules:
domain/billing.py; the steps of a payment: resolvers/billing_actions.py)."""

from __future__ import annotations

import strawberry

from resolvers import billing_actions as r
from schema import billing_actions as s
from schema.base import Info


@strawberry.type
class BillingMutations:
    @strawberry.mutation(
        description="Pay all or part of what is due on a statement: the patient (guarantor) "
        "or a proxy with the BILLING scope. The same idempotencyKey is never charged twice: "
        "a retry gets the first request's answer. A declined card changes no balance."
    )
    async def pay_statement(self, info: Info, input: s.PayStatementInput) -> s.PayStatementPayload:
        return await r.pay_statement(info, input)

    @strawberry.mutation(
        description="Ask to pay what is due in monthly installments; recorded on the statement "
        "for the billing office to review (one open request per statement)."
    )
    async def request_payment_plan(
        self, info: Info, input: s.RequestPaymentPlanInput
    ) -> s.RequestPaymentPlanPayload:
        return await r.request_payment_plan(info, input)

    @strawberry.mutation(
        description="Ask for financial assistance with a statement; recorded on the statement "
        "for the billing office to review (one open request per statement)."
    )
    async def request_financial_assistance(
        self, info: Info, input: s.RequestFinancialAssistanceInput
    ) -> s.RequestFinancialAssistancePayload:
        return await r.request_financial_assistance(info, input)
