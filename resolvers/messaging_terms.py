"""Patient.messagingTerms: what a new message would cost and when a reply is due."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain import messages as rules
from domain.access import PatientGrant
from schema.base import internal_id
from schema.messaging_terms import MessagingTerms

if TYPE_CHECKING:
    import strawberry

    from schema.base import Info
    from schema.enums import MessageCategory


def messaging_terms(
    info: Info,
    grant: PatientGrant,
    category: MessageCategory,
    recipient_provider_id: strawberry.ID | None,
) -> MessagingTerms:
    """The terms depend on the category and the kind of recipient only, not on the grant's
    patient (the grant proves the viewer may message this patient)."""
    settings = info.context.services.settings
    policy = settings.messaging
    provider_id = internal_id(recipient_provider_id, "Provider") if recipient_provider_id else None
    kind = rules.recipient_kind(rules.Category(category.value), provider_id, policy)
    today = settings.ages.today(info.context.now)
    terms = rules.terms(rules.Category(category.value), kind, today, policy)
    return MessagingTerms.of(terms, category, policy.currency)
