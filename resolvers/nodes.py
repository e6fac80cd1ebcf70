"""`node(id)`: every Node type, with the same access rules as the paths that reach it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from domain.access import AccessDenied
from persistence import models as m
from persistence.queries import owned
from resolvers import appointment_requests as appointment_requests_r
from resolvers import billing as billing_r
from resolvers import coverages as coverages_r
from resolvers import legal as legal_r
from resolvers import notes as notes_r
from resolvers import patients as patients_r
from resolvers import people as people_r
from resolvers import proxy as proxy_r
from resolvers import records as records_r
from resolvers import renewals as renewals_r
from resolvers import summary as summary_r
from resolvers import viewer as viewer_r
from schema import appointments as appointments_s
from schema import messages as messages_s
from schema.attachments import Attachment
from schema.base import BadInput, from_global_id
from schema.notifications import Notification
from schema.results import Result

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
    """Check access to the owner of a patient-owned row, then load it through the grant."""
    ctx = info.context
    ctx.require_principal()
    async with ctx.loaders.session() as session:
        owner = await owned.owner_of(session, model, row_id)
        if owner is None:
            # Unknown ids answer like forbidden ones, so ids reveal nothing.
            ctx.access("", owned.area_of(model), object_type)
        grant = ctx.access(owner or "", owned.area_of(model), object_type)
        rows = await owned.owned_by_id(session, model, [grant], [row_id])
    return (rows[0] if rows else None), grant


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
    "MessageThread": messages_s.MessageThread.fetch_node,
    "Message": messages_s.Message.fetch_node,
    "Notification": Notification.fetch_node,
    "Result": Result.fetch_node,
    "Medication": summary_r.medication_node,
    "Allergy": summary_r.allergy_node,
    "Problem": summary_r.problem_node,
    "Immunization": summary_r.immunization_node,
    "Statement": billing_r.statement_node,
    "ProxyGrant": proxy_r.proxy_grant_node,
    "Attachment": Attachment.fetch_node,
    "HealthReading": records_r.health_reading_node,
    "RecordsReleaseRequest": records_r.release_request_node,
    "ClinicalNote": notes_r.note_node,
    "AppointmentRequest": appointment_requests_r.appointment_request_node,
    "PrescriptionRenewal": renewals_r.renewal_node,
    "LegalDocument": legal_r.document_node,
    "Coverage": coverages_r.coverage_node,
}


async def node(info: Info, global_id: str) -> Node | None:
    info.context.require_principal()
    type_name, row_id = from_global_id(global_id)
    fetch = FETCHERS.get(type_name)
    if fetch is None:
        raise BadInput("Not a valid id.")
    try:
        result: Node | None = await fetch(info, row_id)
    except AccessDenied as denied:
        denied.object_id = f"{type_name}:{row_id}"  # for the audit of refused reads
        raise
    return result
