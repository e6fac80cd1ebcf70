"""Attachments per message: one statement per batch."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from loaders.base import SessionLoader
from persistence import models as m
from persistence.queries import attachments

MessageKey = tuple[PatientGrant, str]  # (grant of the message's patient, message id)


class AttachmentsByMessageLoader(SessionLoader[MessageKey, list[m.Attachment]]):
    async def fetch(
        self, session: AsyncSession, keys: Sequence[MessageKey]
    ) -> dict[MessageKey, list[m.Attachment]]:
        grants = list({grant for grant, _ in keys})
        found = await attachments.attachments_by_message(session, grants, [i for _, i in keys])
        return {key: found.get(key[1], []) for key in keys}
