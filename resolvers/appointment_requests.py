"""requestAppointment, cancelAppointmentRequest, Patient.appointmentRequests, node(id).

Who: the patient, or a proxy whose grant allows APPOINTMENTS (the same area as booking).
The writes are use cases (usecases/appointment_requests.py); the clinic answers through the
EHR feed (APPOINTMENT_REQUEST_ANSWERED, persistence/appointment_requests.py).
"""

from __future__ import annotations

from domain.access import PatientGrant
from domain.clock import FixedClock
from domain.scopes import RecordArea
from persistence import models as m
from persistence.uow import UnitOfWork
from resolvers import owned
from runtime.context import Context
from usecases import appointment_requests as uc


async def request_appointment(ctx: Context, command: uc.RequestAppointment) -> uc.Answered:
    grant = ctx.act(command.patient_id, RecordArea.APPOINTMENTS, "AppointmentRequest")
    return await uc.request_appointment(command, grant, _uow(ctx), FixedClock(ctx.now))


async def cancel_appointment_request(ctx: Context, command: uc.CancelRequest) -> uc.Answered:
    ctx.require_principal()
    owner = await uc.request_owner(_uow(ctx), command.request_id)
    # An unknown request is refused like a forbidden one, so ids reveal nothing.
    grant = ctx.act(owner or "", RecordArea.APPOINTMENTS, "AppointmentRequest")
    return await uc.cancel_appointment_request(command, grant, _uow(ctx), FixedClock(ctx.now))


def _uow(ctx: Context) -> UnitOfWork:
    return UnitOfWork(ctx.services.sessions)


# -- reads -----------------------------------------------------------------------------------
async def appointment_requests(ctx: Context, grant: PatientGrant) -> list[m.AppointmentRequest]:
    return list(await ctx.loaders.appointment_requests.get(grant) or [])


async def appointment_request(
    ctx: Context, request_id: str
) -> tuple[m.AppointmentRequest | None, PatientGrant]:
    """node(id): the patient's APPOINTMENTS is checked first (unknown ids: as forbidden)."""
    return await owned.owned_row(ctx, m.AppointmentRequest, "AppointmentRequest", request_id)
