"""Appointments: a patient's lists, open slots, and the writes (usecases/appointments.py).

Reads answer rows (schema/appointments.py converts them); writes authorize (the APPOINTMENTS
area of the patient, audited as a write) and run the use case, answering its result.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from domain import eligibility as rules
from domain.access import PatientGrant
from domain.attachments import AcceptedFile
from domain.clock import FixedClock
from domain.errors import BrokenInvariant
from domain.paging import Page, PageOf
from domain.scopes import RecordArea
from loaders import appointments as slots
from persistence import models as m
from persistence.queries import appointments as q
from persistence.uow import UnitOfWork
from resolvers import owned
from runtime.context import Context
from usecases import appointments as uc
from usecases import attachments as attachments_uc
from usecases.attachments import Upload


# -- reads -----------------------------------------------------------------------------------
async def patient_appointments(
    ctx: Context, grant: PatientGrant, when: str, first: int, after: tuple[Any, ...] | None
) -> PageOf:
    """One page of the patient's appointments (`when`: upcoming or past)."""
    result = await ctx.loaders.appointment_pages.get((grant, Page(first, after, when)))
    if result is None:
        raise BrokenInvariant("the appointment page loader answered nothing")
    return result


async def appointment_of(
    ctx: Context, grant: PatientGrant, appointment_id: str | None
) -> m.Appointment | None:
    """One appointment of the grant's patient by id (batched), e.g. a request's booking."""
    if appointment_id is None:
        return None
    return await ctx.loaders.appointment.get((grant, appointment_id))


async def appointment(
    ctx: Context, appointment_id: str
) -> tuple[m.Appointment | None, PatientGrant]:
    """node(id): the patient's APPOINTMENTS is checked first (unknown ids: as forbidden)."""
    return await owned.owned_row(ctx, m.Appointment, "Appointment", appointment_id)


async def slot(ctx: Context, slot_id: str) -> m.Slot | None:
    """node(id): an open or taken slot (no PHI; signed-in viewers only)."""
    ctx.require_principal()
    return await slots.slot(ctx.loaders.session, slot_id)


@dataclass(frozen=True)
class OpenSlots:
    """availableSlots' filter, ids decoded. `patient_id`: only what that patient may book."""

    patient_id: str | None = None
    department_id: str | None = None
    provider_id: str | None = None
    visit_type: str | None = None
    starts_after: datetime | None = None
    starts_before: datetime | None = None


async def available_slots(
    ctx: Context, filter: OpenSlots, first: int, after: tuple[Any, ...] | None
) -> tuple[PageOf, dict[str, list[str]] | None]:
    """Open slots: the page, and with a patient, department id -> the visit types that
    patient may book there online (the slots' `visitTypes` are narrowed to those)."""
    ctx.require_principal()
    fits = await _fits(ctx, filter.patient_id) if filter.patient_id else None
    query = q.open_slots_query(
        now=ctx.now,
        department_id=filter.department_id,
        provider_id=filter.provider_id,
        visit_type=filter.visit_type,
        starts_after=filter.starts_after,
        starts_before=filter.starts_before,
        bookable=fits[0] if fits else None,
        closed_providers=fits[1] if fits else (),
    )
    result = await slots.open_slots(ctx.loaders.session, query, Page(first, after))
    return result, fits[0] if fits else None


async def _fits(ctx: Context, patient_id: str) -> tuple[dict[str, list[str]], set[str]]:
    """What one patient may book online: department -> visit types, and the providers whose
    closed panel they are not on (domain/eligibility.py; the same rules as booking)."""
    grant = ctx.access(patient_id, RecordArea.APPOINTMENTS, "Slot")
    policy = ctx.services.settings.appointments
    today = ctx.services.settings.ages.today(ctx.now)
    patient, departments, closed = await slots.booking_facts(ctx.services.session, grant, ctx.now)
    bookable = {
        d.id: rules.bookable_types(
            patient, sorted(policy.candidate_types(d.id)), d, today, ctx.now, policy.eligibility
        )
        for d in departments.values()
    }
    months = policy.eligibility.panel_months
    return bookable, {p for p in closed if not rules.on_panel(patient, p, ctx.now, months)}


# -- writes ----------------------------------------------------------------------------------
async def schedule_appointment(ctx: Context, command: uc.Schedule) -> uc.Booked:
    grant = ctx.act(command.patient_id, RecordArea.APPOINTMENTS, "Appointment")
    return await uc.schedule(command, grant, _uow(ctx), *_ports(ctx))


async def reschedule_appointment(ctx: Context, command: uc.Reschedule) -> uc.Moved:
    grant = await _act_on(ctx, command.appointment_id)
    return await uc.reschedule(command, grant, _uow(ctx), *_ports(ctx))


async def cancel_appointment(ctx: Context, command: uc.Cancel) -> uc.Cancelled:
    grant = await _act_on(ctx, command.appointment_id)
    return await uc.cancel(command, grant, _uow(ctx), *_ports(ctx))


async def confirm_appointment(ctx: Context, command: uc.Confirm) -> uc.Changed:
    grant = await _act_on(ctx, command.appointment_id)
    return await uc.confirm(command, grant, _uow(ctx), *_ports(ctx))


async def check_in(
    ctx: Context, command: uc.CheckIn, insurance_card: Upload | None
) -> uc.CheckedIn:
    """`insurance_card`: the uploaded image, if any (read and checked here, images only)."""
    grant = await _act_on(ctx, command.appointment_id)
    card = await _insurance_card(ctx, insurance_card)
    command = replace(command, insurance_card=tuple(card))
    return await uc.check_in(command, grant, _uow(ctx), *_ports(ctx), ctx.services.files)


# -- the steps -------------------------------------------------------------------------------
def _uow(ctx: Context) -> UnitOfWork:
    return UnitOfWork(ctx.services.sessions)


def _ports(ctx: Context) -> tuple[FixedClock, uc.Policies]:
    """The use cases' clock reads the request's instant (every rule of one request, and
    the answer's `canCancel` & co, see the same `now`)."""
    settings = ctx.services.settings
    return FixedClock(ctx.now), uc.Policies(settings.appointments, settings.ages)


async def _act_on(ctx: Context, appointment_id: str) -> PatientGrant:
    """Authorize a change to an appointment: the APPOINTMENTS area of its patient. An unknown
    appointment is refused like a forbidden one, so ids reveal nothing."""
    ctx.require_principal()
    owner = await uc.appointment_owner(_uow(ctx), appointment_id)
    return ctx.act(owner or "", RecordArea.APPOINTMENTS, "Appointment")


async def _insurance_card(ctx: Context, upload: Upload | None) -> list[AcceptedFile]:
    """checkIn's optional insurance-card image: the attachment rules, images only."""
    policy = ctx.services.settings.messaging.attachments
    return await attachments_uc.insurance_card(upload, policy)
