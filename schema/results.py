"""Test results: status and release for everyone allowed, values only once released."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain.access import PatientGrant
from domain.errors import BrokenInvariant
from domain.results import Flag, Release, ReleaseStatus, flag_of, release_of
from persistence import models as m
from persistence.queries.results import TrendRow
from resolvers import explanations as explanations_r
from resolvers import people as people_r
from resolvers import results as r
from schema.base import Info, Node, to_global_id
from schema.enums import ResultKind, ResultStatus
from schema.explanations import ResultExplanation
from schema.people import Provider

if TYPE_CHECKING:
    from schema.messages import MessageThread


def release_in(info: Info, row: m.Result | TrendRow, held_by_patient: bool) -> Release:
    """Where `row` stands now, under the configured release policy."""
    return release_of(
        kind=row.kind,
        code=row.code,
        status=row.status,
        resulted_at=row.resulted_at,
        released_at=row.released_at,
        held_by_patient=held_by_patient,
        now=info.context.now,
        policy=info.context.services.settings.release,
    )


@strawberry.type
class ReferenceRange:
    low: float | None
    high: float | None
    text: str | None = strawberry.field(description='For display, e.g. "4 - 5.6" or "<= 199".')

    @classmethod
    def of(cls, low: float | None, high: float | None) -> ReferenceRange | None:
        if low is None and high is None:
            return None
        if low is not None and high is not None:
            text = f"{low:g} - {high:g}"
        elif high is not None:
            text = f"<= {high:g}"
        else:
            text = f">= {low:g}"
        return cls(low=low, high=high, text=text)


@strawberry.type
class ResultComponent:
    code: str = strawberry.field(description="LOINC code of the component.")
    name: str
    value: float | None
    value_text: str | None = strawberry.field(description="The value when it is not a number.")
    unit: str | None
    reference_range: ReferenceRange | None
    flag: Flag | None = strawberry.field(
        description="Computed from the value and the reference range; null without a number."
    )

    @strawberry.field(description="What this component measures, in plain language.")
    async def explanation(self, info: Info) -> ResultExplanation | None:
        return await explanations_r.explanation(info, self.code)

    @classmethod
    def from_row(cls, row: m.ResultComponent) -> ResultComponent:
        return cls(
            code=row.loinc,
            name=row.name,
            value=row.value,
            value_text=row.value_text,
            unit=row.unit,
            reference_range=ReferenceRange.of(row.ref_low, row.ref_high),
            flag=flag_of(row.value, row.ref_low, row.ref_high),
        )


@strawberry.type
class Result(Node):
    name: str
    code: str = strawberry.field(description="LOINC code of the order.")
    kind: ResultKind
    status: ResultStatus
    collected_at: datetime | None
    resulted_at: datetime | None
    release_status: ReleaseStatus
    released_at: datetime | None
    expected_release_at: datetime | None = strawberry.field(
        description="When a held result will be released automatically, if it will."
    )
    internal_id: strawberry.Private[str]
    patient_id: strawberry.Private[str]
    ordering_provider_id: strawberry.Private[str | None]
    grant: strawberry.Private[PatientGrant]
    released: strawberry.Private[bool]
    comment_value: strawberry.Private[str | None]
    report_value: strawberry.Private[str | None]

    def node_id(self) -> str:
        return self.internal_id

    @strawberry.field
    async def ordering_provider(self, info: Info) -> Provider | None:
        return await people_r.provider(info, self.ordering_provider_id)

    @strawberry.field(
        description="Threads asked about this result (askAboutResult); needs the MESSAGES "
        "area too (else null with FORBIDDEN)."
    )
    async def question_threads(
        self, info: Info
    ) -> list[Annotated[MessageThread, strawberry.lazy("schema.messages")]] | None:
        from resolvers import result_questions as questions_r

        return await questions_r.question_threads(info, self)

    @strawberry.field(description="What the test (panel) is for, in plain language.")
    async def explanation(self, info: Info) -> ResultExplanation | None:
        return await explanations_r.explanation(info, self.code)

    @strawberry.field(description="Null with FORBIDDEN (HELD_FOR_REVIEW) until released.")
    async def components(self, info: Info) -> list[ResultComponent] | None:
        return await r.components(info, self)

    @strawberry.field(description="Null with FORBIDDEN (HELD_FOR_REVIEW) until released.")
    def provider_comment(self) -> str | None:
        return r.released_value(self, self.comment_value)

    @strawberry.field(
        description="Imaging report; null with FORBIDDEN (HELD_FOR_REVIEW) until released."
    )
    def report(self) -> str | None:
        return r.released_value(self, self.report_value)

    @classmethod
    def from_row(
        cls, row: m.Result, grant: PatientGrant, held_kinds: frozenset[str], info: Info
    ) -> Result:
        release = release_in(info, row, row.kind in held_kinds)
        return cls(
            internal_id=row.id,
            patient_id=row.patient_id,
            ordering_provider_id=row.ordering_provider_id,
            grant=grant,
            released=release.released,
            comment_value=row.provider_comment,
            report_value=row.report,
            name=row.name,
            code=row.code,
            kind=ResultKind(row.kind),
            status=ResultStatus(row.status),
            collected_at=row.collected_at,
            resulted_at=row.resulted_at,
            release_status=release.status,
            released_at=release.released_at,
            expected_release_at=release.expected_release_at,
        )


@strawberry.type
class TrendPoint:
    """One released value of a component code."""

    at: datetime = strawberry.field(description="When collected (else when resulted).")
    value: float | None
    unit: str | None
    flag: Flag | None
    result_id: strawberry.ID
    code: strawberry.Private[str] = ""

    @strawberry.field(description="What this component measures, in plain language.")
    async def explanation(self, info: Info) -> ResultExplanation | None:
        return await explanations_r.explanation(info, self.code)

    @classmethod
    def from_row(cls, row: TrendRow, release: Release) -> TrendPoint:
        at = row.collected_at or row.resulted_at or release.released_at
        if at is None:
            raise BrokenInvariant("at is None: a released result has a date")
        return cls(
            at=at,
            value=row.value,
            unit=row.unit,
            flag=flag_of(row.value, row.ref_low, row.ref_high),
            result_id=to_global_id("Result", row.result_id),
            code=row.loinc,
        )
