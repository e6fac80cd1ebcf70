"""The EHR feed's events applied (docs/ehr-feed.md): one use case per event type, called by
the feed endpoint (portal/integration.py) and the CLI (`portal demo-ehr --direct`) alike.

`apply_once` runs an event in one transaction with its id's row (`integration_events`),
inserted first: a second delivery of the same id, even a concurrent one, fails on the
primary key and applies nothing. Every change records its real-time outbox event and its
notifications in that transaction. References the portal does not have raise
`ehr.InvalidEvent`, and nothing is kept.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError

from domain import ehr
from domain.ehr_explanations import ExplanationUpdated
from domain.ehr_maintenance import MaintenanceUpdated
from domain.ehr_notes import NoteSigned
from domain.events import EventKind
from domain.money import Money
from domain.renewals import RenewalStatus, answer_notice
from domain.scopes import RecordArea
from persistence import coverages
from persistence import models as m
from persistence import results as explanations
from persistence.ehr import Previous
from persistence.uow import UnitOfWork
from usecases.ehr_appointments import appointment_changed, appointment_request_answered
from usecases.ehr_maintenance import maintenance_updated
from usecases.ehr_notes import note_signed
from usecases.ehr_ports import Applied, Ports, tell
from usecases.ehr_results import result_finalized, result_released

__all__ = ["Applied", "Ports", "Previous", "apply", "apply_once"]


async def apply_once(event: ehr.Event, uow: UnitOfWork, ports: Ports) -> Applied | Previous:
    """Apply the event in one transaction with its id's row, or say what was applied before
    under that id (the caller compares fingerprints)."""
    now = ports.clock.now()
    try:
        async with uow:
            claimed = await uow.ehr.claim(event, now)
            applied = await apply(event, uow, now, ports)
            claimed.patient_id, claimed.object_id = applied.patient_id, applied.object_id
            await uow.commit()
        return applied
    except IntegrityError:
        async with uow:
            previous = await uow.ehr.previous(event.id)
        if previous is None:
            raise  # another constraint: a bug or a race we do not expect; logged as a 500
        return previous


async def apply(event: ehr.Event, uow: UnitOfWork, now: datetime, ports: Ports) -> Applied:
    """The event's use case, in the caller's open unit of work (nothing committed)."""
    c = event.data
    if isinstance(c, ehr.ResultFinalized):
        return await result_finalized(c, event.occurred_at, uow, now, ports)
    if isinstance(c, ehr.ResultReleased):
        return await result_released(c, uow, now, ports)
    if isinstance(c, ehr.ProviderReply):
        return await provider_reply(c, uow, now, ports)
    if isinstance(c, ehr.StatementIssued):
        return await statement_issued(c, uow, now, ports)
    if isinstance(c, ExplanationUpdated):
        return await explanation_updated(c, uow, now)
    if isinstance(c, MaintenanceUpdated):
        return await maintenance_updated(c, uow, now, ports)
    if isinstance(c, NoteSigned):
        return await note_signed(c, uow, now, ports)
    if isinstance(c, ehr.CoverageUpdated):
        return await coverage_updated(c, uow, now)
    if isinstance(c, ehr.RenewalAnswered):
        return await renewal_answered(c, uow, now, ports)
    if isinstance(c, ehr.AppointmentRequestAnswered):
        return await appointment_request_answered(c, uow, now, ports)
    return await appointment_changed(c, uow, now, ports)


async def provider_reply(
    c: ehr.ProviderReply, uow: UnitOfWork, now: datetime, ports: Ports
) -> Applied:
    repo = uow.ehr
    thread = await repo.thread_for_update(c.thread_id)
    if thread is None:
        raise ehr.unknown("data.threadId", "thread")
    ehr.check_owner("data.patientId", c.patient_id, thread.patient_id)
    provider = await repo.provider(c.provider_id)
    if provider is None:
        raise ehr.unknown("data.providerId", "provider")
    if c.message_id is not None and await repo.exists(m.Message, c.message_id):
        raise ehr.InvalidEvent([ehr.Problem("data.messageId", "is taken by another message")])
    # Sent "now" (when it reached the portal), so it sorts after what readers have read
    # and counts as unread even if the EHR's clock or queue ran behind.
    message = repo.add_reply(thread, provider, c.message_id, c.body, now)
    uow.outbox.record(
        EventKind.MESSAGE_RECEIVED,
        object_id=message.id,
        patient_id=thread.patient_id,
        now=now,
        payload={"threadId": thread.id},
    )
    text = ehr.reply_notice(provider.display_name)
    kind, area = "MESSAGE_RECEIVED", RecordArea.MESSAGES
    await tell(uow, thread.patient_id, kind, area, text, thread.id, now, ports.ages)
    return Applied(thread.patient_id, message.id)


async def statement_issued(
    c: ehr.StatementIssued, uow: UnitOfWork, now: datetime, ports: Ports
) -> Applied:
    repo = uow.ehr
    await repo.require(m.Patient, c.guarantor_patient_id, "data.guarantorPatientId", "patient")
    if await repo.exists(m.Statement, c.statement_id):
        raise ehr.InvalidEvent([ehr.Problem("data.statementId", "was issued already")])
    for n, line in enumerate(c.lines):
        await repo.require(m.Patient, line.patient_id, f"data.lineItems[{n}].patientId", "patient")
        if line.line_id is not None and await repo.exists(m.StatementLineItem, line.line_id):
            raise ehr.InvalidEvent(
                [ehr.Problem(f"data.lineItems[{n}].lineItemId", "is taken by another line")]
            )
    due = Money(sum(line.patient_cents for line in c.lines), c.currency)
    await repo.add_statement(c, "open" if due.amount_cents > 0 else "paid")
    text = ehr.statement_notice(c.statement_date, due.formatted)
    patient_id, kind, area = c.guarantor_patient_id, "STATEMENT_ISSUED", RecordArea.BILLING
    await tell(uow, patient_id, kind, area, text, c.statement_id, now, ports.ages)
    return Applied(c.guarantor_patient_id, c.statement_id)


async def explanation_updated(c: ExplanationUpdated, uow: UnitOfWork, now: datetime) -> Applied:
    """Reference data: no patient's record, nobody told."""
    await explanations.publish(uow.session, c.code, c.text, c.more_url, "ehr", now)
    return Applied(None, c.code)


