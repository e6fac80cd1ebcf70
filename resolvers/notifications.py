"""The viewer's notifications: the feed (only what the viewer may still read right now),
the channel preferences, and the writes (usecases/notifications.py). Account-level: the
signed-in account only, never another's."""

from __future__ import annotations

from datetime import datetime

from domain.access import PatientGrant
from domain.errors import BrokenInvariant
from domain.scopes import RecordArea
from persistence import models as m
from persistence.paging import Page, PageOf
from persistence.queries import notifications as q
from persistence.uow import UnitOfWork
from runtime.context import Context
from usecases import notifications as usecases

CURSOR = (datetime, str)  # the sort key of the feed: (created at, id)


def feed_grants(ctx: Context) -> tuple[PatientGrant, ...]:
    """A grant per (patient, area) the policy allows now, plus demographics per patient."""
    grants = []
    for context in ctx.patient_contexts:
        grants.append(ctx.demographics(context.patient_id))
        for area in RecordArea:
            if context.area(area).allowed:
                grants.append(ctx.access(context.patient_id, area, "Notification"))
    return tuple(grants)


async def notifications(
    ctx: Context, unread_only: bool, first: int, after: tuple[object, ...] | None
) -> PageOf:
    account_id = ctx.require_principal().account_id
    page = Page(first, after, q.UNREAD if unread_only else None)
    found = await ctx.loaders.notification_pages.get((account_id, feed_grants(ctx), page))
    if found is None:
        raise BrokenInvariant("a page loader answers every key with a page")
    return found


async def notification(ctx: Context, notification_id: str) -> m.Notification | None:
    """node(id): the viewer's own, visible notifications only; anything else is None."""
    account_id = ctx.require_principal().account_id
    return await ctx.loaders.notification.get((account_id, feed_grants(ctx), notification_id))


async def notification_preferences(ctx: Context) -> dict[str, list[str]]:
    """The stored channel choices, kind -> channels (kinds without one use the defaults)."""
    account_id = ctx.require_principal().account_id
    return await ctx.loaders.notification_preferences.get(account_id) or {}


async def mark_notifications_read(
    ctx: Context, command: usecases.MarkNotificationsRead
) -> list[m.Notification]:
    account_id = ctx.require_principal().account_id
    uow = UnitOfWork(ctx.services.sessions)
    return await usecases.mark_notifications_read(command, account_id, uow, ctx.now)


async def update_notification_preferences(
    ctx: Context, command: usecases.UpdateNotificationPreferences
) -> dict[str, list[str]]:
    account_id = ctx.require_principal().account_id
    uow = UnitOfWork(ctx.services.sessions)
    return await usecases.update_notification_preferences(command, account_id, uow, ctx.now)
