"""Applying EHR feed events (domain/ehr.py) to the database, each in the caller's transaction.

`claim` inserts the event's id first: a second delivery of the same id, even a concurrent
one, fails on the primary key and applies nothing. Every change records its real-time
outbox event and its notifications in the same transaction (persistence/notify.py decides
who is told: a parent of an adolescent hears nothing of his results or messages).
References the portal does not have raise `InvalidEvent`; the caller rolls back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain import ehr
from domain.access import AgePolicy
from domain.ehr_explanations import ExplanationUpdated
from domain.ehr_maintenance import MaintenanceUpdated
from domain.ehr_notes import NoteSigned
from domain.events import EventKind
from domain.health_maintenance import HealthMaintenancePolicy
from domain.money import Money
from domain.results import Release, ReleasePolicy, release_of
from domain.scopes import RecordArea
from persistence import ehr_maintenance, ehr_notes, explanations
from persistence import models as m
from persistence.appointment_requests import AppointmentRequestRepository
from persistence.coverages import apply_coverage
from persistence.notify import Notice, notify
from persistence.outbox import OutboxRepository
from persistence.renewals import RenewalRepository


@dataclass(frozen=True)
class Policies:
    release: ReleasePolicy
    ages: AgePolicy


@dataclass(frozen=True)
class Applied:
    patient_id: str | None  # None: reference data, no patient's record (an explanation)
    object_id: str
    changed: bool = True


@dataclass(frozen=True)
class Previous:
    type: str
    fingerprint: str


class EhrRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._outbox = OutboxRepository(session)

    # -- once only ----------------------------------------------------------------------
    async def claim(self, event: ehr.Event, now: datetime) -> m.IntegrationEvent:
        """Insert the event's row now (IntegrityError if its id was applied already)."""
        row = m.IntegrationEvent(
            id=event.id,
            type=event.type.value,
            fingerprint=event.fingerprint,
            patient_id=None,
            object_id=None,
            occurred_at=event.occurred_at,
            applied_at=now,
        )
        self._session.add(row)
        await self._session.flush()
        return row

    async def previous(self, event_id: str) -> Previous | None:
        t = m.IntegrationEvent
        stmt = select(t.type, t.fingerprint).where(t.id == event_id)
        found = (await self._session.execute(stmt)).one_or_none()
        return None if found is None else Previous(*found)

    async def apply(self, event: ehr.Event, now: datetime, policies: Policies) -> Applied:
        command = event.data
        if isinstance(command, ehr.ResultFinalized):
            return await self._result_finalized(command, event.occurred_at, now, policies)
        if isinstance(command, ehr.ResultReleased):
            return await self._result_released(command, now, policies)
        if isinstance(command, ehr.ProviderReply):
            return await self._provider_reply(command, now, policies)
        if isinstance(command, ehr.StatementIssued):
            return await self._statement_issued(command, now, policies)
        if isinstance(command, ExplanationUpdated):
            await explanations.publish(
                self._session, command.code, command.text, command.more_url, "ehr", now
            )
            return Applied(None, command.code)
        if isinstance(command, MaintenanceUpdated):
            patient_id = await ehr_maintenance.maintenance_updated(
                self._session, command, now, policies.ages, HealthMaintenancePolicy()
            )
            return Applied(patient_id, patient_id)
        if isinstance(command, NoteSigned):
            return Applied(*await ehr_notes.note_signed(self._session, command, now, policies.ages))
        if isinstance(command, ehr.CoverageUpdated):
            return Applied(*await apply_coverage(self._session, command, now))
        if isinstance(command, ehr.RenewalAnswered):
            return Applied(
                *await RenewalRepository(self._session).answer(command, now, policies.ages)
            )
        if isinstance(command, ehr.AppointmentRequestAnswered):
            requests = AppointmentRequestRepository(self._session)
            return Applied(*await requests.answer(command, now, policies.ages))
        return await self._appointment_changed(command, now, policies)

    # -- helpers ------------------------------------------------------------------------
    async def _exists(self, model: type[m.Base], row_id: str) -> bool:
        id_column: Any = model.__table__.c.id
        return (
            await self._session.scalar(select(id_column).where(id_column == row_id))
        ) is not None

    async def _require(
        self, model: type[m.Base], row_id: str | None, field: str, what: str
    ) -> None:
        if row_id is not None and not await self._exists(model, row_id):
            raise ehr.unknown(field, what)

    async def _held_by_patient(self, patient_id: str, kind: str) -> bool:
        t = m.ResultHoldPreference
        stmt = select(t.patient_id).where(t.patient_id == patient_id, t.kind == kind)
        return (await self._session.scalar(stmt)) is not None

    async def _release(self, row: m.Result, now: datetime, policies: Policies) -> Release:
        return release_of(
            kind=row.kind,
            code=row.code,
            status=row.status,
            resulted_at=row.resulted_at,
            released_at=row.released_at,
            held_by_patient=await self._held_by_patient(row.patient_id, row.kind),
            now=now,
            policy=policies.release,
        )

    async def _notify(
        self,
        patient_id: str,
        kind: str,
        area: RecordArea,
        text: ehr.NoticeText,
        object_id: str,
        now: datetime,
        policies: Policies,
    ) -> None:
        notice = Notice(kind, area, text.title, text.body, object_id)
        await notify(self._session, patient_id, notice, now, policies.ages)

    async def _result_visible(
        self, row: m.Result, updated: bool, now: datetime, policies: Policies
    ) -> None:
        """The result can be read now: push it and tell the patient and allowed proxies."""
        self._outbox.record(
            EventKind.RESULT_RELEASED,
            object_id=row.id,
            patient_id=row.patient_id,
            now=now,
            payload={"resultId": row.id, "kind": row.kind},
        )
        text = ehr.result_notice(updated)
        await self._notify(
            row.patient_id, "RESULT_RELEASED", RecordArea.RESULTS, text, row.id, now, policies
        )

    # -- the event types ----------------------------------------------------------------
    async def _result_finalized(
        self, c: ehr.ResultFinalized, occurred_at: datetime, now: datetime, policies: Policies
    ) -> Applied:
        await self._require(m.Patient, c.patient_id, "data.patientId", "patient")
        await self._require(
            m.Provider, c.ordering_provider_id, "data.orderingProviderId", "provider"
        )
        stmt = select(m.Result).where(m.Result.id == c.result_id).with_for_update()
        row = await self._session.scalar(stmt)
        if row is not None and row.patient_id != c.patient_id:
            raise ehr.InvalidEvent([ehr.Problem("data.resultId", "is a result of another patient")])
        was_visible = row is not None and (await self._release(row, now, policies)).released
        if row is None:
            row = m.Result(id=c.result_id, patient_id=c.patient_id, released_at=None)
            _fill(row, c)
            self._session.add(row)
            await self._session.flush()  # the result before its components (foreign key)
        else:  # a preliminary result finalized, or a final one corrected: new components
            await self._session.execute(
                delete(m.ResultComponent).where(m.ResultComponent.result_id == row.id)
            )
            _fill(row, c)
        if c.released_by_provider and row.released_at is None:
            row.released_at = min(occurred_at, now)
        self._session.add_all(
            m.ResultComponent(
                result_id=row.id,
                patient_id=row.patient_id,
                position=position,
                loinc=component.code,
                name=component.name,
                value=component.value,
                value_text=component.value_text,
                unit=component.unit,
                ref_low=component.ref_low,
                ref_high=component.ref_high,
            )
            for position, component in enumerate(c.components)
        )
        await self._session.flush()
        if (await self._release(row, now, policies)).released:
            await self._result_visible(row, was_visible, now, policies)
        return Applied(row.patient_id, row.id)

    async def _result_released(
        self, c: ehr.ResultReleased, now: datetime, policies: Policies
    ) -> Applied:
        stmt = select(m.Result).where(m.Result.id == c.result_id).with_for_update()
        row = await self._session.scalar(stmt)
        if row is None:
            raise ehr.unknown("data.resultId", "result")
        ehr.check_owner("data.patientId", c.patient_id, row.patient_id)
        if row.released_at is not None and row.released_at <= now:
            return Applied(row.patient_id, row.id, changed=False)  # the EHR released it before
        was_visible = (await self._release(row, now, policies)).released
        row.released_at = now
        if not was_visible:
            await self._result_visible(row, False, now, policies)
        return Applied(row.patient_id, row.id)

    async def _provider_reply(
        self, c: ehr.ProviderReply, now: datetime, policies: Policies
    ) -> Applied:
        stmt = select(m.MessageThread).where(m.MessageThread.id == c.thread_id).with_for_update()
        thread = await self._session.scalar(stmt)
        if thread is None:
            raise ehr.unknown("data.threadId", "thread")
        ehr.check_owner("data.patientId", c.patient_id, thread.patient_id)
        provider = await self._session.get(m.Provider, c.provider_id)
        if provider is None:
            raise ehr.unknown("data.providerId", "provider")
        if c.message_id is not None and await self._exists(m.Message, c.message_id):
            raise ehr.InvalidEvent([ehr.Problem("data.messageId", "is taken by another message")])
        # Sent "now" (when it reached the portal), so it sorts after what readers have read
        # and counts as unread even if the EHR's clock or queue ran behind.
        message = m.Message(
            id=c.message_id or m.new_id("msg"),
            thread_id=thread.id,
            sender_kind="provider",
            sender_id=provider.id,
            sender_name=provider.display_name,
            body=c.body,
            sent_at=now,
        )
        self._session.add(message)
        thread.last_message_at = max(thread.last_message_at, now)
        self._outbox.record(
            EventKind.MESSAGE_RECEIVED,
            object_id=message.id,
            patient_id=thread.patient_id,
            now=now,
            payload={"threadId": thread.id},
        )
        text = ehr.reply_notice(provider.display_name)
        await self._notify(
            thread.patient_id,
            "MESSAGE_RECEIVED",
            RecordArea.MESSAGES,
            text,
            thread.id,
            now,
            policies,
        )
        return Applied(thread.patient_id, message.id)

    async def _statement_issued(
        self, c: ehr.StatementIssued, now: datetime, policies: Policies
    ) -> Applied:
        await self._require(m.Patient, c.guarantor_patient_id, "data.guarantorPatientId", "patient")
        if await self._exists(m.Statement, c.statement_id):
            raise ehr.InvalidEvent([ehr.Problem("data.statementId", "was issued already")])
        for n, line in enumerate(c.lines):
            await self._require(
                m.Patient, line.patient_id, f"data.lineItems[{n}].patientId", "patient"
            )
            if line.line_id is not None and await self._exists(m.StatementLineItem, line.line_id):
                raise ehr.InvalidEvent(
                    [ehr.Problem(f"data.lineItems[{n}].lineItemId", "is taken by another line")]
                )
        due = Money(sum(line.patient_cents for line in c.lines), c.currency)
        self._session.add(
            m.Statement(
                id=c.statement_id,
                guarantor_patient_id=c.guarantor_patient_id,
                account_number=c.account_number,
                statement_date=c.statement_date,
                due_date=c.due_date,
                status="open" if due.amount_cents > 0 else "paid",
                currency=c.currency,
            )
        )
        await self._session.flush()  # the statement before its lines (foreign key)
        self._session.add_all(
            m.StatementLineItem(
                id=line.line_id or m.new_id("sli"),
                statement_id=c.statement_id,
                service_date=line.service_date,
                patient_id=line.patient_id,
                description=line.description,
                code=line.code,
                charge_cents=line.charge_cents,
                insurance_paid_cents=line.insurance_paid_cents,
                adjustment_cents=line.adjustment_cents,
                patient_cents=line.patient_cents,
            )
            for line in c.lines
        )
        text = ehr.statement_notice(c.statement_date, due.formatted)
        await self._notify(
            c.guarantor_patient_id,
            "STATEMENT_ISSUED",
            RecordArea.BILLING,
            text,
            c.statement_id,
            now,
            policies,
        )
        return Applied(c.guarantor_patient_id, c.statement_id)

    async def _appointment_changed(
        self, c: ehr.AppointmentChanged, now: datetime, policies: Policies
    ) -> Applied:
        stmt = select(m.Appointment).where(m.Appointment.id == c.appointment_id).with_for_update()
        row = await self._session.scalar(stmt)
        if row is None:
            raise ehr.unknown("data.appointmentId", "appointment")
        ehr.check_owner("data.patientId", c.patient_id, row.patient_id)
        await self._require(m.Provider, c.provider_id, "data.providerId", "provider")
        await self._require(m.Department, c.department_id, "data.departmentId", "department")
        old_starts_at = row.starts_at
        row.status = c.status or row.status
        row.starts_at = c.starts_at or row.starts_at
        row.duration_minutes = c.duration_minutes or row.duration_minutes
        row.provider_id = c.provider_id or row.provider_id
        row.department_id = c.department_id or row.department_id
        if row.status == "cancelled" or row.starts_at != old_starts_at:
            # The clinic moved or cancelled it: its online slot is open again.
            await self._session.execute(
                update(m.Slot).where(m.Slot.appointment_id == row.id).values(appointment_id=None)
            )
        self._outbox.record(
            EventKind.APPOINTMENT_CHANGED,
            object_id=row.id,
            patient_id=row.patient_id,
            now=now,
            payload={"status": row.status, "startsAt": row.starts_at.isoformat()},
        )
        department = await self._session.get(m.Department, row.department_id)
        zone = department.timezone if department is not None else policies.ages.timezone
        text = ehr.appointment_notice(
            row.status, row.starts_at, old_starts_at, row.visit_type, zone
        )
        await self._notify(
            row.patient_id,
            "APPOINTMENT_CHANGED",
            RecordArea.APPOINTMENTS,
            text,
            row.id,
            now,
            policies,
        )
        return Applied(row.patient_id, row.id)


def _fill(row: m.Result, c: ehr.ResultFinalized) -> None:
    row.ordering_provider_id = c.ordering_provider_id
    row.name, row.code, row.kind, row.status = c.name, c.code, c.kind, c.status
    row.collected_at, row.resulted_at = c.collected_at, c.resulted_at
    row.provider_comment, row.report = c.provider_comment, c.report
