"""requestAppointment, cancelAppointmentRequest, Patient.appointmentRequests, node(id).

Who: the patient, or a proxy whose grant allows APPOINTMENTS (the same area as booking).
The writes are use cases (usecases/appointment_requests.py); the clinic answers through the
EHR feed (APPOINTMENT_REQUEST_ANSWERED, persistence/appointment_requests.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.access import PatientGrant
from domain.clock import FixedClock
from domain.scopes import RecordArea
from persistence import models as m
from persistence.uow import UnitOfWork
from portal.context import Context
from usecases import appointment_requests as uc

if TYPE_CHECKING:
    from schema.appointment_requests import AppointmentRequest
    from schema.base import Info


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


async def appointment_request_node(info: Info, row_id: str) -> AppointmentRequest | None:
    """node(id) (resolvers/nodes.py), until AppointmentRequest registers its own fetch."""
    from resolvers.nodes import owned_row  # resolvers.nodes imports this module
    from schema.appointment_requests import AppointmentRequest

    row, grant = await owned_row(info, m.AppointmentRequest, "AppointmentRequest", row_id)
    return AppointmentRequest.from_row(row, grant) if row else None
