"""Attachments: a message's files, node(id), and reading uploads as the domain checks them."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

from domain.access import PatientGrant
from domain.attachments import (
    AcceptedFile,
    AttachmentPolicy,
    IncomingFile,
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


def stored(
    files: FileStore, accepted: Sequence[AcceptedFile]
) -> AbstractAsyncContextManager[list[str]]:
    """Store the files for the block (their keys); removed again if the block fails."""
    return files.kept(accepted)
