"""Tell everyone who may see it that something happened in a patient's record.

The recipients are the patient's own account and every proxy whose grant lets them read
`area` right now (the same policy as reads: a parent of an adolescent is not told about a
confidential result). Each is told through the channels they chose (notify() below).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import AgePolicy, grant_allows
from domain.devices import PUSH_BODY, deep_link
from domain.events import EventKind
from domain.notification_channels import Channel, channels_for, outside_text
from domain.scopes import RecordArea
from persistence import models as m
from persistence.deliveries import enqueue_delivery
from persistence.devices import devices_by_account
from persistence.mail import enqueue_mail
from persistence.notifications import Contact, channels_by_account, contacts
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
        # An invitation not accepted yet has no account to tell.
        if grant.proxy_account_id is None or grant.proxy_account_id in readers:
            continue
        if grant_allows(grant_facts(grant, birth_date), area, now, policy):
            readers.append(grant.proxy_account_id)
    return readers


async def notify(
    session: AsyncSession, patient_id: str, notice: Notice, now: datetime, policy: AgePolicy
) -> list[m.Notification]:
    """Tell each reader through the channels they chose for `notice.kind` (defaults: in-app
    and email); nothing is committed: the caller's transaction owns it.

    IN_APP is the notification row with its NOTIFICATION_ADDED event; EMAIL goes to the mail
    outbox, SMS and PUSH (one per registered device) to the delivery outbox
    (persistence/deliveries.py), all in the same transaction, and their text says only that
    something new is waiting (no PHI); a push links to the in-app notification by its id.
    Returns the in-app rows."""
    outbox = OutboxRepository(session)
    added = []
    readers = await readers_of(session, patient_id, notice.area, now, policy)
    chosen = await channels_by_account(session, readers, notice.kind)
    ids = {account_id: m.new_id("ntf") for account_id in readers}
    no_in_app = await _send_outside(session, readers, chosen, notice.kind, now, ids)
    for account_id in readers:
        if account_id in no_in_app:
            continue
        row = m.Notification(
            id=ids[account_id],
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


async def _send_outside(
    session: AsyncSession,
    readers: list[str],
    chosen: dict[str, list[str]],
    kind: str,
    now: datetime,
    notification_ids: dict[str, str],
) -> set[str]:
    """Email, SMS and push for the readers who chose them; returns who opted out of in-app."""
    text = outside_text(kind)
    reach = await contacts(session, readers)
    devices = await devices_by_account(session, readers)
    no_in_app = set()
    for account_id in readers:
        channels = channels_for(chosen.get(account_id))
        contact = reach.get(account_id, Contact(None, None))
        if Channel.IN_APP not in channels:
            no_in_app.add(account_id)
        if Channel.EMAIL in channels and contact.email:
            enqueue_mail(session, to=contact.email, subject=text.subject, body=text.body, now=now)
        if Channel.SMS in channels and contact.phone:
            enqueue_delivery(
                session,
                account_id=account_id,
                channel=Channel.SMS,
                kind=kind,
                destination=contact.phone,
                text=text.short,
                now=now,
            )
        if Channel.PUSH not in channels:
            continue
        link = deep_link(None if account_id in no_in_app else notification_ids[account_id])
        for device_id in devices.get(account_id, []):
            enqueue_delivery(
                session,
                account_id=account_id,
                channel=Channel.PUSH,
                kind=kind,
                destination=device_id,
                text=PUSH_BODY,
                now=now,
                link=link,
            )
    return no_in_app
