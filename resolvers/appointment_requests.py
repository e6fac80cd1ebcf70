"""requestAppointment, cancelAppointmentRequest, Patient.appointmentRequests, node(id).

Who: the patient, or a proxy whose grant allows APPOINTMENTS (the same area as booking).
The writes are use cases (usecases/appointment_requests.py); the clinic answers through the
EHR feed (APPOINTMENT_REQUEST_ANSWERED, persistence/appointment_requests.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain import appointment_requests as rules
from domain.access import PatientGrant
from domain.scopes import RecordArea
from persistence import models as m
from persistence.uow import UnitOfWork
from resolvers.payloads import user_errors
from schema import appointment_request_actions as s
from schema.appointment_requests import AppointmentRequest
from schema.base import BadInput, internal_id
from usecases import appointment_requests as usecases

if TYPE_CHECKING:
    from schema.base import Info

ERRORS = (s.AppointmentRequestError, s.AppointmentRequestErrorCode)


@user_errors(s.RequestAppointmentPayload, *ERRORS)
async def request_appointment(
    info: Info, input: s.RequestAppointmentInput
) -> s.RequestAppointmentPayload:
    ctx = info.context
    patient_id = _decode(input.patient_id, "Patient", "patientId") or ""
    grant = ctx.act(patient_id, RecordArea.APPOINTMENTS, "AppointmentRequest")
    command = rules.check_request(
        visit_type=input.visit_type,
        reason=input.reason,
        provider_id=_decode(input.preferred_provider_id, "Provider", "preferredProviderId"),
        department_id=_decode(input.preferred_department_id, "Department", "preferredDepartmentId"),
        days=input.preferred_days,
        times=input.preferred_times_of_day,
        contact=input.contact_preference,
    )
    uow = UnitOfWork(ctx.services.sessions)
    row = await usecases.request_appointment(command, grant, uow, ctx.now)
    return s.RequestAppointmentPayload(request=AppointmentRequest.from_row(row, grant))


@user_errors(s.CancelAppointmentRequestPayload, *ERRORS)
async def cancel_appointment_request(
    info: Info, input: s.CancelAppointmentRequestInput
) -> s.CancelAppointmentRequestPayload:
    ctx = info.context
    request_id = _decode(input.request_id, "AppointmentRequest", "requestId") or ""
    ctx.require_principal()
    uow = UnitOfWork(ctx.services.sessions)
    async with uow:
        owner = await uow.appointment_requests.owner(request_id)
    # An unknown request is refused like a forbidden one, so ids reveal nothing.
    grant = ctx.act(owner or "", RecordArea.APPOINTMENTS, "AppointmentRequest")
    row = await usecases.cancel_appointment_request(request_id, grant, uow, ctx.now)
    return s.CancelAppointmentRequestPayload(request=AppointmentRequest.from_row(row, grant))


def _decode(global_id: str | None, type_name: str, field: str) -> str | None:
    if global_id is None:
        return None
    try:
        return internal_id(global_id, type_name)
    except BadInput:
        raise rules.InvalidId(f"This is not a valid {type_name} id.", field) from None


# -- reads -----------------------------------------------------------------------------------
async def appointment_requests(info: Info, grant: PatientGrant) -> list[AppointmentRequest]:
    rows = await info.context.loaders.appointment_requests.get(grant)
    return [AppointmentRequest.from_row(row, grant) for row in rows or []]


async def appointment_request_node(info: Info, row_id: str) -> AppointmentRequest | None:
    from resolvers.nodes import owned_row  # resolvers.nodes imports this module

    row, grant = await owned_row(info, m.AppointmentRequest, "AppointmentRequest", row_id)
    return AppointmentRequest.from_row(row, grant) if row else None
