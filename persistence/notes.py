"""Writes of the patient's privacy choices about clinical notes, in a unit of work."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from persistence import models as m

MAX_VERSIONS = 100  # a chain of amendments longer than this is a feed fault; stop walking


class NotePrivacyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def grant_given(self, patient_id: str, grant_id: str) -> m.ProxyGrant | None:
        """A grant this patient gave, locked for the change."""
        stmt = (
            select(m.ProxyGrant)
            .where(m.ProxyGrant.id == grant_id, m.ProxyGrant.patient_id == patient_id)
            .with_for_update()
        )
        return await self._session.scalar(stmt)

    async def note_of(self, patient_id: str, note_id: str) -> m.ClinicalNote | None:
        stmt = select(m.ClinicalNote).where(
            m.ClinicalNote.id == note_id, m.ClinicalNote.patient_id == patient_id
        )
        return await self._session.scalar(stmt)

    async def versions(self, note: m.ClinicalNote) -> list[str]:
        """The ids of every version of the note: those it amends and those amending it."""
        ids = [note.id]
        for link in ("supersedes_id", "superseded_by_id"):
            current = getattr(note, link)
            while current is not None and current not in ids and len(ids) < MAX_VERSIONS:
                ids.append(current)
                row = await self._session.get(m.ClinicalNote, current)
                current = getattr(row, link) if row is not None else None
        return ids

    async def set_hidden(self, note_ids: list[str], hidden: bool, now: datetime) -> None:
        await self._session.execute(
            update(m.ClinicalNote)
            .where(m.ClinicalNote.id.in_(note_ids))
            .values(hidden_from_proxies=hidden, hidden_changed_at=now)
            .execution_options(synchronize_session=False)
        )
