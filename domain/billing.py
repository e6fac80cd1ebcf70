"""Paying statements, payment plans and financial-assistance requests: the rules, and the
payment gateway as an interface (the sandbox one is runtime/payments.py).

A statement's amount due is the patient responsibility of its lines minus its payments
(domain/money.py). A payment may be partial, never more than is due: an amount already
promised to a payment in flight counts as paid while the gateway answers, so two payments
at once cannot together pay more than is due.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Protocol

from domain.errors import DomainError
from domain.money import Money

MAX_IDEMPOTENCY_KEY_LENGTH = 100
MAX_TOKEN_LENGTH = 200
MAX_NOTE_LENGTH = 2000
MAX_HOUSEHOLD_SIZE = 20


# -- the gateway ------------------------------------------------------------------------
@dataclass(frozen=True)
class ChargeRequest:
    token: str  # the card, tokenized by the client with the gateway; never card numbers
    amount: Money
    reference: str  # the gateway's own idempotency key: a retried charge is not charged twice
    description: str


@dataclass(frozen=True)
class ChargeOutcome:
    approved: bool
    reference: str | None = None  # the gateway's id of the charge
    decline_reason: str | None = None  # for the payer: "insufficient funds", ...
    method: str = "card"


class GatewayUnavailable(Exception):
    """The gateway could not be reached or did not answer; whether it charged is unknown
    to us, but the charge's `reference` lets a retry be recognized by the gateway."""


class PaymentGateway(Protocol):
    async def charge(self, request: ChargeRequest) -> ChargeOutcome: ...

    async def lookup(self, reference: str) -> ChargeOutcome | None:
        """What became of the charge asked with `reference`: its outcome, or None when the
        gateway never received it (so nothing was charged). GatewayUnavailable when the
        gateway cannot say now. Payment providers answer this from their own records
        (a charge search by idempotency key or metadata)."""
        ...


def gateway_reference(account_id: str, idempotency_key: str) -> str:
    """The gateway's idempotency key for ours: stable across retries, no key text leaked."""
    digest = hashlib.sha256(f"{account_id}\x00{idempotency_key}".encode()).hexdigest()
    return f"portal_{digest[:40]}"


# -- errors ----------------------------------------------------------------------------
class InvalidAmount(DomainError):
    code = "INVALID_AMOUNT"
    default_message = "Enter an amount greater than zero."


class Overpayment(DomainError):
    code = "OVERPAYMENT"
    default_message = "The amount is more than is due on this statement."


class AlreadyPaid(DomainError):
    code = "ALREADY_PAID"
    default_message = "This statement is already paid."


class InvalidIdempotencyKey(DomainError):
    code = "INVALID_IDEMPOTENCY_KEY"
    default_message = f"The idempotency key must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters."


class InvalidPaymentToken(DomainError):
    code = "INVALID_PAYMENT_TOKEN"
    default_message = "The payment details are missing; enter them again."


class IdempotencyKeyReused(DomainError):
    code = "IDEMPOTENCY_KEY_REUSED"
    default_message = "This idempotency key was used for another payment."


class PaymentInProgress(DomainError):
    code = "PAYMENT_IN_PROGRESS"
    default_message = "This payment is still being processed. Check the statement shortly."


class PaymentDeclined(DomainError):
    code = "PAYMENT_DECLINED"
    default_message = "The payment was declined. Nothing was charged."


class PaymentUnavailable(DomainError):
    code = "PAYMENT_UNAVAILABLE"
    default_message = "Payments cannot be taken right now. Try again later."


class InvalidMonths(DomainError):
    code = "INVALID_MONTHS"
    default_message = "Choose a plan length the billing office offers."


class AlreadyRequested(DomainError):
    code = "ALREADY_REQUESTED"
    default_message = "A request for this statement is already under review."


class InvalidHouseholdSize(DomainError):
    code = "INVALID_HOUSEHOLD_SIZE"
    default_message = f"Household size must be between 1 and {MAX_HOUSEHOLD_SIZE}."


