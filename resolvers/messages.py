"""Secure messages: the reads (threads per patient, the family inbox, messages, unread
counts, the terms of a new message) through the loaders, and the writes (usecases/messages.py)
behind the MESSAGES area check of the patient (`Context.act`, audited as a write; a proxy
without it, or a parent of an adolescent, gets FORBIDDEN and nothing happens)."""

from __future__ import annotations

from datetime import datetime

from domain import messages as rules
from domain.access import PatientGrant
from domain.errors import BrokenInvariant
from domain.scopes import RecordArea
from persistence import models as m
from persistence.paging import Page, PageOf
from persistence.queries import messages as q
from persistence.uow import UnitOfWork
from resolvers.owned import owned_row
from runtime.context import Context
from usecases import messages as usecases

CURSOR = (datetime, str)  # the sort key of threads and messages: (time, id)


def _found(page: PageOf | None) -> PageOf:
    if page is None:
        raise BrokenInvariant("a page loader answers every key with a page")
    return page


def _page(unread_only: bool, first: int, after: tuple[object, ...] | None) -> Page:
    return Page(first, after, q.UNREAD if unread_only else None)


async def patient_threads(
    ctx: Context,
    grant: PatientGrant,
    unread_only: bool,
    first: int,
    after: tuple[object, ...] | None,
    messages: int | None = None,
) -> PageOf:
    """The page of threads; with `messages` (the page size of messages the query asks of
    each thread), each thread's first page of messages in the same statement (the messages'
    loader is then primed)."""
    plain = _page(unread_only, first, after)
    page = (
        plain
        if messages is None
        else q.ThreadPage(plain.first, plain.after, plain.filter, messages)
    )
    return _found(await ctx.loaders.message_thread_pages.get((grant, page)))


async def patient_unread_count(ctx: Context, grant: PatientGrant) -> int:
    return await ctx.loaders.unread_by_patient.get(grant) or 0


async def inbox(
    ctx: Context, unread_only: bool, first: int, after: tuple[object, ...] | None
) -> tuple[PageOf, dict[str, PatientGrant]]:
    """Every patient whose messages the viewer may read, each under its own rules: the page,
    and the grant of each row's patient."""
    grants = tuple(ctx.readable(RecordArea.MESSAGES))
    found = await ctx.loaders.inbox_pages.get((grants, _page(unread_only, first, after)))
    return _found(found), {g.patient_id: g for g in grants}


async def thread_messages(
    ctx: Context, grant: PatientGrant, thread_id: str, first: int, after: tuple[object, ...] | None
) -> PageOf:
    return _found(await ctx.loaders.message_pages.get((grant, thread_id, Page(first, after))))


async def thread_unread_count(ctx: Context, grant: PatientGrant, thread_id: str) -> int:
    return await ctx.loaders.unread_by_thread.get((grant, thread_id)) or 0


async def read_by_me(
    ctx: Context, grant: PatientGrant, thread_id: str, from_provider: bool, sent_at: datetime
) -> bool:
    """Messages from the patient's side never count as unread; a provider's is read once the
    viewer read its thread past it."""
    if not from_provider:
        return True
    read_through = await ctx.loaders.read_through.get((grant, thread_id))
    return read_through is not None and sent_at <= read_through


async def message(ctx: Context, message_id: str) -> tuple[m.Message, PatientGrant] | None:
    """node(id) of a Message: access is checked on its thread's patient first."""
    ctx.require_principal()
    owner = await ctx.loaders.message_owner.get(message_id)
    # Unknown ids answer like forbidden ones ("" is nobody's patient id).
    grant = ctx.access(owner or "", RecordArea.MESSAGES, "Message")
    row = await ctx.loaders.message.get((grant, message_id))
    return (row, grant) if row else None


async def thread(ctx: Context, thread_id: str) -> tuple[m.MessageThread, PatientGrant] | None:
    """node(id) of a MessageThread: access is checked on its patient first."""
    row, grant = await owned_row(ctx, m.MessageThread, "MessageThread", thread_id)
    return (row, grant) if row else None


def messaging_terms(
    ctx: Context, grant: PatientGrant, category: rules.Category, provider_id: str | None
) -> rules.Terms:
    """The terms depend on the category and the kind of recipient only, not on the grant's
    patient (the grant proves the viewer may message this patient)."""
    settings = ctx.services.settings
    kind = rules.recipient_kind(category, provider_id, settings.messaging)
    return rules.terms(category, kind, settings.ages.today(ctx.now), settings.messaging)


# -- writes ------------------------------------------------------------------------------------
def _ports(ctx: Context) -> usecases.Ports:
    settings = ctx.services.settings
    return usecases.Ports(
        settings.messaging,
        ctx.services.files,
        ctx.now,
        settings.ages.today(ctx.now),
        ctx.actor_name,
    )


async def send_message(
    ctx: Context, command: usecases.SendMessage
) -> tuple[usecases.Sent, PatientGrant]:
    grant = ctx.act(command.patient_id, RecordArea.MESSAGES, "Message")
    uow = UnitOfWork(ctx.services.sessions)
    return await usecases.send_message(command, grant, uow, _ports(ctx)), grant


async def mark_thread_read(
    ctx: Context, command: usecases.MarkThreadRead
) -> tuple[m.MessageThread, PatientGrant]:
    uow = UnitOfWork(ctx.services.sessions)
    return await usecases.mark_thread_read(command, ctx.act, uow, ctx.now)


async def request_refill(
    ctx: Context, command: usecases.RequestRefill
) -> tuple[usecases.Refill, PatientGrant]:
    uow = UnitOfWork(ctx.services.sessions)
    return await usecases.request_refill(command, ctx.act, uow, _ports(ctx))
