"""Uploaded files as clients see them: metadata here, the bytes at `url`."""

from __future__ import annotations

from datetime import datetime

import strawberry

from persistence import models as m
from schema.base import Node, to_global_id


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
    def from_row(cls, row: m.Attachment) -> Attachment:
        return cls(
            internal_id=row.id,
            patient_id=row.patient_id,
            filename=row.filename,
            content_type=row.content_type,
            size=row.size_bytes,
            created_at=row.created_at,
        )
