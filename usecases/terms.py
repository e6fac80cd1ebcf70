"""Publishing a version of the terms or the privacy notice, and accepting the current ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain import terms as rules
from persistence import models as m
from persistence import terms as store
from persistence.uow import UnitOfWork


async def publish_document(
    kind: rules.DocumentKind, title: str, body: str, uow: UnitOfWork, now: datetime
) -> m.LegalDocument:
    """Operators (CLI `portal terms publish`): every account must accept it at next sign-in."""
    clean_title, clean_body = rules.check_document(title, body)
    async with uow:
        row = await store.publish(uow.session, kind, clean_title, clean_body, now)
        await uow.commit()
    return row


@dataclass(frozen=True)
class AcceptLegalDocuments:
    document_ids: list[str]


async def accept_legal_documents(
    command: AcceptLegalDocuments, account_id: str, uow: UnitOfWork, now: datetime
) -> list[m.LegalDocument]:
    """Record the account's acceptance of current documents; the ones still pending after."""
    async with uow:
        current = [d.id for d in await store.current_documents(uow.session)]
        done = await store.accepted(uow.session, account_id)
        named = rules.check_acceptance(command.document_ids, current)
        store.accept(uow.session, account_id, [d for d in named if d not in done], now)
        await uow.session.flush()
        pending = await store.pending_for(uow.session, account_id)
        await uow.commit()
    return pending
