"""Secure messages, refills and the viewer's notifications (rules: domain/messages.py,
domain/attachments.py, domain/notification_channels.py)."""

from __future__ import annotations

import strawberry

from resolvers import messaging as r
from resolvers import notification_prefs as prefs_r
from schema import messaging as s
from schema.base import Info


@strawberry.type
class MessagingMutations:
    @strawberry.mutation(
        description="Start a thread with the care team or reply to one, as the patient or a "
        "proxy with the MESSAGES scope (never a parent of an adolescent). Up to 5 attachments "
        "of 10 MB (configurable) through the GraphQL multipart request spec. Messages are "
        "never edited or deleted; a refused message leaves nothing behind."
    )
    async def send_message(self, info: Info, input: s.SendMessageInput) -> s.SendMessagePayload:
        return await r.send_message(info, input)

    @strawberry.mutation(
        description="Mark a thread read for the viewer only (unread counts are per reader)."
    )
    async def mark_thread_read(
        self, info: Info, input: s.MarkThreadReadInput
    ) -> s.MarkThreadReadPayload:
        return await r.mark_thread_read(info, input)

    @strawberry.mutation(
        description="Ask the prescriber for a refill: a REFILL thread routed to them. Needs the "
        "MEDICATIONS and MESSAGES areas; refused with NO_REFILLS_REMAINING or "
        "MEDICATION_INACTIVE when the prescription cannot be refilled."
    )
    async def request_refill(
        self, info: Info, input: s.RequestRefillInput
    ) -> s.RequestRefillPayload:
        return await r.request_refill(info, input)

    @strawberry.mutation(description="Mark the viewer's own notifications read.")
    async def mark_notifications_read(
        self, info: Info, input: s.MarkNotificationsReadInput
    ) -> s.MarkNotificationsReadPayload:
        return await prefs_r.mark_notifications_read(info, input)

    @strawberry.mutation(
        description="Choose, per notification kind, the channels that tell the viewer's "
        "account (IN_APP, EMAIL, SMS, PUSH). Texts and emails never carry health information."
    )
    async def update_notification_preferences(
        self, info: Info, input: s.UpdateNotificationPreferencesInput
    ) -> s.UpdateNotificationPreferencesPayload:
        return await prefs_r.update_notification_preferences(info, input)
