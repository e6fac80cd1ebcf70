"""What a new message will cost and when to expect a reply, asked before sending.

Kept apart from schema/messaging.py because `Patient.messagingTerms` names it, and
schema/patients.py must not import the messaging payloads (they name Patient's own types).
"""

from __future__ import annotations

from datetime import date
from enum import Enum

import strawberry

from domain import messages as rules
from schema.enums import MessageCategory
from schema.money import Money


@strawberry.enum
class RecipientKind(Enum):
    PROVIDER = "provider"
    POOL = "pool"


@strawberry.type(
    description="Shown before sending a new message: whether the answer may be billed as an "
    "e-visit, and by when a reply is expected (business days; weekends skipped)."
)
class MessagingTerms:
    category: MessageCategory
    recipient_kind: RecipientKind
    billed_as_e_visit: bool = strawberry.field(name="billedAsEVisit")
    estimated_charge: Money | None = strawberry.field(
        description="The organisation's estimate, when it publishes one."
    )
    billing_notice: str | None = strawberry.field(
        description="To show the sender; sendMessage then needs acknowledgeEVisitBilling."
    )
    expected_reply_business_days: int
    expected_reply_by: date

    @classmethod
    def of(cls, terms: rules.Terms, category: MessageCategory, currency: str) -> MessagingTerms:
        charge = terms.estimated_charge_cents
        return cls(
            category=category,
            recipient_kind=RecipientKind(terms.recipient_kind.value),
            billed_as_e_visit=terms.billed_as_evisit,
            estimated_charge=Money.cents(charge, currency) if charge is not None else None,
            billing_notice=terms.billing_notice,
            expected_reply_business_days=terms.reply_business_days,
            expected_reply_by=terms.reply_by,
        )
