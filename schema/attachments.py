"""Uploaded files as clients see them: metadata here, the bytes at `url`; and uploads as the
writes take them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import strawberry

from resolvers import attachments as r
from schema.base import BadInput, Info, Node, to_global_id
from usecases.attachments import Upload

if TYPE_CHECKING:
    from persistence import models as m


@strawberry.type(
    description="A file attached to a message (or an insurance card sent with eCheck-in). "
    "Fetch it from `url` with the same bearer token; it downloads as `contentType`."
)
class Attachment(Node):
    filename: str = strawberry.field(description="For display; not the stored file's name.")
    content_type: str = strawberry.field(description="As recognised from the content.")
    size: int = strawberry.field(description="Bytes.")
    created_at: datetime
    internal_id: strawberry.Private[str]
    patient_id: strawberry.Private[str]

    def node_id(self) -> str:
        return self.internal_id

    @strawberry.field(description="Where to GET the file (relative to the API's origin).")
    def url(self) -> str:
        return f"/attachments/{to_global_id('Attachment', self.internal_id)}"

    @classmethod
    async def fetch_node(cls, info: Info, row_id: str) -> Attachment | None:
        row = await r.attachment(info.context, row_id)
        return cls.from_row(row) if row else None

    @classmethod
    def from_row(cls, row: m.Attachment) -> Attachment:
        return cls(
            internal_id=row.id,
            patient_id=row.patient_id,
            filename=row.filename,
            content_type=row.content_type,
            size=row.size_bytes,
            created_at=row.created_at,
        )


def uploaded(value: Any) -> Upload:
    """Strawberry hands over Starlette `UploadFile`s; anything else was not sent as a file."""
    if not callable(getattr(value, "read", None)):
        raise BadInput("Attachments must be files sent as a multipart request.")
    upload: Upload = value
    return upload


def uploaded_files(values: list[Any]) -> list[Upload]:
    return [uploaded(value) for value in values]
