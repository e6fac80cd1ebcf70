"""`node(id)`: every Node type, with the same access rules as the paths that reach it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from persistence import models as m
from resolvers import appointment_requests as appointment_requests_r
from resolvers import billing as billing_r
from resolvers import coverages as coverages_r
from resolvers import notes as notes_r
from resolvers import owned
from resolvers import patients as patients_r
from resolvers import people as people_r
from resolvers import proxy as proxy_r
from resolvers import records as records_r
from resolvers import renewals as renewals_r
from resolvers import summary as summary_r
from resolvers import viewer as viewer_r
from schema import appointments as appointments_s
from schema.base import BadInput

if TYPE_CHECKING:
    from schema.base import Info, Node

Fetch = Callable[["Info", str], Awaitable[Any]]


async def _own_account(info: Info, account_id: str) -> Any:
    if info.context.require_principal().account_id != account_id:
        return None
    return await viewer_r.account(info, account_id)


async def owned_row(
    info: Info, model: type[m.Base], object_type: str, row_id: str
) -> tuple[Any, Any]:
    """resolvers.owned.owned_row for callers that still hold `info` (issue 14 moves them)."""
    return await owned.owned_row(info.context, model, object_type, row_id)


async def _appointment(info: Info, row_id: str) -> Any:
    row, grant = await owned_row(info, m.Appointment, "Appointment", row_id)
    return appointments_s.Appointment.from_row(row, grant, info) if row else None


async def _slot(info: Info, row_id: str) -> Any:
    info.context.require_principal()
    async with info.context.loaders.session() as session:
        row = await session.get(m.Slot, row_id)
    return appointments_s.Slot.from_row(row) if row else None


# Every Node type by its GraphQL name. A new Node type adds its fetcher here.
FETCHERS: dict[str, Fetch] = {
    "Patient": patients_r.patient,
    "Provider": people_r.provider,
    "Department": people_r.department,
    "Account": _own_account,
    "Appointment": _appointment,
    "Slot": _slot,
    "Medication": summary_r.medication_node,
    "Allergy": summary_r.allergy_node,
    "Problem": summary_r.problem_node,
    "Immunization": summary_r.immunization_node,
    "Statement": billing_r.statement_node,
    "ProxyGrant": proxy_r.proxy_grant_node,
    "HealthReading": records_r.health_reading_node,
    "RecordsReleaseRequest": records_r.release_request_node,
    "ClinicalNote": notes_r.note_node,
    "AppointmentRequest": appointment_requests_r.appointment_request_node,
    "PrescriptionRenewal": renewals_r.renewal_node,
    "Coverage": coverages_r.coverage_node,
}


async def node(info: Info, type_name: str, row_id: str) -> Node | None:
    """The Node types not yet in schema.base.Node's registry (issue 14 moves them there)."""
    fetch = FETCHERS.get(type_name)
    if fetch is None:
        raise BadInput("Not a valid id.")
    result: Node | None = await fetch(info, row_id)
    return result
