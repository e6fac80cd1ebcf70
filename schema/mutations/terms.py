"""acceptLegalDocuments: its input, payload and error codes (use case: usecases/terms.py)."""

from __future__ import annotations

from enum import Enum

import strawberry

from domain import terms as rules
from resolvers import terms as r
from schema.base import BadInput, Info, internal_id
from schema.payloads import UserError, user_errors
from schema.terms import LegalDocument
from usecases import terms as uc


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

    def command(self) -> uc.AcceptLegalDocuments:
        try:
            ids = [internal_id(gid, "LegalDocument") for gid in self.document_ids]
        except BadInput:
            raise rules.InvalidId() from None
        return uc.AcceptLegalDocuments(ids)


@strawberry.type
class AcceptLegalDocumentsPayload:
    still_to_accept: list[LegalDocument] | None = strawberry.field(
        default=None,
        description="Current documents not accepted yet; empty: the API is open again (for "
        "access tokens issued before, after a `refreshSession`... or at once: see docs).",
    )
    errors: list[AcceptLegalDocumentsError] = strawberry.field(default_factory=list)


@strawberry.type
class TermsMutations:
    @strawberry.mutation(
        description="Accept the current terms of use / privacy notice versions (from "
        "`legalDocuments`); recorded with the version and the time. Allowed while acceptance "
        "is pending (everything else answers TERMS_ACCEPTANCE_REQUIRED)."
    )
    @user_errors(
        AcceptLegalDocumentsPayload, AcceptLegalDocumentsError, AcceptLegalDocumentsErrorCode
    )
    async def accept_legal_documents(
        self, info: Info, input: AcceptLegalDocumentsInput
    ) -> AcceptLegalDocumentsPayload:
        pending = await r.accept_legal_documents(info.context, input.command())
        return AcceptLegalDocumentsPayload(
            still_to_accept=[LegalDocument.from_row(d, None) for d in pending]
        )
