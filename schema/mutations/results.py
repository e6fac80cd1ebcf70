""" "Ask about this result" (rules: domain/results.py): its input, payload, error
codes and mutation."""

from __future__ import annotations

from enum import Enum

import strawberry

from domain.results import ResultNotFound
from resolvers import results as r
from schema.base import BadInput, Info, internal_id
from schema.messages import Message, MessageThread
from schema.payloads import UserError, user_errors
from usecases import results as usecases


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

    def command(self) -> usecases.AskAboutResult:
        try:
            result_id = internal_id(self.result_id, "Result")
        except BadInput:
            raise ResultNotFound(field="resultId") from None
        return usecases.AskAboutResult(result_id, self.body, self.acknowledge_e_visit_billing)


@strawberry.type
class AskAboutResultPayload:
    thread: MessageThread | None = None
    message: Message | None = None
    errors: list[AskAboutResultError] = strawberry.field(default_factory=list)


@strawberry.type
class ResultMutations:
    @strawberry.mutation(
        description="Start a message thread about a released result, linked to it both ways "
        "(MessageThread.result, Result.questionThreads) and routed to the provider who "
        "ordered it. Needs the RESULTS and MESSAGES areas; the rules and terms of sendMessage "
        "apply."
    )
    @user_errors(AskAboutResultPayload, AskAboutResultError, AskAboutResultErrorCode)
    async def ask_about_result(
        self, info: Info, input: AskAboutResultInput
    ) -> AskAboutResultPayload:
        sent, grant = await r.ask_about_result(info.context, input.command())
        return AskAboutResultPayload(
            thread=MessageThread.from_row(sent.thread, grant),
            message=Message.from_row(sent.message, grant),
        )
