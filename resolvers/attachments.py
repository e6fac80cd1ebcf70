"""Attachments: a message's files and node(id), each behind the area its purpose needs.
Storing uploads is the writes' business (usecases/attachments.py)."""

from __future__ import annotations

from domain.access import PatientGrant
from persistence import models as m
from persistence.messages import ATTACHMENT_AREAS
from runtime.context import Context


async def message_attachments(
    ctx: Context, grant: PatientGrant, message_id: str
) -> list[m.Attachment]:
    return await ctx.loaders.message_attachments.get((grant, message_id)) or []


async def attachment(ctx: Context, attachment_id: str) -> m.Attachment | None:
    """node(id): the area the attachment's purpose needs, of its patient, is checked first."""
    ctx.require_principal()
    owner = await ctx.loaders.attachment_owner.get(attachment_id)
    # Unknown ids answer like forbidden ones ("" is nobody's patient id).
    patient_id, purpose = owner or ("", "message")
    grant = ctx.access(patient_id, ATTACHMENT_AREAS[purpose], "Attachment")
    return await ctx.loaders.attachment.get((grant, attachment_id))
