"""Attachments of messages (and insurance cards) for readers who passed the access check."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from domain.errors import BrokenInvariant
from domain.scopes import RecordArea
from persistence import models as m
from persistence.messages import ATTACHMENT_AREAS, MESSAGE
from persistence.queries.guard import patient_ids


async def attachments_by_message(
    session: AsyncSession, grants: Sequence[PatientGrant], message_ids: Sequence[str]
) -> dict[str, list[m.Attachment]]:
    """Each message's attachments in upload order (messages without any are absent)."""
    stmt = (
        select(m.Attachment)
        .where(
            m.Attachment.message_id.in_(message_ids),
            m.Attachment.purpose == MESSAGE,
            m.Attachment.patient_id.in_(patient_ids(grants, RecordArea.MESSAGES)),
        )
        .order_by(m.Attachment.message_id, m.Attachment.position)
    )
    found: dict[str, list[m.Attachment]] = defaultdict(list)
    for row in await session.scalars(stmt):
        if row.message_id is None:
            raise BrokenInvariant("row.message_id is None")
        found[row.message_id].append(row)
    return found


async def attachment_owners(
    session: AsyncSession, attachment_ids: Sequence[str]
) -> dict[str, tuple[str, str]]:
    """Attachment id -> (patient id, purpose): all that is known before the access check."""
    a = m.Attachment
    stmt = select(a.id, a.patient_id, a.purpose).where(a.id.in_(attachment_ids))
    return {
        row_id: (patient_id, purpose) for row_id, patient_id, purpose in await session.execute(stmt)
    }


async def attachments_by_id(
    session: AsyncSession, grants: Sequence[PatientGrant], attachment_ids: Sequence[str]
) -> list[m.Attachment]:
    """The attachments among `attachment_ids` that one of `grants` covers: the grant's
    patient, and the area the attachment's purpose needs."""
    covered = []
    for grant in grants:
        purposes = [p for p, area in ATTACHMENT_AREAS.items() if area is grant.area]
        [patient_id] = patient_ids([grant], grant.area)
        covered.append(
            and_(m.Attachment.patient_id == patient_id, m.Attachment.purpose.in_(purposes))
        )
    if not covered:
        return []
    stmt = select(m.Attachment).where(m.Attachment.id.in_(attachment_ids), or_(*covered))
    return list(await session.scalars(stmt))
