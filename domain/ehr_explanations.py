"""RESULT_EXPLANATION_UPDATED: the EHR adds or replaces the plain-language explanation of a
test (by LOINC code) shown beside results, ranges and trends. Read strictly, like every
feed event (domain/ehr.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.ehr_notes import Fields


@dataclass(frozen=True)
class ExplanationUpdated:
    code: str
    text: str
    more_url: str | None


def explanation_updated(f: Fields, _occurred_at: datetime) -> ExplanationUpdated:
    command = ExplanationUpdated(
        code=f.text("code", 20),
        text=f.text("text", 1000),
        more_url=f.optional_text("moreUrl", 500),
    )
    if command.more_url is not None and not command.more_url.startswith("https://"):
        f.problem("moreUrl", "must be an https:// link")
    return command
