"""legalDocuments and acceptLegalDocuments: what an account with documents to accept may
still do (Context.require_signed_in, not require_principal)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain import terms as rules
from persistence import terms as store
from persistence.uow import UnitOfWork
from resolvers.payloads import user_errors
from schema import legal as s
from schema.base import BadInput, internal_id
from usecases import terms as usecases

if TYPE_CHECKING:
    from schema.base import Info


async def legal_documents(info: Info) -> list[s.LegalDocument]:
    ctx = info.context
    account_id = ctx.require_signed_in().account_id
    async with ctx.services.session() as session:
        current = await store.current_documents(session)
        done = await store.accepted(session, account_id)
    return [s.LegalDocument.from_row(d, done.get(d.id)) for d in current]


@user_errors(
    s.AcceptLegalDocumentsPayload, s.AcceptLegalDocumentsError, s.AcceptLegalDocumentsErrorCode
)
async def accept_legal_documents(
    info: Info, input: s.AcceptLegalDocumentsInput
) -> s.AcceptLegalDocumentsPayload:
    ctx = info.context
    account_id = ctx.require_signed_in().account_id
    try:
        ids = [internal_id(gid, "LegalDocument") for gid in input.document_ids]
    except BadInput:
        raise rules.InvalidId() from None
    pending = await usecases.accept_documents(
        account_id, ids, UnitOfWork(ctx.services.sessions), ctx.now
    )
    ctx.terms_pending = bool(pending)  # the rest of this response answers as it now stands
    return s.AcceptLegalDocumentsPayload(
        still_to_accept=[s.LegalDocument.from_row(d, None) for d in pending]
    )


async def document_node(info: Info, row_id: str) -> s.LegalDocument | None:
    return next((d for d in await legal_documents(info) if d.internal_id == row_id), None)
