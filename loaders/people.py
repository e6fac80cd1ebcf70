"""Patients, accounts, providers and departments by id."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from loaders.base import ByIdLoader, SessionLoader, SessionSource
from persistence import models as m
from persistence.queries import people


class PatientByGrantLoader(SessionLoader[PatientGrant, m.Patient]):
    """`known`: rows already read this request (with the principal), served without a
    batch; the key's grant was decided by the access policy before, as for any load."""

    def __init__(self, sessions: SessionSource) -> None:
        super().__init__(sessions)
        self.known: dict[str, m.Patient] = {}

    async def get(self, key: PatientGrant) -> m.Patient | None:
        row = self.known.get(key.patient_id)
        return row if row is not None else await super().get(key)

    async def fetch(
        self, session: AsyncSession, keys: Sequence[PatientGrant]
    ) -> dict[PatientGrant, m.Patient]:
        rows = {p.id: p for p in await people.patients(session, keys)}
        return {k: rows[k.patient_id] for k in keys if k.patient_id in rows}


class AccountByIdLoader(ByIdLoader[m.Account]):
    fetch_rows = staticmethod(people.accounts_by_id)


class ProviderByIdLoader(ByIdLoader[m.Provider]):
    fetch_rows = staticmethod(people.providers_by_id)


class DepartmentByIdLoader(ByIdLoader[m.Department]):
    fetch_rows = staticmethod(people.departments_by_id)
