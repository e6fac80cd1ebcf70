"""Both ends of "ask about this result": the result a thread was asked about, and the
threads asked about a result. Each side is loaded through its own area's grant."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from domain.scopes import RecordArea
from loaders.base import SessionLoader
from loaders.owned import OwnedByIdLoader
from persistence import models as m
from persistence.queries.guard import patient_ids

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
