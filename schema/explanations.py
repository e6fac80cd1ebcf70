"""Plain-language explanations of tests, by LOINC code, shown beside results and trends."""

from __future__ import annotations

import strawberry

from persistence import models as m


@strawberry.type(description="What a test measures, in plain language, and where to read more.")
class ResultExplanation:
    code: str = strawberry.field(description="The LOINC code explained.")
    text: str
    more_url: str | None

    @classmethod
    def from_row(cls, row: m.ResultExplanation) -> ResultExplanation:
        return cls(code=row.code, text=row.text, more_url=row.more_url)
