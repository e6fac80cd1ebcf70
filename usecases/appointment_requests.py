"""requestAppointment and cancelAppointmentRequest (domain/appointment_requests.py).

The clinic's answer comes through the EHR feed (persistence/appointment_requests.py,
`answer`), in the feed's own transaction.
"""

from __future__ import annotations

from datetime import datetime

from domain import appointment_requests as rules
from domain.access import PatientGrant
from domain.appointment_requests import RequestStatus
from persistence import models as m
from persistence.uow import UnitOfWork


async def request_appointment(
    command: rules.RequestAppointment, grant: PatientGrant, uow: UnitOfWork, now: datetime
) -> m.AppointmentRequest:
    async with uow:
        requests = uow.appointment_requests
        if command.provider_id is not None and not await requests.exists(
            m.Provider, command.provider_id
        ):
            raise rules.UnknownProvider(field="preferredProviderId")
        if command.department_id is not None and not await requests.exists(
            m.Department, command.department_id
        ):
            raise rules.UnknownDepartment(field="preferredDepartmentId")
        if await requests.open_request_for(grant, command.visit_type) is not None:
            raise rules.DuplicateRequest(field="visitType")
        row = requests.add(grant, command, now)
        await uow.commit()
    return row


async def cancel_appointment_request(
    request_id: str, grant: PatientGrant, uow: UnitOfWork, now: datetime
) -> m.AppointmentRequest:
    """`grant` covers the request's patient (the caller checked its owner first)."""
    async with uow:
        requests = uow.appointment_requests
        row = await requests.row(request_id)
        refusal = rules.cancel_refusal(RequestStatus(row.status))
        if refusal is not None:
            raise refusal
        if not await requests.set_status(request_id, RequestStatus.CANCELLED, now):
            raise rules.NotPending()  # the clinic answered a moment ago
        requests.changed(request_id, grant.patient_id, "cancelled", now)
        row = await requests.row(request_id)
        await uow.commit()
    return row
