"""requestAppointment and cancelAppointmentRequest (domain/appointment_requests.py).

The caller authorizes: the APPOINTMENTS grant of the request's patient (`Context.act`: the
patient or a proxy allowed to act on it). The clinic's answer comes through the EHR feed
(persistence/appointment_requests.py, `answer`), in the feed's own transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from domain import appointment_requests as rules
from domain.access import PatientGrant
from domain.appointment_requests import ContactPreference, RequestStatus, TimeOfDay, Weekday
from domain.clock import Clock
from persistence import models as m
from persistence.uow import UnitOfWork


# -- commands --------------------------------------------------------------------------------
@dataclass(frozen=True)
class RequestAppointment:
    """What the patient asks for, ids decoded, not yet checked (`rules.check_request`)."""

    patient_id: str
    visit_type: str
    reason: str
    provider_id: str | None = None
    department_id: str | None = None
    days: Sequence[Weekday] = ()
    times: Sequence[TimeOfDay] = ()
    contact: ContactPreference = field(default=ContactPreference.PORTAL_MESSAGE)


@dataclass(frozen=True)
class CancelRequest:
    request_id: str


# -- results ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Answered:
    """The request as stored after the write, and the grant it acted under."""

    request: m.AppointmentRequest
    grant: PatientGrant


# -- the writes ------------------------------------------------------------------------------
async def request_appointment(
    command: RequestAppointment, grant: PatientGrant, uow: UnitOfWork, clock: Clock
) -> Answered:
    """Every invalid field at once (INVALID_INPUT); an unknown preferred provider or
    department, or an open request for the same visit type, is refused."""
    now = clock.now()
    request = rules.check_request(
        visit_type=command.visit_type,
        reason=command.reason,
        provider_id=command.provider_id,
        department_id=command.department_id,
        days=command.days,
        times=command.times,
        contact=command.contact,
    )
    async with uow:
        requests = uow.appointment_requests
        if request.provider_id is not None and not await requests.exists(
            m.Provider, request.provider_id
        ):
            raise rules.UnknownProvider(field="preferredProviderId")
        if request.department_id is not None and not await requests.exists(
            m.Department, request.department_id
        ):
            raise rules.UnknownDepartment(field="preferredDepartmentId")
        if await requests.open_request_for(grant, request.visit_type) is not None:
            raise rules.DuplicateRequest(field="visitType")
        row = requests.add(grant, request, now)
        await uow.commit()
    return Answered(row, grant)


async def cancel_appointment_request(
    command: CancelRequest, grant: PatientGrant, uow: UnitOfWork, clock: Clock
) -> Answered:
    """`grant` covers the request's patient (the caller checked `request_owner` first)."""
    now = clock.now()
    async with uow:
        requests = uow.appointment_requests
        row = await requests.row(command.request_id)
        refusal = rules.cancel_refusal(RequestStatus(row.status))
        if refusal is not None:
            raise refusal
        if not await requests.set_status(command.request_id, RequestStatus.CANCELLED, now):
            raise rules.NotPending()  # the clinic answered a moment ago
        requests.changed(command.request_id, grant.patient_id, "cancelled", now)
        row = await requests.row(command.request_id)
        await uow.commit()
    return Answered(row, grant)


async def request_owner(uow: UnitOfWork, request_id: str) -> str | None:
    """Whose request this is (None: unknown), read before authorizing a change to it."""
    async with uow:
        return await uow.appointment_requests.owner(request_id)
