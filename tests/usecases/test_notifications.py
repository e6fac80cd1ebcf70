"""The notification use cases without GraphQL: the account's own notifications and channel
choices only, refusals before anything is written."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from domain import notification_channels as rules
from domain.notification_channels import Channel
from persistence import models as m
from persistence.uow import UnitOfWork
from tests.conftest import ACCOUNT_IDS, ALEX, JORDAN, NOW, Portal
from usecases import notifications as usecases


async def _preferences(portal: Portal, account_id: str) -> dict[str, list[str]]:
    uow = UnitOfWork(portal.services.sessions)
    async with uow:
        return await uow.notifications.preferences(account_id)


async def test_preferences_are_stored_in_channel_order(fresh_portal: Portal) -> None:
    command = usecases.UpdateNotificationPreferences(
        [usecases.Preference("MESSAGE_RECEIVED", [Channel.PUSH, Channel.IN_APP])]
    )
    uow = UnitOfWork(fresh_portal.services.sessions)
    stored = await usecases.update_notification_preferences(command, ACCOUNT_IDS[ALEX], uow, NOW)
    assert stored["MESSAGE_RECEIVED"] == ["IN_APP", "PUSH"]
    assert await _preferences(fresh_portal, ACCOUNT_IDS[ALEX]) == stored


async def test_a_kind_twice_is_refused_and_nothing_is_stored(fresh_portal: Portal) -> None:
    twice = [usecases.Preference("NOTE_SIGNED", []), usecases.Preference("NOTE_SIGNED", [])]
    uow = UnitOfWork(fresh_portal.services.sessions)
    before = await _preferences(fresh_portal, ACCOUNT_IDS[ALEX])
    with pytest.raises(rules.DuplicateKind):
        await usecases.update_notification_preferences(
            usecases.UpdateNotificationPreferences(twice), ACCOUNT_IDS[ALEX], uow, NOW
        )
    assert await _preferences(fresh_portal, ACCOUNT_IDS[ALEX]) == before


async def test_another_accounts_notification_is_not_found(fresh_portal: Portal) -> None:
    uow = UnitOfWork(fresh_portal.services.sessions)
    jordans = m.new_id("ntf")
    async with uow:
        uow.session.add(
            m.Notification(
                id=jordans,
                account_id=ACCOUNT_IDS[JORDAN],
                kind="TERMS_UPDATED",
                title="New terms",
                body="Read them at your next sign-in.",
                created_at=NOW,
            )
        )
        await uow.commit()
    command = usecases.MarkNotificationsRead([jordans])
    with pytest.raises(rules.NotificationNotFound):
        await usecases.mark_notifications_read(command, ACCOUNT_IDS[ALEX], uow, NOW)
    async with uow:
        n = m.Notification
        still = await uow.session.scalar(select(n.read_at).where(n.id == jordans))
    assert still is None


async def test_neither_ids_nor_all_is_refused(fresh_portal: Portal) -> None:
    uow = UnitOfWork(fresh_portal.services.sessions)
    with pytest.raises(rules.IdsOrAllRequired):
        await usecases.mark_notifications_read(
            usecases.MarkNotificationsRead([]), ACCOUNT_IDS[ALEX], uow, NOW
        )
