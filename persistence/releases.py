"""Results held for a while after finalization, released when their hold ends.

A result whose kind or code has a positive hold (ReleasePolicy) becomes visible by policy at
`resulted_at + hold` (domain/results.py). This job makes that moment an event: it stamps
`released_at` (the marker: a conditional UPDATE, so one run, or one of two instances, wins)
and records RESULT_RELEASED with its notifications in the same transaction. A result the
EHR already pushed (an earlier RESULT_RELEASED in the outbox) is stamped but not pushed
again. Holds that ended more than `lookback` ago are left alone: they were visible anyway,
and pushing them now (after a long outage, or on a freshly loaded database) would be noise.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import AgePolicy
from domain.ehr import result_notice
from domain.events import EventKind
from domain.results import FINAL_STATUSES, ReleasePolicy, release_of
from domain.scopes import RecordArea
from persistence import models as m
from persistence.notify import Notice, notify
from persistence.outbox import OutboxRepository

R = m.Result


def longest_hold(policy: ReleasePolicy) -> timedelta | None:
    """The longest positive, automatic hold the policy has (None: nothing is ever held)."""
    holds = [policy.default_hold, *policy.hold_by_kind.values(), *policy.hold_by_code.values()]
    positive = [hold for hold in holds if hold is not None and hold > timedelta(0)]
    return max(positive) if positive else None


async def _held_by_patient(session: AsyncSession, rows: list[m.Result]) -> set[tuple[str, str]]:
    t = m.ResultHoldPreference
    stmt = select(t.patient_id, t.kind).where(t.patient_id.in_({r.patient_id for r in rows}))
    return {(row.patient_id, row.kind) for row in (await session.execute(stmt)).all()}


async def _pushed_before(session: AsyncSession, row: m.Result) -> bool:
    e = m.OutboxEvent
    stmt = select(e.seq).where(
        e.patient_id == row.patient_id,
        e.kind == EventKind.RESULT_RELEASED.value,
        e.object_id == row.id,
    )
    return (await session.scalar(stmt.limit(1))) is not None


async def release_due(
    session: AsyncSession,
    now: datetime,
    policy: ReleasePolicy,
    ages: AgePolicy,
    lookback: timedelta,
    limit: int = 500,
) -> list[str]:
    """Release (in the caller's transaction) results whose hold ended within `lookback`."""
    hold = longest_hold(policy)
    if hold is None:
        return []
    stmt = (
        select(R)
        .where(
            R.released_at.is_(None),
            R.status.in_(FINAL_STATUSES),
            R.resulted_at > now - lookback - hold,
            R.resulted_at <= now,
        )
        .order_by(R.resulted_at, R.id)
        .limit(limit)
    )
    rows = list((await session.scalars(stmt)).all())
    held = await _held_by_patient(session, rows) if rows else set()
    released = []
    for row in rows:
        row_hold = policy.hold_for(row.kind, row.code)
        if row_hold is None or row_hold <= timedelta(0):
            continue  # released on finalization (pushed by the EHR feed) or never automatic
        release = release_of(
            kind=row.kind,
            code=row.code,
            status=row.status,
            resulted_at=row.resulted_at,
            released_at=None,
            held_by_patient=(row.patient_id, row.kind) in held,
            now=now,
            policy=policy,
        )
        at = release.released_at
        if not release.released or at is None or at <= now - lookback:
            continue
        marked = await session.execute(
            update(R).where(R.id == row.id, R.released_at.is_(None)).values(released_at=at)
        )
        if getattr(marked, "rowcount", 0) != 1 or await _pushed_before(session, row):
            continue  # another run released it, or the EHR pushed it already
        OutboxRepository(session).record(
            EventKind.RESULT_RELEASED,
            object_id=row.id,
            patient_id=row.patient_id,
            now=now,
            payload={"resultId": row.id, "kind": row.kind, "automatic": True},
        )
        text = result_notice(False)
        notice = Notice("RESULT_RELEASED", RecordArea.RESULTS, text.title, text.body, row.id)
        await notify(session, row.patient_id, notice, now, ages)
        released.append(row.id)
    return released
