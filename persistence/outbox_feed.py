"""Reading the outbox: what the publisher has yet to publish, and what a resuming
subscriber missed. Writing events is `persistence/outbox.py`'s job."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from domain.access import PatientGrant
from domain.events import EventKind
from domain.realtime import BusEvent
from domain.scopes import RecordArea
from persistence import models as m
from persistence.outbox_order import OUTBOX_DRAIN_LOCK
from persistence.queries.guard import patient_ids

E = m.OutboxEvent


def bus_event(row: m.OutboxEvent) -> BusEvent:
    return BusEvent(row.seq, EventKind(row.kind), row.object_id, row.patient_id, row.account_id)


async def last_seq(session: AsyncSession) -> int:
    """The highest committed seq (0 when there is none): where a new subscription starts."""
    return int(await session.scalar(select(func.coalesce(func.max(E.seq), 0))) or 0)


HAS_UNPUBLISHED = select(E.seq).where(E.published_at.is_(None)).limit(1)


async def has_unpublished(session: AsyncSession | AsyncConnection) -> bool:
    """Whether any event waits to be published (on PostgreSQL, asked on an autocommit
    connection, one statement: no transaction is opened for an idle outbox)."""
    return await session.scalar(HAS_UNPUBLISHED) is not None


async def lock_drain(session: AsyncSession) -> None:
    """One drainer at a time across processes, so events reach the broker in seq order.

    PostgreSQL: an advisory lock until the transaction ends. SQLite: taking the database's
    write lock (a write that changes nothing) serializes drainers the same way.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": OUTBOX_DRAIN_LOCK}
        )
    else:
        await session.execute(update(E).where(E.seq == -1).values(published_at=None))


async def unpublished(session: AsyncSession, limit: int) -> list[BusEvent]:
    stmt = select(E).where(E.published_at.is_(None)).order_by(E.seq).limit(limit)
    return [bus_event(row) for row in (await session.scalars(stmt)).all()]


async def mark_published(session: AsyncSession, seqs: Sequence[int], now: datetime) -> None:
    await session.execute(update(E).where(E.seq.in_(seqs)).values(published_at=now))


async def missed_for_patients(
    session: AsyncSession,
    grants: Sequence[PatientGrant],
    area: RecordArea,
    kind: EventKind,
    after: int,
    limit: int,
) -> list[BusEvent]:
    """Events of `kind` about the grants' patients after `after`, oldest first."""
    ids = patient_ids(grants, area)
    values = {"kind": kind.value, "ids": ids, "after": after, "limit": limit}
    return [bus_event(row) for row in (await session.scalars(MISSED_FOR_PATIENTS, values)).all()]


# Built once: a statement built per call (the IN list's parameters, their annotated copies)
# left a few cyclic objects for the garbage collector at every subscription's start.
MISSED_FOR_PATIENTS = (
    select(E)
    .where(
        E.kind == bindparam("kind"),
        E.patient_id.in_(bindparam("ids", expanding=True)),
        E.seq > bindparam("after"),
    )
    .order_by(E.seq)
    .limit(bindparam("limit"))
)


async def missed_for_account(
    session: AsyncSession, account_id: str, kind: EventKind, after: int, limit: int
) -> list[BusEvent]:
    """Events of `kind` addressed to the account after `after`, oldest first."""
    stmt = (
        select(E)
        .where(E.kind == kind.value, E.account_id == account_id, E.seq > after)
        .order_by(E.seq)
        .limit(limit)
    )
    return [bus_event(row) for row in (await session.scalars(stmt)).all()]
