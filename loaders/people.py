"""Patients, accounts, providers and departments by id."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from loaders.base import ByIdLoader, SessionLoader
from persistence import models as m
from persistence.queries import people


class PatientByGrantLoader(SessionLoader[PatientGrant, m.Patient]):
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
