"""Patient.coverages (BILLING) and each primary coverage's card image (APPOINTMENTS)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.access import PatientGrant
from domain.scopes import RecordArea
from schema.attachments import Attachment

if TYPE_CHECKING:
    from schema.base import Info
    from schema.coverages import Coverage


async def coverages(info: Info, grant: PatientGrant) -> list[Coverage]:
    from schema.coverages import Coverage  # schema.coverages imports this module

    rows = await info.context.loaders.coverages.get(grant)
    return [Coverage.from_row(row) for row in rows or []]


async def insurance_card(info: Info, patient_id: str) -> Attachment | None:
    grant = info.context.access(patient_id, RecordArea.APPOINTMENTS, "Attachment")
    cards = await info.context.loaders.insurance_cards.get(grant)
    return Attachment.from_row(cards[0]) if cards else None


async def coverage_node(info: Info, row_id: str) -> Coverage | None:
    from persistence import models as m
    from resolvers.nodes import owned_row  # resolvers.nodes imports this module
    from schema.coverages import Coverage

    row, _grant = await owned_row(info, m.Coverage, "Coverage", row_id)
    return Coverage.from_row(row) if row else None
