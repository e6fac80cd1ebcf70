"""Health readings and records release requests: the reads (rows) and the writes
(usecases/records.py).

Who may do what (docs/health-record.md):
- readings are the READINGS area (scope HEALTH_SUMMARY): the patient and proxies whose
  grant allows it read and record them; a parent of an adolescent does not (configurable);
- records release requests are the patient's own: a proxy gets FORBIDDEN (SELF_ONLY).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from domain.access import PatientGrant
from domain.errors import BrokenInvariant
from domain.paging import Page, PageOf
from domain.readings import ReadingKind
from domain.scopes import RecordArea
from persistence import models as m
from persistence.uow import UnitOfWork
from resolvers.owned import owned_row
from usecases import records as usecases

if TYPE_CHECKING:
    from datetime import datetime

    from runtime.context import Context


# -- writes ---------------------------------------------------------------------------------
async def record_health_reading(
    ctx: Context, command: usecases.RecordHealthReading
) -> m.HealthReading:
    grant = ctx.act(command.patient_id, RecordArea.READINGS, "HealthReading")
    uow = UnitOfWork(ctx.services.sessions)
    return await usecases.record_health_reading(command, grant, uow, ctx.now)


async def request_records_release(
    ctx: Context, command: usecases.RequestRecordsRelease
) -> m.RecordsReleaseRequest:
    grant = ctx.records_release(command.patient_id, "RecordsReleaseRequest", write=True)
    today = ctx.services.settings.ages.today(ctx.now)
    uow = UnitOfWork(ctx.services.sessions)
    return await usecases.request_records_release(command, grant, uow, ctx.now, today)


# -- reads ----------------------------------------------------------------------------------
async def health_readings(
    ctx: Context,
    grant: PatientGrant,
    kind: ReadingKind,
    since: datetime | None,
    size: int,
    after: tuple[Any, ...] | None,
) -> PageOf:
    page = Page(size, after, (kind.value, since))
    found = await ctx.loaders.health_reading_pages.get((grant, page))
    if found is None:
        raise BrokenInvariant("found is None")
    return found


async def release_requests(ctx: Context, patient_id: str) -> list[m.RecordsReleaseRequest]:
    grant = ctx.records_release(patient_id, "RecordsReleaseRequest", write=False)
    return await ctx.loaders.release_requests.get(grant) or []


async def health_reading(ctx: Context, row_id: str) -> m.HealthReading | None:
    """node(id): through the patient's READINGS grant (unknown: forbidden)."""
    row, _grant = await owned_row(ctx, m.HealthReading, "HealthReading", row_id)
    return row  # type: ignore[no-any-return]


async def release_request(ctx: Context, row_id: str) -> m.RecordsReleaseRequest | None:
    """node(id): only among the viewer's own requests; anything else answers SELF_ONLY."""
    own = ctx.require_principal().patient_id or ""
    row = next((r for r in await release_requests(ctx, own) if r.id == row_id), None)
    if row is None:
        ctx.own_record("", "RecordsReleaseRequest")  # unknown or someone else's: forbidden
    return row
