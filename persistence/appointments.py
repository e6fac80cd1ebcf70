"""The appointments repository: booking, moving, cancelling, confirming, checking in, reminders.

Used through a unit of work. Every change is a conditional UPDATE that says what it expects
to find and reports whether it found it, so concurrent requests cannot both win:

- a slot is taken with `UPDATE slots SET appointment_id = :a WHERE id = :s AND appointment_id
  IS NULL`: of concurrent bookings exactly one updates a row (on PostgreSQL the others wait
  for its row lock, then find the slot taken); a unique index on `slots.appointment_id` is
  the backstop;
- an appointment changes only if it still has the status and start time the rules were
  checked against (compare-and-set), whatever ran in between.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Update, exists, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from domain.appointments import (
    ACTIVE_STATUSES,
    AppointmentFacts,
    CheckInAnswer,
    SlotFacts,
    is_telehealth,
)
from domain.errors import BrokenInvariant
from persistence import models as m


async def _changed(session: AsyncSession, statement: Update) -> int:
    result = await session.execute(statement.execution_options(synchronize_session=False))
    return cast(CursorResult[Any], result).rowcount


@dataclass(frozen=True)
class StoredSlot:
    id: str
    provider_id: str
    department_id: str
    starts_at: datetime
    duration_minutes: int
    visit_types: list[str]
    appointment_id: str | None

    @property
    def facts(self) -> SlotFacts:
        return SlotFacts(
            self.department_id, self.starts_at, self.visit_types, self.appointment_id is not None
        )


@dataclass(frozen=True)
class StoredAppointment:
    id: str
    patient_id: str
    department_id: str
    visit_type: str
    status: str
    starts_at: datetime

    @property
    def facts(self) -> AppointmentFacts:
        return AppointmentFacts(self.status, self.starts_at, self.visit_type, self.department_id)


@dataclass(frozen=True)
class DueReminder:
    appointment_id: str
    patient_id: str
    starts_at: datetime
    visit_type: str
    department_name: str
    timezone: str


class AppointmentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # -- reads ---------------------------------------------------------------------------
    async def slot(self, slot_id: str) -> StoredSlot | None:
        row = await self._session.get(m.Slot, slot_id, populate_existing=True)
        if row is None:
            return None
        return StoredSlot(
            row.id,
            row.provider_id,
            row.department_id,
            row.starts_at,
            row.duration_minutes,
            list(row.visit_types),
            row.appointment_id,
        )

    async def appointment(self, appointment_id: str) -> StoredAppointment | None:
        a = m.Appointment
        stmt = select(
            a.id, a.patient_id, a.department_id, a.visit_type, a.status, a.starts_at
        ).where(a.id == appointment_id)
        row = (await self._session.execute(stmt)).one_or_none()
        return None if row is None else StoredAppointment(*row)

    async def owner(self, appointment_id: str) -> str | None:
        """The patient an appointment belongs to; nothing else (read before the access check)."""
        stmt = select(m.Appointment.patient_id).where(m.Appointment.id == appointment_id)
        return await self._session.scalar(stmt)

    async def clinic_phone(self, department_id: str) -> str | None:
        stmt = select(m.Department.phone).where(m.Department.id == department_id)
        return await self._session.scalar(stmt)

    async def appointment_row(self, appointment_id: str) -> m.Appointment:
        """The appointment as it is now in this transaction (for the mutation's payload)."""
        row = await self._session.get(m.Appointment, appointment_id, populate_existing=True)
        if row is None:
            raise BrokenInvariant("row is None")
        return row

    async def slot_row(self, slot_id: str) -> m.Slot:
        row = await self._session.get(m.Slot, slot_id, populate_existing=True)
        if row is None:
            raise BrokenInvariant("row is None")
        return row

    async def slot_of(self, appointment_id: str) -> str | None:
        stmt = select(m.Slot.id).where(m.Slot.appointment_id == appointment_id)
        return await self._session.scalar(stmt)

    # -- changes -------------------------------------------------------------------------
    async def book(
        self,
        *,
        patient_id: str,
        slot: StoredSlot,
        visit_type: str,
        reason: str | None,
    ) -> str | None:
        """Add an appointment in `slot` and take the slot; None if someone else has it (the
        caller must then roll back, which removes the appointment again)."""
        appointment_id = m.new_id("apt")
        self._session.add(
            m.Appointment(
                id=appointment_id,
                patient_id=patient_id,
                provider_id=slot.provider_id,
                department_id=slot.department_id,
                visit_type=visit_type,
                reason=reason,
                starts_at=slot.starts_at,
                duration_minutes=slot.duration_minutes,
                status="scheduled",
                telehealth=is_telehealth(visit_type),
                questionnaire_complete=False,
            )
        )
        await self._session.flush()
        return appointment_id if await self._take(slot.id, appointment_id) else None

    async def reschedule(
        self, appt: StoredAppointment, slot: StoredSlot
    ) -> tuple[bool, bool, str | None]:
        """(appointment unchanged meanwhile, new slot taken, freed slot id).

        The caller commits only if both are True; rolling back undoes every step.
        """
        freed = await self.slot_of(appt.id)
        if freed is not None:
            # First, so that the unique index on slots.appointment_id lets the new one be taken.
            await _changed(
                self._session,
                update(m.Slot).where(m.Slot.id == freed).values(appointment_id=None),
            )
        same = await _changed(
            self._session,
            self._unchanged(appt).values(
                starts_at=slot.starts_at,
                provider_id=slot.provider_id,
                department_id=slot.department_id,
                duration_minutes=slot.duration_minutes,
                status="scheduled",  # a new time is confirmed and checked in for anew
            ),
        )
        if not same:
            return False, False, freed
        return True, await self._take(slot.id, appt.id), freed

    async def cancel(self, appt: StoredAppointment) -> tuple[bool, str | None]:
        """(appointment unchanged meanwhile, the slot it freed)."""
        if not await _changed(self._session, self._unchanged(appt).values(status="cancelled")):
            return False, None
        freed = await self.slot_of(appt.id)
        if freed is not None:
            await _changed(
                self._session,
                update(m.Slot).where(m.Slot.id == freed).values(appointment_id=None),
            )
        return True, freed

    async def confirm(self, appt: StoredAppointment) -> bool:
        return bool(await _changed(self._session, self._unchanged(appt).values(status="confirmed")))

    async def check_in(
        self,
        appt: StoredAppointment,
        *,
        account_id: str,
        answers: Sequence[CheckInAnswer],
        contact_confirmed: bool,
        insurance_confirmed: bool,
        now: datetime,
    ) -> bool:
        values = {"status": "checked_in", "questionnaire_complete": True}
        if not await _changed(self._session, self._unchanged(appt).values(**values)):
            return False
        self._session.add(
            m.AppointmentCheckIn(
                id=m.new_id("chk"),
                appointment_id=appt.id,
                account_id=account_id,
                starts_at=appt.starts_at,
                answers=[{"questionId": a.question_id, "answer": a.answer} for a in answers],
                contact_confirmed=contact_confirmed,
                insurance_confirmed=insurance_confirmed,
                created_at=now,
            )
        )
        return True

    def log_change(
        self,
        appointment_id: str,
        *,
        account_id: str,
        change: str,
        detail: dict[str, Any],
        now: datetime,
    ) -> None:
        self._session.add(
            m.AppointmentChange(
                id=m.new_id("apc"),
                appointment_id=appointment_id,
                account_id=account_id,
                change=change,
                detail=detail,
                created_at=now,
            )
        )

    def _unchanged(self, appt: StoredAppointment) -> Update:
        """An UPDATE of `appt` that matches only while it has the status and start time the
        rules were checked against."""
        a = m.Appointment
        return update(a).where(
            a.id == appt.id, a.status == appt.status, a.starts_at == appt.starts_at
        )

    async def _take(self, slot_id: str, appointment_id: str) -> bool:
        stmt = (
            update(m.Slot)
            .where(m.Slot.id == slot_id, m.Slot.appointment_id.is_(None))
            .values(appointment_id=appointment_id)
        )
        return await _changed(self._session, stmt) == 1

    # -- reminders -----------------------------------------------------------------------
    async def due_reminders(self, now: datetime, until: datetime) -> list[DueReminder]:
        """Active appointments starting in (now, until] with no reminder for that start yet."""
        a, d, r = m.Appointment, m.Department, m.AppointmentReminder
        reminded = exists().where(r.appointment_id == a.id, r.starts_at == a.starts_at)
        stmt = (
            select(a.id, a.patient_id, a.starts_at, a.visit_type, d.name, d.timezone)
            .join(d, d.id == a.department_id)
            .where(
                a.status.in_(ACTIVE_STATUSES),
                a.starts_at > now,
                a.starts_at <= until,
                ~reminded,
            )
            .order_by(a.starts_at, a.id)
        )
        return [DueReminder(*row) for row in (await self._session.execute(stmt)).all()]

    async def mark_reminded(self, appointment_id: str, starts_at: datetime, now: datetime) -> bool:
        """Record the reminder for this start time; False if one is recorded already (another
        run got there first: on PostgreSQL this waits for that run's transaction)."""
        values = {"appointment_id": appointment_id, "starts_at": starts_at, "sent_at": now}
        dialect = self._session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = insert(m.AppointmentReminder).values(**values).on_conflict_do_nothing()
        result = await self._session.execute(stmt)
        return cast(CursorResult[Any], result).rowcount == 1
