"""Appointment pages per patient, appointments by id, open slots and the facts that narrow
them to what one patient may book."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from domain.access import PatientGrant
from domain.clock import Clock
from domain.eligibility import DepartmentFacts, PatientFacts
from loaders.base import PatientPageLoader, Read, SessionSource
from loaders.people import DepartmentByIdLoader, ProviderByIdLoader
from persistence import eligibility
from persistence import models as m
from persistence.paging import Page, PageOf, page_of
from persistence.queries import appointments


class AppointmentPageByPatientLoader(PatientPageLoader):
    """Pages of appointments, each loaded with its provider and department in the same
    statement: those prime the request's provider and department loaders, so an
    appointment's `provider { name }` costs no statement of its own."""

    def __init__(
        self,
        sessions: SessionSource,
        clock: Clock,
        providers: ProviderByIdLoader,
        departments: DepartmentByIdLoader,
    ) -> None:
        super().__init__(sessions)
        self.clock = clock
        self.providers, self.departments = providers, departments

    def page_read(
        self, grants: Sequence[PatientGrant], page: Page, dialect: str
    ) -> Read[dict[str, PageOf]]:
        joined = appointments.ProvidersAndDepartments()
        read = appointments.appointment_read(dialect, grants, page, self.clock.now(), joined)

        def finish(rows: Sequence[Sequence[Any]]) -> dict[str, PageOf]:
            pages = read.pages(rows)
            for provider_id, provider in joined.providers.items():
                self.providers.prime(provider_id, provider)
            for department_id, department in joined.departments.items():
                self.departments.prime(department_id, department)
            return pages

        return Read(read.statement, read.values, finish)


# -- reads that are not batched (one per request at most) ------------------------------------
async def slot(sessions: SessionSource, slot_id: str) -> m.Slot | None:
    async with sessions() as session:
        return await session.get(m.Slot, slot_id)


async def open_slots(sessions: SessionSource, query: Any, page: Page) -> PageOf:
    """One page of `appointments.open_slots_query(...)`, in slot order."""
    async with sessions() as session:
        return await page_of(session, query, appointments.SLOT_SORT, page)


async def booking_facts(
    sessions: SessionSource, grant: PatientGrant, now: datetime
) -> tuple[PatientFacts, dict[str, DepartmentFacts], set[str]]:
    """What eligibility needs of one patient (through their APPOINTMENTS grant): their
    facts, every department's, and the providers with a closed panel."""
    async with sessions() as session:
        patient = await eligibility.patient_facts(session, grant, now)
        departments = await eligibility.departments(session)
        closed = await eligibility.closed_panels(session)
    return patient, departments, closed
