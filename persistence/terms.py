"""Legal documents (domain/terms.py): publishing a version, the current ones, acceptances."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.terms import DocumentKind, announcement
from persistence import models as m


async def current_documents(session: AsyncSession) -> list[m.LegalDocument]:
    """The newest version of each kind (kinds never published have none)."""
    d = m.LegalDocument
    newest = select(d.kind, func.max(d.version).label("version")).group_by(d.kind).subquery()
    stmt = (
        select(d)
        .join(newest, (newest.c.kind == d.kind) & (newest.c.version == d.version))
        .order_by(d.kind)
    )
    return list((await session.scalars(stmt)).all())


async def accepted(session: AsyncSession, account_id: str) -> dict[str, datetime]:
    """Document id -> when this account accepted it."""
    a = m.LegalAcceptance
    rows = await session.execute(
        select(a.document_id, a.accepted_at).where(a.account_id == account_id)
    )
    return {document_id: at for document_id, at in rows.all()}


async def pending_for(session: AsyncSession, account_id: str) -> list[m.LegalDocument]:
    """The current documents this account has not accepted."""
    done = await accepted(session, account_id)
    return [d for d in await current_documents(session) if d.id not in done]


def accept(session: AsyncSession, account_id: str, document_ids: list[str], now: datetime) -> None:
    for document_id in document_ids:
        session.add(
            m.LegalAcceptance(account_id=account_id, document_id=document_id, accepted_at=now)
        )


async def publish(
    session: AsyncSession, kind: DocumentKind, title: str, body: str, now: datetime
) -> m.LegalDocument:
    """The next version of `kind`, announced to every account in-app (one batched INSERT;
    a concurrent publish of the same kind fails on the unique (kind, version) index).
    In-app only: mail to every account is a campaign, not a transaction's side effect."""
    d = m.LegalDocument
    latest = await session.scalar(select(func.max(d.version)).where(d.kind == kind.value))
    row = d(
        id=m.new_id("lgl"),
        kind=kind.value,
        version=(latest or 0) + 1,
        title=title,
        body=body,
        published_at=now,
    )
    session.add(row)
    await session.flush()
    heading, text = announcement(kind, row.version)
    a, n = m.Account, m.Notification
    accounts = list(await session.scalars(select(a.id).order_by(a.id)))
    if accounts:
        await session.execute(
            insert(n),
            [
                {
                    "id": m.new_id("ntf"),
                    "account_id": account_id,
                    "patient_id": None,
                    "kind": "TERMS_UPDATED",
                    "area": None,
                    "title": heading,
                    "body": text,
                    "object_id": row.id,
                    "created_at": now,
                    "read_at": None,
                }
                for account_id in accounts
            ],
        )
    return row
