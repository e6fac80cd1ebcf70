"""sendMessage, markThreadRead and requestRefill: the writes of secure messaging.

Each: validate (domain/messages.py, domain/attachments.py) -> one transaction that inserts
the thread/message/attachment rows with a MESSAGE_RECEIVED outbox event. The caller has
checked the MESSAGES area of the patient (`Context.act`, audited as a write) or, where the
patient is known only from a row, hands over `act` so the check runs once the owner is read.

Uploaded files are counted before anything is read, checked before anything is written,
stored before the transaction (no transaction stays open during file I/O) and removed again
if it does not commit, so a refused or failed send leaves neither rows nor files behind.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from domain import attachments as files_rules
from domain import messages as rules
from domain.access import PatientGrant
from domain.errors import BrokenInvariant
from domain.events import EventKind
from domain.scopes import RecordArea
from persistence import models as m
from persistence.files import FileStore
from persistence.queries import owned
from persistence.uow import UnitOfWork
from usecases.attachments import Upload, read_uploads

# The write check of the access policy (`Context.act`): patient id, area, object type.
Act = Callable[[str, RecordArea, str], PatientGrant]


@dataclass(frozen=True)
class SendMessage:
    """A reply (`thread_id`) or a new thread (category, subject, recipient or none)."""

    patient_id: str
    body: str
    thread_id: str | None = None
    category: rules.Category | None = None
    recipient_provider_id: str | None = None
    subject: str | None = None
    attachments: Sequence[Upload] = field(default_factory=tuple)
    acknowledge_e_visit_billing: bool = False


@dataclass(frozen=True)
class MarkThreadRead:
    thread_id: str


@dataclass(frozen=True)
class RequestRefill:
    medication_id: str
    pharmacy: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Ports:
    policy: rules.MessagingPolicy
    files: FileStore
    now: datetime
    today: date
    sender_name: str  # the signed-in person, as the message shows them


@dataclass(frozen=True)
class Sent:
    thread: m.MessageThread
    message: m.Message


@dataclass(frozen=True)
class Refill:
    thread: m.MessageThread
    medication: m.Medication
    medication_grant: PatientGrant


async def send_message(
    command: SendMessage, grant: PatientGrant, uow: UnitOfWork, ports: Ports
) -> Sent:
    """`grant`: the MESSAGES area of `command.patient_id`."""
    policy = ports.policy
    uploads = await read_uploads(command.attachments, policy.attachments)
    accepted = files_rules.accept_files(uploads, policy.attachments)
    body = rules.clean_body(command.body, policy)
    target = await _target(command, grant, uow, ports)
    async with ports.files.kept(accepted) as keys, uow:
        thread = await _thread(uow, grant, target, ports.now)
        message = uow.messages.add_message(
            thread, grant.account_id, ports.sender_name, body, ports.now
        )
        await uow.session.flush()
        uow.messages.add_attachments(
            grant, accepted, keys, grant.account_id, ports.now, message_id=message.id
        )
        record_received(uow, message, thread, ports.now)
        await uow.commit()
    return Sent(thread=thread, message=message)


async def mark_thread_read(
    command: MarkThreadRead, act: Act, uow: UnitOfWork, now: datetime
) -> tuple[m.MessageThread, PatientGrant]:
    """Per reader: the viewer's own read mark moves to now; other readers' stay where they are."""
    async with uow:
        owner = await owned.owner_of(uow.session, m.MessageThread, command.thread_id)
        # Unknown ids answer like forbidden ones ("" is nobody's patient id).
        grant = act(owner or "", RecordArea.MESSAGES, "MessageThread")
        thread = await uow.messages.thread_of(grant, command.thread_id)
        if thread is None:  # its owner was read in this transaction; threads are never deleted
            raise BrokenInvariant("a thread with an owner was not found")
        await uow.messages.mark_read(grant, command.thread_id, now)
        await uow.commit()
    return thread, grant


async def request_refill(
    command: RequestRefill, act: Act, uow: UnitOfWork, ports: Ports
) -> tuple[Refill, PatientGrant]:
    """Needs MEDICATIONS (it acts on a prescription) and MESSAGES (it opens a thread the
    requester must be able to follow); refused unless the medication is active with refills.
    Answers the refill and the MESSAGES grant of the thread."""
    policy = ports.policy
    async with uow:
        owner = await owned.owner_of(uow.session, m.Medication, command.medication_id)
        med_grant = act(owner or "", RecordArea.MEDICATIONS, "Medication")
        grant = act(med_grant.patient_id, RecordArea.MESSAGES, "MessageThread")
        row = await uow.messages.medication(med_grant, command.medication_id)
        if row is None:  # its owner was read in this transaction
            raise BrokenInvariant("a medication with an owner was not found")
        facts = _medication_facts(row)
        rules.check_refill(facts, ports.today)
        pharmacy = rules.refill_pharmacy(command.pharmacy, facts, policy)
        body = rules.refill_body(facts, pharmacy, command.note, policy)
        _team, pcp = await uow.messages.care_team(grant)
        route = rules.route_refill(row.prescriber_id, pcp, policy)
        thread = uow.messages.add_thread(
            grant, rules.Category.REFILL, rules.refill_subject(facts, policy), route, ports.now
        )
        await uow.session.flush()  # the thread row before its message's (foreign key)
        message = uow.messages.add_message(
            thread, grant.account_id, ports.sender_name, body, ports.now
        )
        await uow.session.flush()
        note = command.note.strip() if command.note and command.note.strip() else None
        uow.messages.add_refill_request(med_grant, row.id, thread, pharmacy, note, ports.now)
        record_received(uow, message, thread, ports.now)
        await uow.commit()
    return Refill(thread=thread, medication=row, medication_grant=med_grant), grant


def record_received(
    uow: UnitOfWork, message: m.Message, thread: m.MessageThread, now: datetime
) -> None:
    """In the message's transaction: the patient's other sessions and proxies see it live."""
    uow.outbox.record(
        EventKind.MESSAGE_RECEIVED,
        object_id=message.id,
        now=now,
        patient_id=thread.patient_id,
        payload={"threadId": thread.id, "senderKind": message.sender_kind},
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
    command: SendMessage, grant: PatientGrant, uow: UnitOfWork, ports: Ports
) -> Target:
    """Check the reply's thread, or everything a new thread needs (its own short transaction)."""
    policy = ports.policy
    if command.thread_id is not None:
        async with uow:
            if await uow.messages.thread_of(grant, command.thread_id) is None:
                raise rules.ThreadNotFound(field="threadId")
        return Target(thread_id=command.thread_id)
    if command.category is None:
        raise rules.CategoryRequired(field="category")
    subject = rules.clean_subject(command.subject, policy)
    async with uow:
        team, pcp = await uow.messages.care_team(grant)
    route = rules.route_new_thread(
        command.category, command.recipient_provider_id, team, pcp, policy
    )
    terms = rules.terms(command.category, route.kind, ports.today, policy)
    rules.require_acknowledgement(terms, command.acknowledge_e_visit_billing)
    return Target(category=command.category, subject=subject, route=route)


async def _thread(
    uow: UnitOfWork, grant: PatientGrant, target: Target, now: datetime
) -> m.MessageThread:
    if target.thread_id is not None:
        thread = await uow.messages.thread_of(grant, target.thread_id)
        if thread is None:  # checked in `_target`; threads are never deleted
            raise BrokenInvariant("a checked thread was not found")
        return thread
    if target.category is None or target.route is None:
        raise BrokenInvariant("a new thread without a category or a route")
    thread = uow.messages.add_thread(grant, target.category, target.subject, target.route, now)
    await uow.session.flush()  # the thread row before its message's (foreign key)
    return thread


def _medication_facts(row: m.Medication) -> rules.MedicationFacts:
    return rules.MedicationFacts(
        name=row.name,
        dose=row.dose,
        status=row.status,
        refills_remaining=row.refills_remaining,
        pharmacy=row.pharmacy,
        end_date=row.end_date,
    )
