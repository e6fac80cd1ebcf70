""" "Ask about this result": one transaction that checks the result is released to the
asker, routes the question to the ordering provider, and adds the thread (linked to the
result), its first message and the MESSAGE_RECEIVED outbox event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from domain import messages as messaging
from domain import results as rules
from domain.access import PatientGrant
from domain.results import ReleasePolicy, release_of_result
from domain.scopes import RecordArea
from persistence import models as m
from persistence.queries import owned
from persistence.uow import UnitOfWork
from usecases.messages import Act, Sent, record_received


@dataclass(frozen=True)
class AskAboutResult:
    result_id: str
    body: str
    acknowledge_e_visit_billing: bool = False


@dataclass(frozen=True)
class Ports:
    messaging: messaging.MessagingPolicy
    release: ReleasePolicy
    now: datetime
    today: date
    sender_name: str


async def _released(uow: UnitOfWork, row: m.Result, release: ReleasePolicy, now: datetime) -> bool:
    held = await uow.ehr.held_by_patient(row.patient_id, row.kind)
    return release_of_result(row, held_by_patient=held, now=now, policy=release).released


async def ask_about_result(
    command: AskAboutResult, act: Act, uow: UnitOfWork, ports: Ports
) -> tuple[Sent, PatientGrant]:
    """Needs the RESULTS and the MESSAGES areas of the result's patient (both checked by
    `act`, audited as writes). Answers the thread and message with the MESSAGES grant."""
    async with uow:
        owner = await owned.owner_of(uow.session, m.Result, command.result_id)
    result_grant = act(owner or "", RecordArea.RESULTS, "Result")
    message_grant = act(result_grant.patient_id, RecordArea.MESSAGES, "MessageThread")
    body = messaging.clean_body(command.body, ports.messaging)
    async with uow:
        rows = await owned.owned_by_id(uow.session, m.Result, [result_grant], [command.result_id])
        if not rows:
            raise rules.ResultNotFound(field="resultId")
        result = rows[0]
        if not await _released(uow, result, ports.release, ports.now):
            raise rules.ResultNotReleased(field="resultId")
        _team, pcp = await uow.messages.care_team(message_grant)
        route = rules.route_question(result.ordering_provider_id, pcp, ports.messaging)
        terms = messaging.terms(rules.CATEGORY, route.kind, ports.today, ports.messaging)
        messaging.require_acknowledgement(terms, command.acknowledge_e_visit_billing)
        subject = rules.question_subject(result.name, ports.messaging)
        thread = uow.messages.add_thread(message_grant, rules.CATEGORY, subject, route, ports.now)
        thread.result_id = result.id
        await uow.session.flush()  # the thread before its message (foreign key)
        message = uow.messages.add_message(
            thread, message_grant.account_id, ports.sender_name, body, ports.now
        )
        await uow.session.flush()
        record_received(uow, message, thread, ports.now)
        await uow.commit()
        uow.session.expunge_all()  # kept as committed
        return Sent(thread=thread, message=message), message_grant
