"""The terms of use and the privacy notice (domain/terms.py): documents and acceptance."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from domain.terms import DocumentKind
from persistence import models as m
from schema.base import Node
from schema.payloads import UserError

LegalDocumentKind = strawberry.enum(DocumentKind, name="LegalDocumentKind")


@strawberry.type(description="One published version of the terms of use or privacy notice.")
class LegalDocument(Node):
    kind: DocumentKind
    version: int
    title: str
    body: str
    published_at: datetime
    accepted_at: datetime | None = strawberry.field(
        description="When the viewer accepted this version; null: not (yet)."
    )
    internal_id: strawberry.Private[str]

    def node_id(self) -> str:
        return self.internal_id

    @classmethod
    def from_row(cls, row: m.LegalDocument, accepted_at: datetime | None) -> LegalDocument:
        return cls(
            internal_id=row.id,
            kind=DocumentKind(row.kind),
            version=row.version,
            title=row.title,
            body=row.body,
            published_at=row.published_at,
            accepted_at=accepted_at,
        )


@strawberry.enum(description="Why an acceptance was refused (nothing was recorded).")
class AcceptLegalDocumentsErrorCode(Enum):
    INVALID_ID = "INVALID_ID"
    NOT_CURRENT = "NOT_CURRENT"
    NOTHING_TO_ACCEPT = "NOTHING_TO_ACCEPT"


@strawberry.type
class AcceptLegalDocumentsError(UserError):
    code: AcceptLegalDocumentsErrorCode


@strawberry.input
class AcceptLegalDocumentsInput:
    document_ids: list[strawberry.ID] = strawberry.field(
        description="The current documents accepted (ids from `legalDocuments`)."
    )


@strawberry.type
class AcceptLegalDocumentsPayload:
    still_to_accept: list[LegalDocument] | None = strawberry.field(
        default=None,
        description="Current documents not accepted yet; empty: the API is open again (for "
        "access tokens issued before, after a `refreshSession`... or at once: see docs).",
    )
    errors: list[AcceptLegalDocumentsError] = strawberry.field(default_factory=list)
