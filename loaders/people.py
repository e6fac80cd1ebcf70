"""Patients, accounts, providers and departments by id, and the provider directory."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from domain.paging import Page, PageOf
from loaders.base import ByIdLoader, SessionLoader, SessionSource
from persistence import models as m
from persistence.paging import SortKey, page_of
from persistence.queries import people

PROVIDER_SORT = SortKey((m.Provider.display_name, m.Provider.id), descending=False)


class PatientByGrantLoader(SessionLoader[PatientGrant, people.PatientRow]):
    """`known`: rows already read this request (with the principal), served without a
    batch; the key's grant was decided by the access policy before, as for any load."""

    def __init__(self, sessions: SessionSource) -> None:
        super().__init__(sessions)
        self.known: dict[str, people.PatientRow] = {}

    async def get(self, key: PatientGrant) -> people.PatientRow | None:
        row = self.known.get(key.patient_id)
        return row if row is not None else await super().get(key)

    async def fetch(
        self, session: AsyncSession, keys: Sequence[PatientGrant]
    ) -> dict[PatientGrant, people.PatientRow]:
        rows = {p.id: p for p in await people.patients(session, keys)}
        return {k: rows[k.patient_id] for k in keys if k.patient_id in rows}


class AccountByIdLoader(ByIdLoader[people.AccountRow]):
    fetch_rows = staticmethod(people.accounts_by_id)


class ProviderByIdLoader(ByIdLoader[people.ProviderRow]):
    fetch_rows = staticmethod(people.providers_by_id)


class DepartmentByIdLoader(ByIdLoader[people.DepartmentRow]):
    fetch_rows = staticmethod(people.departments_by_id)


async def provider_directory(sessions: SessionSource, search: str | None, page: Page) -> PageOf:
    """One page of providers by name; `search` narrows it (not batched: one per request)."""
    async with sessions() as session:
        return await page_of(session, people.providers_query(search), PROVIDER_SORT, page)
