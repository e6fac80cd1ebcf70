"""Appointment pages per patient, and appointments by id."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from domain.clock import Clock
from loaders.base import PatientPageLoader, SessionSource
from persistence.paging import Page, PageOf
from persistence.queries import appointments


class AppointmentPageByPatientLoader(PatientPageLoader):
    def __init__(self, sessions: SessionSource, clock: Clock) -> None:
        super().__init__(sessions)
        self.clock = clock

    async def fetch_pages(
        self, session: AsyncSession, grants: Sequence[PatientGrant], page: Page
    ) -> dict[str, PageOf]:
        return await appointments.appointment_pages(session, grants, page, self.clock.now())