class InvalidIncome(DomainError):
    code = "INVALID_INCOME"
    default_message = "Annual income cannot be negative."


class NoteTooLong(DomainError):
    code = "NOTE_TOO_LONG"
    default_message = f"The note may have at most {MAX_NOTE_LENGTH} characters."


# -- payments --------------------------------------------------------------------------
@dataclass(frozen=True)
class StatementBalance:
    """What persistence knows of one statement while it is locked."""

    status: str  # "open" or "paid"
    currency: str
    patient_cents: int  # patient responsibility of its lines
    paid_cents: int  # payments recorded
    in_flight_cents: int = 0  # payments the gateway is still answering for

    @property
    def due(self) -> Money:
        return Money(self.patient_cents - self.paid_cents, self.currency)

    @property
    def payable(self) -> Money:
        return Money(self.due.amount_cents - self.in_flight_cents, self.currency)


@dataclass(frozen=True)
class PaymentRequest:
    statement_id: str
    amount_cents: int
    token: str
    idempotency_key: str


def check_payment_request(request: PaymentRequest) -> None:
    """What can be refused before anything is read."""
    if not 0 < len(request.idempotency_key.strip()) <= MAX_IDEMPOTENCY_KEY_LENGTH:
        raise InvalidIdempotencyKey(field="idempotencyKey")
    if request.amount_cents <= 0:
        raise InvalidAmount(field="amountCents")
    if not 0 < len(request.token.strip()) <= MAX_TOKEN_LENGTH:
        raise InvalidPaymentToken(field="paymentToken")


def check_payable(balance: StatementBalance, amount_cents: int) -> Money:
    """The amount to charge, or why not: a paid statement, or more than is due."""
    if balance.status == "paid" or balance.due.amount_cents <= 0:
        raise AlreadyPaid(field="statementId")
    if amount_cents > balance.payable.amount_cents:
        payable = balance.payable
        if payable.amount_cents <= 0:
            raise Overpayment(
                "Another payment of the full amount is being processed.", field="amountCents"
            )
        raise Overpayment(
            f"The amount is more than the {payable.formatted} due on this statement.",
            field="amountCents",
        )
    return Money(amount_cents, balance.currency)


def paid_in_full(balance: StatementBalance) -> bool:
    return balance.due.amount_cents <= 0


def same_request(
    stored_statement_id: str, stored_amount_cents: int, request: PaymentRequest
) -> None:
    """A repeated idempotency key must repeat the same payment."""
    if (stored_statement_id, stored_amount_cents) != (request.statement_id, request.amount_cents):
        raise IdempotencyKeyReused(field="idempotencyKey")


# -- payment plans and financial assistance --------------------------------------------
@dataclass(frozen=True)
class PaymentPlanPolicy:
    min_months: int = 2
    max_months: int = 24
    min_installment_cents: int = 1000  # plans for small balances are not worth the paperwork


def plan_installment(due: Money, months: int, policy: PaymentPlanPolicy) -> Money:
    """The monthly installment (rounded up to the cent) of a plan over `months`."""
    if due.amount_cents <= 0:
        raise AlreadyPaid(field="statementId")
    if not policy.min_months <= months <= policy.max_months:
        raise InvalidMonths(
            f"Choose between {policy.min_months} and {policy.max_months} months.",
            field="months",
        )
    installment = math.ceil(due.amount_cents / months)
    if installment < policy.min_installment_cents:
        minimum = Money(policy.min_installment_cents, due.currency).formatted
        raise InvalidMonths(
            f"Installments must be at least {minimum}; choose fewer months.", field="months"
        )
    return Money(installment, due.currency)


def check_assistance(household_size: int, annual_income_cents: int, note: str | None) -> None:
    if not 1 <= household_size <= MAX_HOUSEHOLD_SIZE:
        raise InvalidHouseholdSize(field="householdSize")
    if annual_income_cents < 0:
        raise InvalidIncome(field="annualIncomeCents")
    if note is not None and len(note) > MAX_NOTE_LENGTH:
        raise NoteTooLong(field="note")
