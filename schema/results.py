"""Test results: status and release for everyone allowed, values only once released."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain.access import PatientGrant
from domain.errors import BrokenInvariant
from domain.results import Flag, Release, ReleaseStatus, flag_of, flags_of
from resolvers import results as r
from schema.base import Connection, Info, Node, cursor_values, page_size, to_global_id
from schema.construct import enum_of, maker
from schema.enums import ResultKind, ResultStatus
from schema.people import Provider

if TYPE_CHECKING:
    from persistence import models as m
    from persistence.queries.results import ComponentRow, TrendRow
    from schema.messages import MessageThread


@strawberry.type(description="What a test measures, in plain language, and where to read more.")
class ResultExplanation:
    code: str = strawberry.field(description="The LOINC code explained.")
    text: str
    more_url: str | None

    @classmethod
    def from_row(cls, row: m.ResultExplanation) -> ResultExplanation:
        return cls(code=row.code, text=row.text, more_url=row.more_url)

    @classmethod
    async def of_code(cls, info: Info, code: str) -> ResultExplanation | None:
        row = await r.explanation(info.context, code)
        return cls.from_row(row) if row is not None else None


@strawberry.type
class ReferenceRange:
    low: float | None
    high: float | None

    @strawberry.field(description='For display, e.g. "4 - 5.6" or "<= 199".')
    def text(self) -> str | None:  # formatted when asked: every component has a range
        low, high = self.low, self.high
        if low is not None and high is not None:
            return f"{low:g} - {high:g}"
        if high is not None:
            return f"<= {high:g}"
        return f">= {low:g}"

    @classmethod
    def of(cls, low: float | None, high: float | None) -> ReferenceRange | None:
        if low is None and high is None:
            return None
        return _range(low, high)


_range = maker(ReferenceRange, "low", "high")


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
        return await ResultExplanation.of_code(info, self.code)

    @classmethod
    def from_row(cls, row: ComponentRow) -> ResultComponent:
        return cls.of_rows((row,))[0]

    @classmethod
    def of_rows(cls, rows: Sequence[ComponentRow]) -> list[ResultComponent]:
        # ~50 components a dashboard, each with its range: made here as `maker` makes
        # them (`object.__new__`, then every field `__init__` sets, in its order; the
        # same objects, tests/test_construct.py), in one loop without a frame per
        # component or range, nor a list append
        made: list[ResultComponent] = [None] * len(rows)  # type: ignore[list-item]
        flags = flags_of(rows)
        new = object.__new__
        for index, row in enumerate(rows):
            value, low, high = row.value, row.ref_low, row.ref_high
            if low is None and high is None:
                reference_range = None
            else:
                reference_range = new(ReferenceRange)
                reference_range.low = low
                reference_range.high = high
            component = new(ResultComponent)
            component.code = row.loinc
            component.name = row.name
            component.value = value
            component.value_text = row.value_text
            component.unit = row.unit
            component.reference_range = reference_range
            component.flag = flags[index]
            made[index] = component
        return made


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
        return await Provider.by_id(info, self.ordering_provider_id)

    @strawberry.field(
        description="Threads asked about this result (askAboutResult); needs the MESSAGES "
        "area too (else null with FORBIDDEN)."
    )
    async def question_threads(
        self, info: Info
    ) -> list[Annotated[MessageThread, strawberry.lazy("schema.messages")]] | None:
        from schema.messages import MessageThread

        rows, grant = await r.question_threads(info.context, self.patient_id, self.internal_id)
        return [MessageThread.from_row(row, grant) for row in rows]

    @strawberry.field(description="What the test (panel) is for, in plain language.")
    async def explanation(self, info: Info) -> ResultExplanation | None:
        return await ResultExplanation.of_code(info, self.code)

    @strawberry.field(description="Null with FORBIDDEN (HELD_FOR_REVIEW) until released.")
    async def components(self, info: Info) -> list[ResultComponent] | None:
        rows = await r.components(info.context, self.grant, self.internal_id, self.released)
        return ResultComponent.of_rows(rows)

    @strawberry.field(description="Null with FORBIDDEN (HELD_FOR_REVIEW) until released.")
    def provider_comment(self) -> str | None:
        if self.released:  # (`released_value`'s answer, without its frame)
            return self.comment_value
        return r.released_value(self.released, self.comment_value)

    @strawberry.field(
        description="Imaging report; null with FORBIDDEN (HELD_FOR_REVIEW) until released."
    )
    def report(self) -> str | None:
        if self.released:
            return self.report_value
        return r.released_value(self.released, self.report_value)

    @classmethod
    async def fetch_node(cls, info: Info, row_id: str) -> Result | None:
        found = await r.result_node(info.context, row_id)
        return cls.from_found(found) if found else None

    @classmethod
    def from_found(cls, found: r.Found) -> Result:
        row, release = found.row, found.release
        return _result(
            row.id,
            row.patient_id,
            row.ordering_provider_id,
            found.grant,
            release.status is _RELEASED,  # `Release.released`, without the property's call
            row.provider_comment,
            row.report,
            row.name,
            row.code,
            _kind(row.kind),
            _status(row.status),
            row.collected_at,
            row.resulted_at,
            release.status,
            release.released_at,
            release.expected_release_at,
        )


_result = maker(
    Result,
    "internal_id",
    "patient_id",
    "ordering_provider_id",
    "grant",
    "released",
    "comment_value",
    "report_value",
    "name",
    "code",
    "kind",
    "status",
    "collected_at",
    "resulted_at",
    "release_status",
    "released_at",
    "expected_release_at",
)
_kind, _status = enum_of(ResultKind), enum_of(ResultStatus)
_RELEASED = ReleaseStatus.RELEASED


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
        return await ResultExplanation.of_code(info, self.code)

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


# -- the lists Patient shows ----------------------------------------------------------------
async def patient_results(
    info: Info, grant: PatientGrant, kind: ResultKind | None, first: int | None, after: str | None
) -> Connection[Result]:
    found = await r.patient_results(
        info.context,
        grant,
        kind.value if kind is not None else None,
        page_size(first),
        cursor_values(after, list(r.CURSOR)),
    )
    return Connection.of(found, Result.from_found)


async def result_trend(info: Info, grant: PatientGrant, code: str) -> list[TrendPoint]:
    points = await r.result_trend(info.context, grant, code)
    return [TrendPoint.from_row(row, release) for row, release in points]
