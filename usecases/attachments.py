"""Uploaded files on their way in: read as the domain checks them (a write then stores them
for its transaction with `FileStore.kept`).

Shared by the writes that carry files (sendMessage, checkIn's insurance card).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from domain.attachments import (
    IMAGE_TYPES,
    AcceptedFile,
    AttachmentPolicy,
    IncomingFile,
    accept_file,
    check_count,
)


class Upload(Protocol):
    """A file part of a multipart request (Starlette's `UploadFile` is one)."""

    @property
    def filename(self) -> str | None: ...

    async def read(self, size: int = -1) -> bytes: ...


async def read_uploads(uploads: Sequence[Upload], policy: AttachmentPolicy) -> list[IncomingFile]:
    """Read each upload at most one byte past the size limit: enough to refuse a file too
    large without holding all of it. Too many files are refused before any is read."""
    check_count(len(uploads), policy)
    files = []
    for upload in uploads:
        content = await upload.read(policy.max_bytes + 1)
        files.append(IncomingFile(upload.filename, bytes(content)))
    return files


async def insurance_card(upload: Upload | None, policy: AttachmentPolicy) -> list[AcceptedFile]:
    """checkIn's optional insurance-card image: the attachment rules, images only."""
    if upload is None:
        return []
    [incoming] = await read_uploads([upload], policy)
    return [accept_file(incoming, policy, IMAGE_TYPES, field="insuranceCard")]
