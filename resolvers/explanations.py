"""The explanation of a result's or a component's LOINC code (reference data)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from schema.explanations import ResultExplanation

if TYPE_CHECKING:
    from schema.base import Info


async def explanation(info: Info, code: str) -> ResultExplanation | None:
    row = await info.context.loaders.explanation.get(code)
    return ResultExplanation.from_row(row) if row is not None else None
