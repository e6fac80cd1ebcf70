"""The viewer's own notifications (rules: domain/notification_channels.py):
markNotificationsRead and updateNotificationPreferences, their inputs, payloads and error
codes. Account-level: audited under the field's name, done or refused (`account_action`)."""

from __future__ import annotations

from enum import Enum

import strawberry

from domain import notification_channels as rules
from domain.notification_channels import Channel
from resolvers import notifications as r
from schema.base import Info, internal_id
from schema.notifications import Notification, NotificationKind, NotificationPreference
from schema.payloads import UserError, account_action, user_errors
from usecases import notifications as usecases


@strawberry.enum
class NotificationErrorCode(Enum):
    NOTIFICATION_NOT_FOUND = "NOTIFICATION_NOT_FOUND"
    IDS_OR_ALL_REQUIRED = "IDS_OR_ALL_REQUIRED"
    DUPLICATE_KIND = "DUPLICATE_KIND"


@strawberry.type
class NotificationError(UserError):
    code: NotificationErrorCode


@strawberry.input(description="Either `ids` (the viewer's own notifications) or `all: true`.")
class MarkNotificationsReadInput:
    ids: list[strawberry.ID] | None = None
    all: bool = False

    def command(self) -> usecases.MarkNotificationsRead:
        rules.check_ids_or_all(list(self.ids or []), self.all)  # before an id is decoded
        ids = [internal_id(i, "Notification") for i in self.ids or []]
        return usecases.MarkNotificationsRead(ids, self.all)


@strawberry.type
class MarkNotificationsReadPayload:
    notifications: list[Notification] = strawberry.field(
        default_factory=list, description="Those marked read by this request, newest first."
    )
    errors: list[NotificationError] = strawberry.field(default_factory=list)


@strawberry.input
class NotificationPreferenceInput:
    kind: NotificationKind
    channels: list[Channel] = strawberry.field(
        description="An empty list turns every channel off for this kind."
    )


@strawberry.input(description="Kinds not listed keep their current channels.")
class UpdateNotificationPreferencesInput:
    preferences: list[NotificationPreferenceInput]

    def command(self) -> usecases.UpdateNotificationPreferences:
        return usecases.UpdateNotificationPreferences(
            [usecases.Preference(p.kind.value, p.channels) for p in self.preferences]
        )


@strawberry.type
class UpdateNotificationPreferencesPayload:
    preferences: list[NotificationPreference] = strawberry.field(
        default_factory=list, description="Every kind, as now in force."
    )
    errors: list[NotificationError] = strawberry.field(default_factory=list)


@account_action
@user_errors(MarkNotificationsReadPayload, NotificationError, NotificationErrorCode)
async def mark_notifications_read(
    info: Info, input: MarkNotificationsReadInput
) -> MarkNotificationsReadPayload:
    info.context.require_principal()  # signed out answers so, whatever the input holds
    rows = await r.mark_notifications_read(info.context, input.command())
    return MarkNotificationsReadPayload(notifications=[Notification.from_row(row) for row in rows])


@account_action
@user_errors(UpdateNotificationPreferencesPayload, NotificationError, NotificationErrorCode)
async def update_notification_preferences(
    info: Info, input: UpdateNotificationPreferencesInput
) -> UpdateNotificationPreferencesPayload:
    stored = await r.update_notification_preferences(info.context, input.command())
    return UpdateNotificationPreferencesPayload(
        preferences=NotificationPreference.every_kind(stored)
    )


@strawberry.type
class NotificationMutations:
    @strawberry.mutation(description="Mark the viewer's own notifications read.")
    async def mark_notifications_read(
        self, info: Info, input: MarkNotificationsReadInput
    ) -> MarkNotificationsReadPayload:
        return await mark_notifications_read(info, input)

    @strawberry.mutation(
        description="Choose, per notification kind, the channels that tell the viewer's "
        "account (IN_APP, EMAIL, SMS, PUSH). Texts and emails never carry health information."
    )
    async def update_notification_preferences(
        self, info: Info, input: UpdateNotificationPreferencesInput
    ) -> UpdateNotificationPreferencesPayload:
        return await update_notification_preferences(info, input)
