"""APPOINTMENT_CHANGED and APPOINTMENT_REQUEST_ANSWERED: the clinic moved, cancelled or
booked a visit. Each change is pushed (outbox) and announced to APPOINTMENTS readers."""

from __future__ import annotations

from datetime import datetime

from domain import appointment_requests as requests_rules
from domain import ehr
from domain.appointment_requests import RequestStatus
from domain.events import EventKind
from domain.scopes import RecordArea
from persistence import models as m
from persistence.uow import UnitOfWork
from usecases.ehr_ports import Applied, Ports, tell


async def appointment_changed(
    c: ehr.AppointmentChanged, uow: UnitOfWork, now: datetime, ports: Ports
) -> Applied:
    repo = uow.ehr
    row = await repo.appointment_for_update(c.appointment_id)
    if row is None:
        raise ehr.unknown("data.appointmentId", "appointment")
    ehr.check_owner("data.patientId", c.patient_id, row.patient_id)
    await repo.require(m.Provider, c.provider_id, "data.providerId", "provider")
    await repo.require(m.Department, c.department_id, "data.departmentId", "department")
    old_starts_at = row.starts_at
    row.status = c.status or row.status
    row.starts_at = c.starts_at or row.starts_at
    row.duration_minutes = c.duration_minutes or row.duration_minutes
    row.provider_id = c.provider_id or row.provider_id
    row.department_id = c.department_id or row.department_id
    if row.status == "cancelled" or row.starts_at != old_starts_at:
        await repo.free_slot(row.id)  # the clinic moved or cancelled it: its slot is open again
    uow.outbox.record(
        EventKind.APPOINTMENT_CHANGED,
        object_id=row.id,
        patient_id=row.patient_id,
        now=now,
        payload={"status": row.status, "startsAt": row.starts_at.isoformat()},
    )
    department = await repo.department(row.department_id)
    zone = department.timezone if department is not None else ports.ages.timezone
    text = ehr.appointment_notice(row.status, row.starts_at, old_starts_at, row.visit_type, zone)
    kind, area = "APPOINTMENT_CHANGED", RecordArea.APPOINTMENTS
    await tell(uow, row.patient_id, kind, area, text, row.id, now, ports.ages)
    return Applied(row.patient_id, row.id)


async def appointment_request_answered(
    c: ehr.AppointmentRequestAnswered, uow: UnitOfWork, now: datetime, ports: Ports
) -> Applied:
    """The clinic's answer to a patient's request (scheduled, with the booked visit, or
    declined); a request no longer open (cancelled by the patient) refuses it."""
    requests = uow.appointment_requests
    row = await requests.find(c.request_id)
    if row is None:
        raise ehr.unknown("data.requestId", "appointment request")
    ehr.check_owner("data.patientId", c.patient_id, row.patient_id)
    status = RequestStatus(c.status)
    appointment_id = None
    if c.appointment is not None:
        appointment_id = await _book(uow, row, c.appointment)
    answered = await requests.set_status(
        row.id, status, now, appointment_id=appointment_id, decline_reason=c.decline_reason
    )
    if not answered:
        raise ehr.InvalidEvent(
            [ehr.Problem("data.requestId", "is not open (answered or cancelled already)")]
        )
    requests.changed(row.id, row.patient_id, status.value, now)
    if appointment_id is not None:
        uow.outbox.record(
            EventKind.APPOINTMENT_CHANGED,
            object_id=appointment_id,
            patient_id=row.patient_id,
            now=now,
            payload={"change": "scheduled"},
        )
    text = requests_rules.answer_notice(status, row.visit_type)
    kind, area = "APPOINTMENT_REQUEST_ANSWERED", RecordArea.APPOINTMENTS
    await tell(uow, row.patient_id, kind, area, text, row.id, now, ports.ages)
    return Applied(row.patient_id, row.id)


async def _book(uow: UnitOfWork, row: m.AppointmentRequest, a: ehr.BookedAppointment) -> str:
    repo = uow.ehr
    if await repo.exists(m.Appointment, a.appointment_id):
        raise ehr.InvalidEvent([ehr.Problem("data.appointment.appointmentId", "exists already")])
    await repo.require(m.Provider, a.provider_id, "data.appointment.providerId", "provider")
    await repo.require(m.Department, a.department_id, "data.appointment.departmentId", "department")
    return await uow.appointment_requests.book(row, a)
