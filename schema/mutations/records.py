"""Home health readings and records release requests (rules: domain/readings.py and
domain/releases.py)."""

from __future__ import annotations

import strawberry

from resolvers import records as r
from schema import records as s
from schema.base import Info


@strawberry.type
class RecordMutations:
    @strawberry.mutation(
        description="Log a home reading for remote monitoring: the patient, or a proxy whose "
        "grant includes HEALTH_SUMMARY (not a parent of an adolescent, by default). Units and "
        "plausible ranges are checked; a refused reading is not stored."
    )
    async def record_health_reading(
        self, info: Info, input: s.RecordHealthReadingInput
    ) -> s.RecordHealthReadingPayload:
        return await r.record_health_reading(info, input)

    @strawberry.mutation(
        description="Ask for a copy of the record to be sent to the patient, a provider or an "
        "insurer. Self only; recorded with status REQUESTED."
    )
    async def request_records_release(
        self, info: Info, input: s.RequestRecordsReleaseInput
    ) -> s.RequestRecordsReleasePayload:
        return await r.request_records_release(info, input)
