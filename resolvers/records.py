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
from domain.readings import ReadingKind
from domain.scopes import RecordArea
from persistence import models as m
from persistence.paging import Page, PageOf
from persistence.uow import UnitOfWork
from usecases import records as usecases

if TYPE_CHECKING:
    from datetime import datetime

    from portal.context import Context
    from schema.base import Info
    from schema.records import HealthReading, RecordsReleaseRequest


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
    assert found is not None
    return found


async def release_requests(ctx: Context, patient_id: str) -> list[m.RecordsReleaseRequest]:
    grant = ctx.records_release(patient_id, "RecordsReleaseRequest", write=False)
    return await ctx.loaders.release_requests.get(grant) or []


# -- node(id): until schema/base.py's Node registry lands (then the types' fetch_node) ------
async def health_reading_node(info: Info, row_id: str) -> HealthReading | None:
    from resolvers.nodes import owned_row  # resolvers.nodes imports this module
    from schema.records import HealthReading

    row, _grant = await owned_row(info, m.HealthReading, "HealthReading", row_id)
    return HealthReading.from_row(row) if row else None


async def release_request_node(info: Info, row_id: str) -> RecordsReleaseRequest | None:
    """Only among the viewer's own requests; anything else answers SELF_ONLY."""
    from schema.records import RecordsReleaseRequest

    ctx = info.context
    own = ctx.require_principal().patient_id or ""
    row = next((r for r in await release_requests(ctx, own) if r.id == row_id), None)
    if row is None:
        ctx.own_record("", "RecordsReleaseRequest")  # unknown or someone else's: forbidden
        return None
    return RecordsReleaseRequest.from_row(row)
