""" "Ask about this result": a new medical-question thread started from a released result,
linked to it, routed to the provider who ordered it (else as a new medical question is:
the category's pool, else the PCP). Otherwise the rules of every message apply
(domain/messages.py: body limits, e-visit terms and their acknowledgement)."""

from __future__ import annotations

from domain.errors import DomainError
from domain.messages import (
    Category,
    MessagingPolicy,
    RecipientKind,
    Route,
    route_new_thread,
)

CATEGORY = Category.MEDICAL_QUESTION


class ResultNotFound(DomainError):
    code = "RESULT_NOT_FOUND"
    default_message = "This result does not exist."


class ResultNotReleased(DomainError):
    code = "RESULT_NOT_RELEASED"
    default_message = "You can ask about a result once it is released to you."


def route_question(
    ordering_provider_id: str | None, pcp_id: str | None, policy: MessagingPolicy
) -> Route:
    if ordering_provider_id is not None:
        return Route(RecipientKind.PROVIDER, provider_id=ordering_provider_id)
    return route_new_thread(CATEGORY, None, (), pcp_id, policy)


def question_subject(result_name: str, policy: MessagingPolicy) -> str:
    subject = " ".join(f"Question about my result: {result_name}".split())
    return subject[: policy.max_subject_chars]
