"""A patient's results, their values once released, the trend of one component code, the
explanations of their codes, both ends of "ask about this result" (each through its own
area's access check), and askAboutResult itself (usecases/results.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from domain.access import AccessDenied, PatientGrant
from domain.errors import BrokenInvariant
from domain.results import Release, release_of_result
from domain.scopes import AccessReason, RecordArea
from persistence import models as m
from persistence.paging import Page, PageOf
from persistence.queries.results import ComponentRow, ResultRow, TrendRow
from persistence.uow import UnitOfWork
from resolvers.owned import owned_row
from runtime.context import Context
from usecases import messages as messages_uc
from usecases import results as usecases

T = TypeVar("T")
CURSOR = (datetime, str)  # the sort key of a patient's results: (time, id)


@dataclass(frozen=True)
class Found:
    """A result as the viewer may see it: read through `grant`, released or not."""

    row: m.Result | ResultRow
    grant: PatientGrant
    release: Release


def release_in(
    ctx: Context, row: m.Result | ResultRow | TrendRow, held_by_patient: bool
) -> Release:
    """Where `row` stands now, under the configured release policy."""
    return release_of_result(
        row, held_by_patient=held_by_patient, now=ctx.now, policy=ctx.services.settings.release
    )


def _found(
    row: m.Result | ResultRow, found_in: tuple[Context, PatientGrant, frozenset[str]]
) -> Found:
    ctx, grant, held = found_in  # (`release_in`, inline: ~10 results a dashboard)
    release = release_of_result(
        row, held_by_patient=row.kind in held, now=ctx.now, policy=ctx.services.settings.release
    )
    return Found(row, grant, release)


async def patient_results(
    ctx: Context,
    grant: PatientGrant,
    kind: str | None,
    first: int,
    after: tuple[object, ...] | None,
) -> PageOf:
    """A page of `Found`s."""
    page = await ctx.loaders.result_pages.get((grant, Page(first, after, kind)))
    if page is None:
        raise BrokenInvariant("a page loader answers every key with a page")
    # The page's statement primed the holds; an empty page needs none.
    held = await ctx.loaders.result_holds.get(grant) if page.rows else frozenset()
    holds = held or frozenset()
    return page.mapped_each(_found, (ctx, grant, holds))


async def result(ctx: Context, row: m.Result, grant: PatientGrant) -> Found:
    """A result reached by id, once access to its owner was checked."""
    held = await ctx.loaders.result_holds.get(grant)
    return _found(row, (ctx, grant, held or frozenset()))


async def result_node(ctx: Context, result_id: str) -> Found | None:
    """node(id) of a Result: access is checked on its patient first."""
    row, grant = await owned_row(ctx, m.Result, "Result", result_id)
    return await result(ctx, row, grant) if row else None


def released_value(released: bool, value: T) -> T:
    """A value of the result, or FORBIDDEN (HELD_FOR_REVIEW) while it is not released."""
    if not released:
        raise AccessDenied(AccessReason.HELD_FOR_REVIEW, RecordArea.RESULTS)
    return value


async def components(
    ctx: Context, grant: PatientGrant, result_id: str, released: bool
) -> Sequence[ComponentRow]:
    if not released:  # (the call only to refuse: ~7 results a dashboard are released)
        released_value(released, None)
    return await ctx.loaders.result_components.get((grant, result_id)) or []


async def result_trend(
    ctx: Context, grant: PatientGrant, code: str
) -> list[tuple[TrendRow, Release]]:
    """Released values only, oldest first; the release rule is the domain's, as for Result."""
    points = []
    for row in await ctx.loaders.result_trend.get((grant, code)) or []:
        release = release_in(ctx, row, row.held_by_patient)
        if release.released:
            points.append((row, release))
    return points


async def explanation(ctx: Context, code: str) -> m.ResultExplanation | None:
    """The explanation of a result's or a component's LOINC code (reference data)."""
    return await ctx.loaders.explanation.get(code)


# -- "ask about this result" -----------------------------------------------------------------
async def thread_result(ctx: Context, patient_id: str, result_id: str) -> Found | None:
    """The result a thread was asked about: the RESULTS area of the thread's patient."""
    grant = ctx.access(patient_id, RecordArea.RESULTS, "Result")
    row = await ctx.loaders.result_by_id.get((grant, result_id))
    return await result(ctx, row, grant) if row is not None else None


async def question_threads(
    ctx: Context, patient_id: str, result_id: str
) -> tuple[list[m.MessageThread], PatientGrant]:
    """The threads asked about a result: the MESSAGES area of the result's patient."""
    grant = ctx.access(patient_id, RecordArea.MESSAGES, "MessageThread")
    return await ctx.loaders.threads_by_result.get((grant, result_id)) or [], grant


async def ask_about_result(
    ctx: Context, command: usecases.AskAboutResult
) -> tuple[messages_uc.Sent, PatientGrant]:
    settings = ctx.services.settings
    ports = usecases.Ports(
        settings.messaging, settings.release, ctx.now, settings.ages.today(ctx.now), ctx.actor_name
    )
    uow = UnitOfWork(ctx.services.sessions)
    return await usecases.ask_about_result(command, ctx.act, uow, ports)
