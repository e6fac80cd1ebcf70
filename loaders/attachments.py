"""Attachments per message, and by id with their owners (node(id)): one statement per batch."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from loaders.base import SessionLoader
from persistence import models as m
from persistence.messages import ATTACHMENT_AREAS
from persistence.queries import attachments

MessageKey = tuple[PatientGrant, str]  # (grant of the message's patient, message id)


class AttachmentsByMessageLoader(SessionLoader[MessageKey, list[m.Attachment]]):
    async def fetch(
        self, session: AsyncSession, keys: Sequence[MessageKey]
    ) -> dict[MessageKey, list[m.Attachment]]:
        grants = list({grant for grant, _ in keys})
        found = await attachments.attachments_by_message(session, grants, [i for _, i in keys])
        return {key: found.get(key[1], []) for key in keys}


class OwnerByAttachmentLoader(SessionLoader[str, tuple[str, str]]):
    """Attachment id -> (patient id, purpose), before the access check; unknown ids absent."""

    async def fetch(self, session: AsyncSession, keys: Sequence[str]) -> dict[str, tuple[str, str]]:
        return await attachments.attachment_owners(session, list(set(keys)))


def _covers(grant: PatientGrant, row: m.Attachment) -> bool:
    return row.patient_id == grant.patient_id and ATTACHMENT_AREAS[row.purpose] is grant.area


AttachmentKey = tuple[PatientGrant, str]  # (grant the attachment's purpose needs, its id)


class AttachmentByIdLoader(SessionLoader[AttachmentKey, m.Attachment]):
    async def fetch(
        self, session: AsyncSession, keys: Sequence[AttachmentKey]
    ) -> dict[AttachmentKey, m.Attachment]:
        grants = list({grant for grant, _ in keys})
        rows = await attachments.attachments_by_id(session, grants, [i for _, i in keys])
        by_id = {row.id: row for row in rows}
        return {
            (grant, row_id): by_id[row_id]
            for grant, row_id in keys
            if row_id in by_id and _covers(grant, by_id[row_id])
        }
