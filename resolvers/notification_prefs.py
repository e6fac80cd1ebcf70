"""The viewer's own notifications: markNotificationsRead, updateNotificationPreferences and
`viewer.notificationPreferences`. Account-level: the signed-in account only, never another's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain import notification_channels as rules
from persistence.uow import UnitOfWork
from resolvers.payloads import account_action, user_errors
from schema import messaging as s
from schema.base import internal_id
from schema.notifications import Notification, NotificationKind

if TYPE_CHECKING:
    from schema.base import Info

ERRORS = (s.NotificationError, s.NotificationErrorCode)


@account_action
@user_errors(s.MarkNotificationsReadPayload, *ERRORS)
async def mark_notifications_read(
    info: Info, input: s.MarkNotificationsReadInput
) -> s.MarkNotificationsReadPayload:
    ctx = info.context
    account_id = ctx.require_principal().account_id
    rules.check_ids_or_all(list(input.ids or []), input.all)
    ids = [internal_id(i, "Notification") for i in input.ids or []]
    uow = UnitOfWork(ctx.services.sessions)
    async with uow:
        if input.all:
            ids = await uow.notifications.unread_ids(account_id)
        elif await uow.notifications.own_ids(account_id, ids) != set(ids):
            raise rules.NotificationNotFound(field="ids")
        await uow.notifications.mark_read(account_id, ids, ctx.now)
        rows = await uow.notifications.by_ids(account_id, ids)
        await uow.commit()
    return s.MarkNotificationsReadPayload(notifications=[Notification.from_row(r) for r in rows])


@account_action
@user_errors(s.UpdateNotificationPreferencesPayload, *ERRORS)
async def update_notification_preferences(
    info: Info, input: s.UpdateNotificationPreferencesInput
) -> s.UpdateNotificationPreferencesPayload:
    ctx = info.context
    account_id = ctx.require_principal().account_id
    rules.check_unique_kinds([p.kind.value for p in input.preferences])
    uow = UnitOfWork(ctx.services.sessions)
    async with uow:
        for preference in input.preferences:
            channels = [c.value for c in rules.ordered(preference.channels)]
            await uow.notifications.set_preference(
                account_id, preference.kind.value, channels, ctx.now
            )
        stored = await uow.notifications.preferences(account_id)
        await uow.commit()
    return s.UpdateNotificationPreferencesPayload(preferences=_every_kind(stored))


async def notification_preferences(info: Info) -> list[s.NotificationPreference]:
    account_id = info.context.require_principal().account_id
    stored = await info.context.loaders.notification_preferences.get(account_id)
    return _every_kind(stored or {})


def _every_kind(stored: dict[str, list[str]]) -> list[s.NotificationPreference]:
    return [
        s.NotificationPreference(
            kind=kind,
            channels=rules.ordered(rules.channels_for(stored.get(kind.value))),
            is_default=kind.value not in stored,
        )
        for kind in NotificationKind
    ]
