""" "Ask about this result"."""

from __future__ import annotations

import strawberry

from resolvers import result_question_actions as r
from schema import result_questions as s
from schema.base import Info


@strawberry.type
class ResultMutations:
    @strawberry.mutation(
        description="Start a message thread about a released result, linked to it both ways "
        "(MessageThread.result, Result.questionThreads) and routed to the provider who "
        "ordered it. Needs the RESULTS and MESSAGES areas; the rules and terms of sendMessage "
        "apply."
    )
    async def ask_about_result(
        self, info: Info, input: s.AskAboutResultInput
    ) -> s.AskAboutResultPayload:
        return await r.ask_about_result(info, input)
