"""Explanations by LOINC code: reference data, not a patient's (the result it is shown
beside was checked already)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from loaders.base import SessionLoader
from persistence import explanations
from persistence import models as m


class ExplanationByCodeLoader(SessionLoader[str, m.ResultExplanation]):
    async def fetch(
        self, session: AsyncSession, keys: Sequence[str]
    ) -> dict[str, m.ResultExplanation]:
        return {row.code: row for row in await explanations.by_code(session, list(set(keys)))}
