"""The terms of use and the privacy notice (domain/terms.py): the documents
(acceptLegalDocuments: schema/mutations/terms.py)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import strawberry

from domain.terms import DocumentKind
from resolvers import terms as r
from schema.base import Info, Node

if TYPE_CHECKING:
    from persistence import models as m

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

    @classmethod
    async def fetch_node(cls, info: Info, row_id: str) -> LegalDocument | None:
        found = await r.document(info.context, row_id)
        return cls.from_row(*found) if found is not None else None


async def legal_documents(info: Info) -> list[LegalDocument]:
    """`legalDocuments`: the current documents, each with the viewer's acceptance."""
    return [LegalDocument.from_row(d, at) for d, at in await r.legal_documents(info.context)]
