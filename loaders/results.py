"""Result pages per patient, components per result, hold preferences and component trends."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from domain.scopes import RecordArea
from loaders.base import PatientPageLoader, Read, SessionLoader, SessionSource
from loaders.owned import OwnedByIdLoader
from persistence import models as m
from persistence import results as explanations
from persistence.paging import Page, PageOf
from persistence.queries import results
from persistence.queries.guard import patient_ids
from persistence.queries.results import ComponentRow, TrendRow

ResultKey = tuple[PatientGrant, str]  # (grant, result id)
TrendKey = tuple[PatientGrant, str]  # (grant, component LOINC code)


class ComponentsByResultLoader(SessionLoader[ResultKey, list[ComponentRow]]):
    """Components of every result of the request in one statement, in position order."""

    async def fetch(
        self, session: AsyncSession, keys: Sequence[ResultKey]
    ) -> dict[ResultKey, list[ComponentRow]]:
        grants = list({grant for grant, _ in keys})
        rows = await results.components_of(session, grants, list({rid for _, rid in keys}))
        by_result: dict[tuple[str, str], list[ComponentRow]] = defaultdict(list)
        for row in rows:
            by_result[(row.patient_id, row.result_id)].append(row)
        return {(g, rid): by_result.get((g.patient_id, rid), []) for g, rid in keys}


class HoldKindsByPatientLoader(SessionLoader[PatientGrant, frozenset[str]]):
    """The result kinds each patient asked to hear from their doctor first."""

    async def fetch(
        self, session: AsyncSession, keys: Sequence[PatientGrant]
    ) -> dict[PatientGrant, frozenset[str]]:
        kinds: dict[str, set[str]] = defaultdict(set)
        for patient_id, kind in await results.hold_preferences(session, list(set(keys))):
            kinds[patient_id].add(kind)
        return {g: frozenset(kinds.get(g.patient_id, ())) for g in keys}


class ResultPageByPatientLoader(PatientPageLoader):
    """Pages of results, each loaded with its components and its patient's hold preferences
    in the same statement: those prime the request's components and holds loaders, so
    `components` and the release decision cost no statement of their own."""

    def __init__(
        self,
        sessions: SessionSource,
        components: ComponentsByResultLoader,
        holds: HoldKindsByPatientLoader,
    ) -> None:
        super().__init__(sessions)
        self.components, self.holds = components, holds

    def page_read(
        self, grants: Sequence[PatientGrant], page: Page, dialect: str
    ) -> Read[dict[str, PageOf]]:
        components = results.components()  # every result read: its list, maybe empty
        read = results.result_read(dialect, grants, page, with_components=components)

        def finish(rows: Sequence[Sequence[Any]]) -> dict[str, PageOf]:
            pages = read.pages(rows)
            found = components.of
            for grant in grants:
                listed = pages[grant.patient_id].rows
                for result in listed:
                    self.components.prime((grant, result.id), found.get(result.id, []))
                if listed and listed[0].held_kinds is not None:  # every kind the patient holds
                    kinds = frozenset(filter(None, listed[0].held_kinds.split(",")))
                    self.holds.prime(grant, kinds)
            return pages

        return Read(read.statement, read.values, finish)


class TrendByCodeLoader(SessionLoader[TrendKey, list[TrendRow]]):
    """Every value of one component code per patient, released or not, oldest first."""

    async def fetch(
        self, session: AsyncSession, keys: Sequence[TrendKey]
    ) -> dict[TrendKey, list[TrendRow]]:
        grants = list({grant for grant, _ in keys})
        rows = await results.trend_rows(session, grants, list({code for _, code in keys}))
        series: dict[tuple[str, str], list[TrendRow]] = defaultdict(list)
        for row in rows:
            series[(row.patient_id, row.loinc)].append(row)
        return {(g, code): series.get((g.patient_id, code), []) for g, code in keys}


LinkKey = tuple[PatientGrant, str]


class ResultByIdLoader(OwnedByIdLoader):
    model = m.Result


class ThreadsByResultLoader(SessionLoader[LinkKey, list[m.MessageThread]]):
    async def fetch(
        self, session: AsyncSession, keys: Sequence[LinkKey]
    ) -> dict[LinkKey, list[m.MessageThread]]:
        t = m.MessageThread
        stmt = (
            select(t)
            .where(
                t.result_id.in_(list({i for _, i in keys})),
                t.patient_id.in_(patient_ids(list({g for g, _ in keys}), RecordArea.MESSAGES)),
            )
            .order_by(t.created_at.desc(), t.id)
        )
        found: dict[tuple[str, str | None], list[m.MessageThread]] = defaultdict(list)
        for row in (await session.scalars(stmt)).all():
            found[(row.patient_id, row.result_id)].append(row)
        return {(g, i): found.get((g.patient_id, i), []) for g, i in keys}


class ExplanationByCodeLoader(SessionLoader[str, m.ResultExplanation]):
    async def fetch(
        self, session: AsyncSession, keys: Sequence[str]
    ) -> dict[str, m.ResultExplanation]:
        return {row.code: row for row in await explanations.by_code(session, list(set(keys)))}
