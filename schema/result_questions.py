""" "Ask about this result": its input, payload and error codes."""

from __future__ import annotations

from enum import Enum

import strawberry

from schema.messages import Message, MessageThread
from schema.payloads import UserError


@strawberry.enum
class AskAboutResultErrorCode(Enum):
    INVALID_ID = "INVALID_ID"
    RESULT_NOT_FOUND = "RESULT_NOT_FOUND"
    RESULT_NOT_RELEASED = "RESULT_NOT_RELEASED"
    BODY_EMPTY = "BODY_EMPTY"
    BODY_TOO_LONG = "BODY_TOO_LONG"
    RECIPIENT_REQUIRED = "RECIPIENT_REQUIRED"
    EVISIT_NOT_ACKNOWLEDGED = "EVISIT_NOT_ACKNOWLEDGED"


@strawberry.type
class AskAboutResultError(UserError):
    code: AskAboutResultErrorCode


@strawberry.input
class AskAboutResultInput:
    result_id: strawberry.ID
    body: str
    acknowledge_e_visit_billing: bool = strawberry.field(
        default=False,
        description="Required when Patient.messagingTerms says the question may be billed as "
        "an e-visit (category MEDICAL_QUESTION), as for sendMessage.",
    )


@strawberry.type
class AskAboutResultPayload:
    thread: MessageThread | None = None
    message: Message | None = None
    errors: list[AskAboutResultError] = strawberry.field(default_factory=list)
