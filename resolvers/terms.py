"""legalDocuments and acceptLegalDocuments: what an account with documents to accept may
still do (Context.require_signed_in, not require_principal; use cases: usecases/terms.py)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from persistence import models as m
from persistence import terms as store
from persistence.uow import UnitOfWork
from usecases import terms as uc

if TYPE_CHECKING:
    from runtime.context import Context

Document = tuple[m.LegalDocument, datetime | None]  # a current document, when it was accepted


async def legal_documents(ctx: Context) -> list[Document]:
    account_id = ctx.require_signed_in().account_id
    async with ctx.services.session() as session:
        current = await store.current_documents(session)
        done = await store.accepted(session, account_id)
    return [(d, done.get(d.id)) for d in current]


async def document(ctx: Context, row_id: str) -> Document | None:
    """`node(id)`: a current document, as `legalDocuments` lists it."""
    return next((d for d in await legal_documents(ctx) if d[0].id == row_id), None)


async def accept_legal_documents(
    ctx: Context, command: uc.AcceptLegalDocuments
) -> list[m.LegalDocument]:
    """The current documents still to accept after this acceptance."""
    account_id = ctx.require_signed_in().account_id
    pending = await uc.accept_legal_documents(
        command, account_id, UnitOfWork(ctx.services.sessions), ctx.now
    )
    ctx.terms_pending = bool(pending)  # the rest of this response answers as it now stands
    return pending
