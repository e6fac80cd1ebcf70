"""Both ends of "ask about this result", each through its own area's access check."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.scopes import RecordArea

if TYPE_CHECKING:
    from schema.base import Info
    from schema.messages import MessageThread
    from schema.results import Result


async def thread_result(info: Info, thread: MessageThread) -> Result | None:
    from resolvers import results as results_r

    if thread.result_id is None:
        return None
    grant = info.context.access(thread.patient_id, RecordArea.RESULTS, "Result")
    row = await info.context.loaders.result_by_id.get((grant, thread.result_id))
    return await results_r.result(info, row, grant) if row is not None else None


async def question_threads(info: Info, result: Result) -> list[MessageThread]:
    from schema.messages import MessageThread

    grant = info.context.access(result.patient_id, RecordArea.MESSAGES, "MessageThread")
    rows = await info.context.loaders.threads_by_result.get((grant, result.internal_id))
    return [MessageThread.from_row(row, grant) for row in rows or []]
