"""Health reading pages per patient and the patient's own records release requests."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from loaders.base import PatientPageLoader, SessionLoader
from persistence import models as m
from persistence import records
from persistence.paging import Page, PageOf


class HealthReadingPageByPatientLoader(PatientPageLoader):
    """`Page.filter` is (kind, since): one statement per page shape for every patient."""

    async def fetch_pages(
        self, session: AsyncSession, grants: Sequence[PatientGrant], page: Page
    ) -> dict[str, PageOf]:
        return await records.reading_pages(session, grants, page)


class ReleaseRequestsOfPatientLoader(SessionLoader[PatientGrant, list[m.RecordsReleaseRequest]]):
    """Self only: a principal is self for one patient at most, so a batch has one key."""

    async def fetch(
        self, session: AsyncSession, keys: Sequence[PatientGrant]
    ) -> dict[PatientGrant, list[m.RecordsReleaseRequest]]:
        return {k: await records.release_requests(session, k) for k in dict.fromkeys(keys)}
