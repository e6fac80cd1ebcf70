"""markNotificationsRead and updateNotificationPreferences: the signed-in account's own
notifications and channel choices (domain/notification_channels.py), never another's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from domain import notification_channels as rules
from persistence import models as m
from persistence.uow import UnitOfWork


@dataclass(frozen=True)
class MarkNotificationsRead:
    ids: Sequence[str]
    all: bool = False


@dataclass(frozen=True)
class Preference:
    kind: str
    channels: Sequence[rules.Channel]


@dataclass(frozen=True)
class UpdateNotificationPreferences:
    preferences: Sequence[Preference]


async def mark_notifications_read(
    command: MarkNotificationsRead, account_id: str, uow: UnitOfWork, now: datetime
) -> list[m.Notification]:
    """The notifications marked read by this request, newest first."""
    rules.check_ids_or_all(list(command.ids), command.all)
    ids = list(command.ids)
    async with uow:
        if command.all:
            ids = await uow.notifications.unread_ids(account_id)
        elif await uow.notifications.own_ids(account_id, ids) != set(ids):
            raise rules.NotificationNotFound(field="ids")
        await uow.notifications.mark_read(account_id, ids, now)
        rows = await uow.notifications.by_ids(account_id, ids)
        await uow.commit()
    return rows


async def update_notification_preferences(
    command: UpdateNotificationPreferences, account_id: str, uow: UnitOfWork, now: datetime
) -> dict[str, list[str]]:
    """Kinds not listed keep their channels; answers every stored choice (kind -> channels)."""
    rules.check_unique_kinds([p.kind for p in command.preferences])
    async with uow:
        for preference in command.preferences:
            channels = [c.value for c in rules.ordered(preference.channels)]
            await uow.notifications.set_preference(account_id, preference.kind, channels, now)
        stored = await uow.notifications.preferences(account_id)
        await uow.commit()
    return stored