async def coverage_updated(c: ehr.CoverageUpdated, uow: UnitOfWork, now: datetime) -> Applied:
    """The coverage as the EHR sends it (an upsert by its id); its patient may not change."""
    await uow.ehr.require(m.Patient, c.patient_id, "data.patientId", "patient")
    row = await coverages.coverage_for_update(uow.session, c.coverage_id)
    if row is not None and row.patient_id != c.patient_id:
        raise ehr.InvalidEvent([ehr.Problem("data.coverageId", "is a coverage of another patient")])
    coverages.write_coverage(uow.session, row, c, now)
    return Applied(c.patient_id, c.coverage_id)


async def renewal_answered(
    c: ehr.RenewalAnswered, uow: UnitOfWork, now: datetime, ports: Ports
) -> Applied:
    """The prescriber's answer: an approval renews the medication (its refills and end
    date); either answer is announced to MEDICATIONS readers."""
    renewals = uow.renewals
    row = await renewals.find(c.renewal_id)
    if row is None:
        raise ehr.unknown("data.renewalId", "prescription renewal")
    ehr.check_owner("data.patientId", c.patient_id, row.patient_id)
    status = RenewalStatus(c.status)
    if not await renewals.close(row, status, now, c.denial_reason):
        raise ehr.InvalidEvent([ehr.Problem("data.renewalId", "is not open (answered)")])
    medication = await renewals.medication(row)
    if status is RenewalStatus.APPROVED:
        medication.refills_remaining = c.refills or 0
        medication.end_date = c.end_date
    text = ehr.NoticeText(*answer_notice(status, medication.name))
    kind, area = "PRESCRIPTION_RENEWAL_ANSWERED", RecordArea.MEDICATIONS
    await tell(uow, row.patient_id, kind, area, text, row.id, now, ports.ages)
    return Applied(row.patient_id, row.id)
