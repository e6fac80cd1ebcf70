"""Attachments: a message's files, node(id), and reading uploads as the domain checks them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from domain.access import PatientGrant
from domain.attachments import (
    IMAGE_TYPES,
    AcceptedFile,
    AttachmentPolicy,
    IncomingFile,
    accept_file,
    check_count,
)
from persistence.files import FileStore
from persistence.messaging import ATTACHMENT_AREAS
from persistence.queries import attachments as q
from schema.attachments import Attachment
from schema.base import BadInput

if TYPE_CHECKING:
    from schema.base import Info


async def message_attachments(info: Info, grant: PatientGrant, message_id: str) -> list[Attachment]:
    rows = await info.context.loaders.message_attachments.get((grant, message_id))
    return [Attachment.from_row(row) for row in rows or []]


async def attachment_node(info: Info, attachment_id: str) -> Attachment | None:
    """node(id): the area the attachment's purpose needs, of its patient, is checked first."""
    ctx = info.context
    ctx.require_principal()
    async with ctx.loaders.session() as session:
        owner = await q.attachment_owner(session, attachment_id)
        # Unknown ids answer like forbidden ones ("" is nobody's patient id).
        patient_id, purpose = owner or ("", "message")
        grant = ctx.access(patient_id, ATTACHMENT_AREAS[purpose], "Attachment")
        row = await q.attachment_by_id(session, grant, attachment_id)
    return Attachment.from_row(row) if row else None


async def read_uploads(uploads: Sequence[Any], policy: AttachmentPolicy) -> list[IncomingFile]:
    """Read each upload (strawberry hands over Starlette `UploadFile`s), at most one byte past
    the size limit: enough to refuse a file too large without holding all of it."""
    check_count(len(uploads), policy)
    files = []
    for upload in uploads:
        if not callable(getattr(upload, "read", None)):
            raise BadInput("Attachments must be files sent as a multipart request.")
        content = await upload.read(policy.max_bytes + 1)
        files.append(IncomingFile(getattr(upload, "filename", None), bytes(content)))
    return files


async def insurance_card(info: Info, upload: Any | None) -> list[AcceptedFile]:
    """checkIn's optional insurance-card image: the attachment rules, images only."""
    if upload is None:
        return []
    policy = info.context.services.settings.messaging.attachments
    [incoming] = await read_uploads([upload], policy)
    return [accept_file(incoming, policy, IMAGE_TYPES, field="insuranceCard")]


@asynccontextmanager
async def stored(files: FileStore, accepted: Sequence[AcceptedFile]) -> AsyncIterator[list[str]]:
    """Store the files for the block (their keys); remove them again if the block fails, so a
    write that does not commit leaves no file behind."""
    keys = await files.put_all([file.content for file in accepted])
    try:
        yield keys
    except BaseException:
        await files.delete_all(keys)
        raise
