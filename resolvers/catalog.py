"""Open slots and the provider directory: not PHI, but only for signed-in viewers."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from domain import eligibility as rules
from domain.scopes import RecordArea
from persistence import eligibility
from persistence import models as m
from persistence.paging import Page, SortKey, page_of
from persistence.queries import appointments, people
from schema.appointments import Slot, SlotFilter
from schema.base import Connection, cursor_values, internal_id, page_size
from schema.people import Provider

if TYPE_CHECKING:
    from schema.base import Info

PROVIDER_SORT = SortKey((m.Provider.display_name, m.Provider.id), descending=False)


async def available_slots(
    info: Info, filter: SlotFilter, first: int | None, after: str | None
) -> Connection[Slot]:
    ctx = info.context
    ctx.require_principal()
    fits = await _fits(info, filter.patient_id) if filter.patient_id else None
    query = appointments.open_slots_query(
        now=ctx.now,
        department_id=internal_id(filter.department_id, "Department")
        if filter.department_id
        else None,
        provider_id=internal_id(filter.provider_id, "Provider") if filter.provider_id else None,
        visit_type=filter.visit_type,
        starts_after=filter.starts_after,
        starts_before=filter.starts_before,
        bookable=fits[0] if fits else None,
        closed_providers=fits[1] if fits else (),
    )
    page = Page(page_size(first), cursor_values(after, [datetime, str]))
    async with ctx.loaders.session() as session:
        result = await page_of(session, query, appointments.SLOT_SORT, page)
    if fits is None:
        return Connection.of(result, Slot.from_row)
    bookable = fits[0]
    return Connection.of(result, lambda row: Slot.from_row(row, bookable[row.department_id]))


async def _fits(info: Info, patient_gid: str) -> tuple[dict[str, list[str]], set[str]]:
    """What one patient may book online: department -> visit types, and the providers whose
    closed panel they are not on (domain/eligibility.py; the same rules as booking)."""
    ctx = info.context
    grant = ctx.access(internal_id(patient_gid, "Patient"), RecordArea.APPOINTMENTS, "Slot")
    policy = ctx.services.settings.appointments
    today = ctx.services.settings.ages.today(ctx.now)
    async with ctx.services.session() as session:
        patient = await eligibility.patient_facts(session, grant, ctx.now)
        departments = await eligibility.departments(session)
        closed = await eligibility.closed_panels(session)
    bookable = {
        d.id: rules.bookable_types(
            patient, sorted(policy.candidate_types(d.id)), d, today, ctx.now, policy.eligibility
        )
        for d in departments.values()
    }
    months = policy.eligibility.panel_months
    return bookable, {p for p in closed if not rules.on_panel(patient, p, ctx.now, months)}


async def providers(
    info: Info, search: str | None, first: int | None, after: str | None
) -> Connection[Provider]:
    info.context.require_principal()
    page = Page(page_size(first), cursor_values(after, [str, str]))
    async with info.context.loaders.session() as session:
        result = await page_of(session, people.providers_query(search), PROVIDER_SORT, page)
    return Connection.of(result, Provider.from_row)
