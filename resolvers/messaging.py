"""sendMessage, markThreadRead, requestRefill: the mutations, then the steps they are made of.

Each: authorize (the MESSAGES area of the patient through `Context.act`, audited as a write;
a proxy without it, or a parent of an adolescent, gets FORBIDDEN and nothing happens) ->
validate (domain/messages.py, domain/attachments.py) -> one transaction that inserts the
thread/message/attachment rows with a MESSAGE_RECEIVED outbox event -> the payload.

Uploaded files are checked before anything is written, stored before the transaction (no
transaction stays open during file I/O) and removed again if it does not commit, so a
refused or failed send leaves neither rows nor files behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from domain import attachments as files_rules
from domain import messages as rules
from domain.access import PatientGrant
from domain.errors import BrokenInvariant
from domain.events import EventKind
from domain.scopes import RecordArea
from persistence import models as m
from persistence.queries import owned
from persistence.uow import UnitOfWork
from resolvers.attachments import read_uploads, stored
from resolvers.payloads import user_errors
from schema import messaging as s
from schema.base import internal_id
from schema.messages import Message, MessageThread
from schema.summary import Medication

if TYPE_CHECKING:
    from schema.base import Info


# -- the mutations -----------------------------------------------------------------------------
@user_errors(s.SendMessagePayload, s.SendMessageError, s.SendMessageErrorCode)
async def send_message(info: Info, input: s.SendMessageInput) -> s.SendMessagePayload:
    ctx = info.context
    grant = ctx.act(internal_id(input.patient_id, "Patient"), RecordArea.MESSAGES, "Message")
    policy = ctx.services.settings.messaging
    uploads = await read_uploads(input.attachments, policy.attachments)
    accepted = files_rules.accept_files(uploads, policy.attachments)
    body = rules.clean_body(input.body, policy)
    uow = UnitOfWork(ctx.services.sessions)
    target = await _target(info, uow, grant, input)
    async with stored(ctx.services.files, accepted) as keys, uow:
        thread = await _thread(uow, grant, target, ctx.now)
        message = uow.messaging.add_message(thread, grant.account_id, ctx.actor_name, body, ctx.now)
        await uow.session.flush()
        uow.messaging.add_attachments(
            grant, accepted, keys, grant.account_id, ctx.now, message_id=message.id
        )
        _record(uow, message, thread, ctx.now)
        await uow.commit()
    return s.SendMessagePayload(
        message=Message.from_row(message, grant), thread=MessageThread.from_row(thread, grant)
    )


@user_errors(s.MarkThreadReadPayload, s.SendMessageError, s.SendMessageErrorCode)
async def mark_thread_read(info: Info, input: s.MarkThreadReadInput) -> s.MarkThreadReadPayload:
    """Per reader: the viewer's own read mark moves to now; other readers' stay where they are."""
    ctx = info.context
    thread_id = internal_id(input.thread_id, "MessageThread")
    uow = UnitOfWork(ctx.services.sessions)
    async with uow:
        owner = await owned.owner_of(uow.session, m.MessageThread, thread_id)
        # Unknown ids answer like forbidden ones ("" is nobody's patient id).
        grant = ctx.act(owner or "", RecordArea.MESSAGES, "MessageThread")
        thread = await uow.messaging.thread_of(grant, thread_id)
        if thread is None:
            raise BrokenInvariant("thread is None")
        await uow.messaging.mark_read(grant, thread_id, ctx.now)
        await uow.commit()
    return s.MarkThreadReadPayload(thread=MessageThread.from_row(thread, grant))


@user_errors(s.RequestRefillPayload, s.RequestRefillError, s.RequestRefillErrorCode)
async def request_refill(info: Info, input: s.RequestRefillInput) -> s.RequestRefillPayload:
    """Needs MEDICATIONS (it acts on a prescription) and MESSAGES (it opens a thread the
    requester must be able to follow); refused unless the medication is active with refills."""
    ctx = info.context
    policy = ctx.services.settings.messaging
    medication_id = internal_id(input.medication_id, "Medication")
    uow = UnitOfWork(ctx.services.sessions)
    async with uow:
        owner = await owned.owner_of(uow.session, m.Medication, medication_id)
        med_grant = ctx.act(owner or "", RecordArea.MEDICATIONS, "Medication")
        grant = ctx.act(med_grant.patient_id, RecordArea.MESSAGES, "MessageThread")
        row = await uow.messaging.medication(med_grant, medication_id)
        if row is None:
            raise BrokenInvariant("row is None")
        facts = _medication_facts(row)
        rules.check_refill(facts, ctx.services.settings.ages.today(ctx.now))
        pharmacy = rules.refill_pharmacy(input.pharmacy, facts, policy)
        body = rules.refill_body(facts, pharmacy, input.note, policy)
        _team, pcp = await uow.messaging.care_team(grant)
        route = rules.route_refill(row.prescriber_id, pcp, policy)
        thread = uow.messaging.add_thread(
            grant, rules.Category.REFILL, rules.refill_subject(facts, policy), route, ctx.now
        )
        await uow.session.flush()  # the thread row before its message's (foreign key)
        message = uow.messaging.add_message(thread, grant.account_id, ctx.actor_name, body, ctx.now)
        await uow.session.flush()
        note = input.note.strip() if input.note and input.note.strip() else None
        uow.messaging.add_refill_request(med_grant, row.id, thread, pharmacy, note, ctx.now)
        _record(uow, message, thread, ctx.now)
        await uow.commit()
    return s.RequestRefillPayload(
        thread=MessageThread.from_row(thread, grant), medication=Medication.from_row(row, med_grant)
    )


# -- the steps ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """Where a message goes: an existing thread, or a new one with its subject and route."""

    thread_id: str | None = None
    category: rules.Category | None = None
    subject: str = ""
    route: rules.Route | None = None


async def _target(
    info: Info, uow: UnitOfWork, grant: PatientGrant, input: s.SendMessageInput
) -> Target:
    """Check the reply's thread, or everything a new thread needs (its own short transaction)."""
    policy = info.context.services.settings.messaging
    if input.thread_id is not None:
        thread_id = internal_id(input.thread_id, "MessageThread")
        async with uow:
            if await uow.messaging.thread_of(grant, thread_id) is None:
                raise rules.ThreadNotFound(field="threadId")
        return Target(thread_id=thread_id)
    if input.category is None:
        raise rules.CategoryRequired(field="category")
    category = rules.Category(input.category.value)
    subject = rules.clean_subject(input.subject, policy)
    provider_id = (
        internal_id(input.recipient_provider_id, "Provider")
        if input.recipient_provider_id
        else None
    )
    async with uow:
        team, pcp = await uow.messaging.care_team(grant)
    route = rules.route_new_thread(category, provider_id, team, pcp, policy)
    today = info.context.services.settings.ages.today(info.context.now)
    terms = rules.terms(category, route.kind, today, policy)
    rules.require_acknowledgement(terms, input.acknowledge_e_visit_billing)
    return Target(category=category, subject=subject, route=route)


