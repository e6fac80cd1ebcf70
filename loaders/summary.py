"""Health summary lists, the care team, and the patient's self-only pages (proxy grants
they gave, their access log). Summary lists: one statement per batch for all patients."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from loaders.base import SessionLoader
from persistence import audit
from persistence import models as m
from persistence.paging import Page, PageOf
from persistence.queries import people, summary

V = TypeVar("V")


class PatientListLoader(SessionLoader[PatientGrant, list[V]]):
    """One whole list per patient grant; `fetch_pairs` reads every patient's in one go."""

    async def fetch(
        self, session: AsyncSession, keys: Sequence[PatientGrant]
    ) -> dict[PatientGrant, list[V]]:
        grouped: dict[str, list[V]] = defaultdict(list)
        for patient_id, value in await self.fetch_pairs(session, list(dict.fromkeys(keys))):
            grouped[patient_id].append(value)
        return {k: grouped.get(k.patient_id, []) for k in keys}

    async def fetch_pairs(
        self, session: AsyncSession, grants: Sequence[PatientGrant]
    ) -> list[tuple[str, V]]:
        raise NotImplementedError


class AllergiesByPatientLoader(PatientListLoader[m.Allergy]):
    async def fetch_pairs(
        self, session: AsyncSession, grants: Sequence[PatientGrant]
    ) -> list[tuple[str, m.Allergy]]:
        return [(r.patient_id, r) for r in await summary.allergies(session, grants)]


class ProblemsByPatientLoader(PatientListLoader[m.Problem]):
    async def fetch_pairs(
        self, session: AsyncSession, grants: Sequence[PatientGrant]
    ) -> list[tuple[str, m.Problem]]:
        return [(r.patient_id, r) for r in await summary.problems(session, grants)]


class ImmunizationsByPatientLoader(PatientListLoader[m.Immunization]):
    async def fetch_pairs(
        self, session: AsyncSession, grants: Sequence[PatientGrant]
    ) -> list[tuple[str, m.Immunization]]:
        return [(r.patient_id, r) for r in await summary.immunizations(session, grants)]


class CareTeamByPatientLoader(PatientListLoader[m.Provider]):
    async def fetch_pairs(
        self, session: AsyncSession, grants: Sequence[PatientGrant]
    ) -> list[tuple[str, m.Provider]]:
        return await summary.care_teams(session, grants)


MedicationKey = tuple[PatientGrant, str | None]


class MedicationsByPatientLoader(SessionLoader[MedicationKey, list[m.Medication]]):
    """Keys carry a status filter (None: all); every key of a batch shares one statement."""

    async def fetch(
        self, session: AsyncSession, keys: Sequence[MedicationKey]
    ) -> dict[MedicationKey, list[m.Medication]]:
        rows = await summary.medications(session, list(dict.fromkeys(g for g, _ in keys)))
        return {
            (grant, status): [
                r for r in rows if r.patient_id == grant.patient_id and status in (None, r.status)
            ]
            for grant, status in keys
        }


# -- self-only: a principal is self for one patient at most, so a batch has one key ------
class ProxyGrantsOfPatientLoader(SessionLoader[PatientGrant, list[m.ProxyGrant]]):
    async def fetch(
        self, session: AsyncSession, keys: Sequence[PatientGrant]
    ) -> dict[PatientGrant, list[m.ProxyGrant]]:
        return {k: await people.proxy_grants_of(session, k) for k in dict.fromkeys(keys)}


AccessLogKey = tuple[PatientGrant, Page]


class AccessLogPageLoader(SessionLoader[AccessLogKey, PageOf]):
    async def fetch(
        self, session: AsyncSession, keys: Sequence[AccessLogKey]
    ) -> dict[AccessLogKey, PageOf]:
        return {k: await audit.access_log(session, *k) for k in dict.fromkeys(keys)}
