"""Appointment pages per patient, and appointments by id."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from domain.clock import Clock
from loaders.base import PatientPageLoader, SessionSource
from loaders.people import DepartmentByIdLoader, ProviderByIdLoader
from persistence.paging import Page, PageOf
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

    async def fetch_pages(
        self, session: AsyncSession, grants: Sequence[PatientGrant], page: Page
    ) -> dict[str, PageOf]:
        return await appointments.appointment_pages(
            session, grants, page, self.clock.now(), self._prime
        )

    def _prime(self, row: Sequence[Any]) -> None:
        _, provider, department = row
        if provider is not None:
            self.providers.prime(provider.id, provider)
        if department is not None:
            self.departments.prime(department.id, department)