async def _thread(
    uow: UnitOfWork, grant: PatientGrant, target: Target, now: datetime
) -> m.MessageThread:
    if target.thread_id is not None:
        thread = await uow.messaging.thread_of(grant, target.thread_id)
        if thread is None:
            raise BrokenInvariant("thread is None: checked before; threads are never deleted")
        return thread
    if target.category is None:
        raise BrokenInvariant("target.category is None")
    if target.route is None:
        raise BrokenInvariant("target.route is None")
    thread = uow.messaging.add_thread(grant, target.category, target.subject, target.route, now)
    await uow.session.flush()  # the thread row before its message's (foreign key)
    return thread


def _record(uow: UnitOfWork, message: m.Message, thread: m.MessageThread, now: datetime) -> None:
    """In the message's transaction: the patient's other sessions and proxies see it live."""
    uow.outbox.record(
        EventKind.MESSAGE_RECEIVED,
        object_id=message.id,
        now=now,
        patient_id=thread.patient_id,
        payload={"threadId": thread.id, "senderKind": message.sender_kind},
    )


def _medication_facts(row: m.Medication) -> rules.MedicationFacts:
    return rules.MedicationFacts(
        name=row.name,
        dose=row.dose,
        status=row.status,
        refills_remaining=row.refills_remaining,
        pharmacy=row.pharmacy,
        end_date=row.end_date,
    )
