"""Rows by id, only those of the grants' patients: the object an event or a link names."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from loaders.base import SessionLoader
from persistence import models as m
from persistence.queries import owned

OwnedKey = tuple[PatientGrant, str]


class OwnedByIdLoader(SessionLoader[OwnedKey, Any]):
    """Keys are (grant of the row's patient, row id); a row of another patient is not found."""

    model: ClassVar[type[m.Base]]

    async def fetch(self, session: AsyncSession, keys: Sequence[OwnedKey]) -> dict[OwnedKey, Any]:
        grants = list({grant for grant, _ in keys})
        rows = await owned.owned_by_id(session, self.model, grants, list({i for _, i in keys}))
        by_id = {row.id: row for row in rows}
        return {
            (g, i): by_id[i] for g, i in keys if i in by_id and by_id[i].patient_id == g.patient_id
        }


class ThreadByIdLoader(OwnedByIdLoader):
    model = m.MessageThread
