"""A patient's "wait for my doctor" choices, one row per result kind held (the read side is
persistence/queries/results.hold_preferences and domain/results.release_of)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from persistence import models as m


class ReleasePreferenceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def hold(self, patient_id: str, kind: str, now: datetime) -> None:
        """Idempotent: holding a kind already held keeps the first row (and its date)."""
        values = {"patient_id": patient_id, "kind": kind, "created_at": now}
        dialect = self._session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = insert(m.ResultHoldPreference).values(values).on_conflict_do_nothing()
        await self._session.execute(stmt)

    async def release(self, patient_id: str, kind: str) -> None:
        pref = m.ResultHoldPreference
        await self._session.execute(
            delete(pref).where(pref.patient_id == patient_id, pref.kind == kind)
        )

    async def held_kinds(self, patient_id: str) -> set[str]:
        pref = m.ResultHoldPreference
        stmt = select(pref.kind).where(pref.patient_id == patient_id)
        return set((await self._session.scalars(stmt)).all())
