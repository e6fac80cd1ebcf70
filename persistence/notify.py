"""Tell everyone who may see it that something happened in a patient's record.

The recipients are the patient's own account and every proxy whose grant lets them read
`area` right now (the same policy as reads: a parent of an adolescent is not told about a
confidential result). Each gets a notification row and a NOTIFICATION_ADDED outbox event,
in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import AgePolicy, grant_allows
from domain.events import EventKind
from domain.scopes import RecordArea
from persistence import models as m
from persistence.outbox import OutboxRepository
from persistence.queries.people import grant_facts


@dataclass(frozen=True)
class Notice:
    kind: str  # schema NotificationKind value: MESSAGE_RECEIVED, RESULT_RELEASED, ...
    area: RecordArea
    title: str
    body: str
    object_id: str


async def readers_of(
    session: AsyncSession, patient_id: str, area: RecordArea, now: datetime, policy: AgePolicy
) -> list[str]:
    """Account ids that may read `area` of the patient at `now`: the patient's own first."""
    own = await session.scalars(select(m.Account.id).where(m.Account.patient_id == patient_id))
    readers = list(own)
    stmt = (
        select(m.ProxyGrant, m.Patient.birth_date)
        .join(m.Patient, m.Patient.id == m.ProxyGrant.patient_id)
        .where(m.ProxyGrant.patient_id == patient_id)
        .order_by(m.ProxyGrant.proxy_account_id)
    )
    for grant, birth_date in (await session.execute(stmt)).all():
        if grant.proxy_account_id in readers:
            continue
        if grant_allows(grant_facts(grant, birth_date), area, now, policy):
            readers.append(grant.proxy_account_id)
    return readers


async def notify(
    session: AsyncSession, patient_id: str, notice: Notice, now: datetime, policy: AgePolicy
) -> list[m.Notification]:
    """Add a notification for each reader (not committed: the caller's transaction owns it)."""
    outbox = OutboxRepository(session)
    added = []
    for account_id in await readers_of(session, patient_id, notice.area, now, policy):
        row = m.Notification(
            id=m.new_id("ntf"),
            account_id=account_id,
            patient_id=patient_id,
            kind=notice.kind,
            area=notice.area.value,
            title=notice.title,
            body=notice.body,
            object_id=notice.object_id,
            created_at=now,
            read_at=None,
        )
        session.add(row)
        outbox.record(
            EventKind.NOTIFICATION_ADDED,
            object_id=row.id,
            now=now,
            patient_id=patient_id,
            account_id=account_id,
            payload={"kind": notice.kind},
        )
        added.append(row)
    return added
