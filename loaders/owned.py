"""Rows by id: who owns one (asked before the access check), and the row itself, only through
the grant of its patient (the object an event, a link or `node(id)` names)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, ClassVar

from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from loaders.base import SessionLoader
from persistence import models as m
from persistence.queries import owned

OwnedKey = tuple[PatientGrant, str]
KindKey = tuple[type[m.Base], str]  # (the kind of row, its id)
KindOwnedKey = tuple[type[m.Base], PatientGrant, str]


class OwnerOfLoader(SessionLoader[KindKey, str]):
    """(kind, row id) -> the patient who owns the row; unknown rows are absent. One statement
    per kind asked for in the batch."""

    async def fetch(self, session: AsyncSession, keys: Sequence[KindKey]) -> dict[KindKey, str]:
        ids: dict[type[m.Base], list[str]] = defaultdict(list)
        for model, row_id in keys:
            ids[model].append(row_id)
        found: dict[KindKey, str] = {}
        for model, wanted in ids.items():
            owners = await owned.owners_of(session, model, wanted)
            found.update({(model, row_id): owner for row_id, owner in owners.items()})
        return found


class OwnedRowLoader(SessionLoader[KindOwnedKey, Any]):
    """(kind, grant of the row's patient, row id) -> the row; another patient's is absent."""

    async def fetch(
        self, session: AsyncSession, keys: Sequence[KindOwnedKey]
    ) -> dict[KindOwnedKey, Any]:
        ids: dict[type[m.Base], set[str]] = defaultdict(set)
        grants: dict[type[m.Base], set[PatientGrant]] = defaultdict(set)
        for model, grant, row_id in keys:
            ids[model].add(row_id)
            grants[model].add(grant)
        found: dict[KindOwnedKey, Any] = {}
        for model in ids:
            rows = await owned.owned_by_id(session, model, list(grants[model]), list(ids[model]))
            by_id = {row.id: row for row in rows}
            for kind, grant, row_id in keys:
                row = by_id.get(row_id) if kind is model else None
                if row is not None and owned.owner_column_value(model, row) == grant.patient_id:
                    found[(kind, grant, row_id)] = row
        return found


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
