"""Attachments of messages (and insurance cards) for readers who passed the access check."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
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
        assert row.message_id is not None
        found[row.message_id].append(row)
    return found


async def attachment_owner(session: AsyncSession, attachment_id: str) -> tuple[str, str] | None:
    """(patient id, purpose) of an attachment: all that is known before the access check."""
    stmt = select(m.Attachment.patient_id, m.Attachment.purpose).where(
        m.Attachment.id == attachment_id
    )
    row = (await session.execute(stmt)).one_or_none()
    return None if row is None else (row[0], row[1])


async def attachment_by_id(
    session: AsyncSession, grant: PatientGrant, attachment_id: str
) -> m.Attachment | None:
    """One attachment, if `grant` covers the area its purpose needs."""
    purposes = [p for p, area in ATTACHMENT_AREAS.items() if area is grant.area]
    stmt = select(m.Attachment).where(
        m.Attachment.id == attachment_id,
        m.Attachment.purpose.in_(purposes),
        m.Attachment.patient_id.in_(patient_ids([grant], grant.area)),
    )
    return (await session.scalars(stmt)).one_or_none()
