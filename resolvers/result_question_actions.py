"""askAboutResult (usecases/result_questions.py): authorize the RESULTS and the MESSAGES
areas of the result's patient (both audited as writes), run the use case, build the payload."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.result_questions import ResultNotFound
from domain.scopes import RecordArea
from persistence import models as m
from persistence.queries import owned
from persistence.uow import UnitOfWork
from resolvers.payloads import user_errors
from schema import result_questions as s
from schema.base import BadInput, internal_id
from schema.messages import Message, MessageThread
from usecases import result_questions as usecases

if TYPE_CHECKING:
    from schema.base import Info


@user_errors(s.AskAboutResultPayload, s.AskAboutResultError, s.AskAboutResultErrorCode)
async def ask_about_result(info: Info, input: s.AskAboutResultInput) -> s.AskAboutResultPayload:
    ctx = info.context
    try:
        result_id = internal_id(input.result_id, "Result")
    except BadInput:
        raise ResultNotFound(field="resultId") from None
    uow = UnitOfWork(ctx.services.sessions)
    async with uow:
        owner = await owned.owner_of(uow.session, m.Result, result_id)
    result_grant = ctx.act(owner or "", RecordArea.RESULTS, "Result")
    message_grant = ctx.act(result_grant.patient_id, RecordArea.MESSAGES, "MessageThread")
    settings = ctx.services.settings
    ports = usecases.Ports(
        settings.messaging, settings.release, ctx.now, settings.ages.today(ctx.now), ctx.actor_name
    )
    command = usecases.AskAboutResult(result_id, input.body, input.acknowledge_e_visit_billing)
    thread, message = await usecases.ask_about_result(
        command, result_grant, message_grant, uow, ports
    )
    return s.AskAboutResultPayload(
        thread=MessageThread.from_row(thread, message_grant),
        message=Message.from_row(message, message_grant),
    )
