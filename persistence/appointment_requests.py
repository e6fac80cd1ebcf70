"""Appointment requests: stored, withdrawn by the patient, answered by the clinic (EHR feed).

A request changes status only with a conditional UPDATE from REQUESTED, so a patient's
cancellation and the clinic's answer cannot both win. Every change records an
APPOINTMENT_REQUEST_CHANGED outbox event in its transaction; the clinic's answer notifies
(usecases/ehr_appointments.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain import appointment_requests as rules
from domain import ehr
from domain.access import PatientGrant
from domain.appointment_requests import RequestStatus
from domain.appointments import is_telehealth
from domain.errors import BrokenInvariant
from domain.events import EventKind
from persistence import models as m
from persistence.outbox import OutboxRepository
from persistence.status import move_status

OPEN = RequestStatus.REQUESTED.value


class AppointmentRequestRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._outbox = OutboxRepository(session)

    async def exists(self, model: type[m.Provider] | type[m.Department], row_id: str) -> bool:
        return await self._session.get(model, row_id) is not None

    async def open_request_for(self, grant: PatientGrant, visit_type: str) -> str | None:
        t = m.AppointmentRequest
        stmt = select(t.id).where(
            t.patient_id == grant.patient_id, t.visit_type == visit_type, t.status == OPEN
        )
        return await self._session.scalar(stmt.limit(1))

    def add(
        self, grant: PatientGrant, request: rules.RequestAppointment, now: datetime
    ) -> m.AppointmentRequest:
        row = m.AppointmentRequest(
            id=m.new_id("apr"),
            patient_id=grant.patient_id,
            requested_by_account_id=grant.account_id,
            visit_type=request.visit_type,
            reason=request.reason,
            provider_id=request.provider_id,
            department_id=request.department_id,
            preferred_days=[d.value for d in request.days],
            preferred_times=[t.value for t in request.times],
            contact_preference=request.contact.value,
            status=OPEN,
            appointment_id=None,
            decline_reason=None,
            created_at=now,
            status_changed_at=now,
        )
        self._session.add(row)
        self.changed(row.id, grant.patient_id, "requested", now)
        return row

    async def owner(self, request_id: str) -> str | None:
        """The patient a request belongs to; nothing else (read before the access check)."""
        t = m.AppointmentRequest
        return await self._session.scalar(select(t.patient_id).where(t.id == request_id))

    async def row(self, request_id: str) -> m.AppointmentRequest:
        row = await self._session.get(m.AppointmentRequest, request_id, populate_existing=True)
        if row is None:
            raise BrokenInvariant("row is None")
        return row

    async def set_status(
        self,
        request_id: str,
        status: RequestStatus,
        now: datetime,
        *,
        appointment_id: str | None = None,
        decline_reason: str | None = None,
    ) -> bool:
        """Move an open request to `status`; False if it was no longer open."""
        return await move_status(
            self._session,
            m.AppointmentRequest,
            request_id,
            expected=OPEN,
            to=status.value,
            now=now,
            appointment_id=appointment_id,
            decline_reason=decline_reason,
        )

    def changed(self, request_id: str, patient_id: str, change: str, now: datetime) -> None:
        self._outbox.record(
            EventKind.APPOINTMENT_REQUEST_CHANGED,
            object_id=request_id,
            patient_id=patient_id,
            now=now,
            payload={"change": change},
        )

    # -- the clinic's answer (EHR feed: APPOINTMENT_REQUEST_ANSWERED) -------------------------
    async def find(self, request_id: str) -> m.AppointmentRequest | None:
        return await self._session.get(m.AppointmentRequest, request_id)

    async def book(self, row: m.AppointmentRequest, a: ehr.BookedAppointment) -> str:
        """Insert the appointment the clinic booked for the request; its id."""
        visit_type = a.visit_type or row.visit_type
        self._session.add(
            m.Appointment(
                id=a.appointment_id,
                patient_id=row.patient_id,
                provider_id=a.provider_id,
                department_id=a.department_id,
                visit_type=visit_type,
                reason=row.reason,
                starts_at=a.starts_at,
                duration_minutes=a.duration_minutes,
                status="scheduled",
                telehealth=is_telehealth(visit_type),
                questionnaire_complete=False,
            )
        )
        await self._session.flush()
        return a.appointment_id
