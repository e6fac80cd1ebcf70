"""Messaging writes: sendMessage, markThreadRead, requestRefill, and the viewer's
notifications (markNotificationsRead, updateNotificationPreferences): inputs, payloads and
their error codes."""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry.file_uploads import Upload

from domain.notification_channels import Channel
from schema.enums import MessageCategory
from schema.messages import Message, MessageThread
from schema.notifications import Notification, NotificationKind
from schema.payloads import UserError
from schema.summary import Medication

NotificationChannel = strawberry.enum(Channel, name="NotificationChannel")


# -- sendMessage / markThreadRead ---------------------------------------------------------
@strawberry.enum
class SendMessageErrorCode(Enum):
    BODY_EMPTY = "BODY_EMPTY"
    BODY_TOO_LONG = "BODY_TOO_LONG"
    SUBJECT_REQUIRED = "SUBJECT_REQUIRED"
    SUBJECT_TOO_LONG = "SUBJECT_TOO_LONG"
    CATEGORY_REQUIRED = "CATEGORY_REQUIRED"
    RECIPIENT_NOT_IN_CARE_TEAM = "RECIPIENT_NOT_IN_CARE_TEAM"
    RECIPIENT_REQUIRED = "RECIPIENT_REQUIRED"
    THREAD_NOT_FOUND = "THREAD_NOT_FOUND"
    EVISIT_NOT_ACKNOWLEDGED = "EVISIT_NOT_ACKNOWLEDGED"
    TOO_MANY_ATTACHMENTS = "TOO_MANY_ATTACHMENTS"
    ATTACHMENT_TOO_LARGE = "ATTACHMENT_TOO_LARGE"
    ATTACHMENT_TYPE_NOT_ALLOWED = "ATTACHMENT_TYPE_NOT_ALLOWED"


@strawberry.type
class SendMessageError(UserError):
    code: SendMessageErrorCode


@strawberry.input(
    description="A new thread (no threadId: category, subject, and a provider of the care "
    "team or none for the category's pool) or a reply to one of the patient's threads "
    "(threadId; category, subject and recipient are then ignored). Attachments follow the "
    "GraphQL multipart request spec: gif, png, tiff, jpeg, txt or pdf by content."
)
class SendMessageInput:
    patient_id: strawberry.ID
    body: str
    thread_id: strawberry.ID | None = None
    category: MessageCategory | None = None
    recipient_provider_id: strawberry.ID | None = None
    subject: str | None = None
    attachments: list[Upload] = strawberry.field(default_factory=list)
    acknowledge_e_visit_billing: bool = strawberry.field(
        default=False,
        name="acknowledgeEVisitBilling",
        description="Required when `Patient.messagingTerms` says the message may be billed.",
    )


@strawberry.type
class SendMessagePayload:
    message: Message | None = None
    thread: MessageThread | None = None
    errors: list[SendMessageError] = strawberry.field(default_factory=list)


@strawberry.input
class MarkThreadReadInput:
    thread_id: strawberry.ID


@strawberry.type(description="The thread with the viewer's unread count now 0.")
class MarkThreadReadPayload:
    thread: MessageThread | None = None
    errors: list[SendMessageError] = strawberry.field(
        default_factory=list,
        description="Messaging errors; marking a thread the viewer may read does not fail.",
    )


# -- requestRefill ----------------------------------------------------------------------------
@strawberry.enum
class RequestRefillErrorCode(Enum):
    MEDICATION_INACTIVE = "MEDICATION_INACTIVE"
    NO_REFILLS_REMAINING = "NO_REFILLS_REMAINING"
    PRESCRIPTION_EXPIRED = "PRESCRIPTION_EXPIRED"
    NO_PRESCRIBER = "NO_PRESCRIBER"
    PHARMACY_REQUIRED = "PHARMACY_REQUIRED"
    PHARMACY_TOO_LONG = "PHARMACY_TOO_LONG"
    BODY_EMPTY = "BODY_EMPTY"
    BODY_TOO_LONG = "BODY_TOO_LONG"


@strawberry.type
class RequestRefillError(UserError):
    code: RequestRefillErrorCode


@strawberry.input(
    description="Needs both the MEDICATIONS and the MESSAGES areas of the patient: the "
    "request is a REFILL thread to the prescriber that the requester must be able to read."
)
class RequestRefillInput:
    medication_id: strawberry.ID
    pharmacy: str | None = strawberry.field(
        default=None, description="Defaults to the pharmacy on file for the prescription."
    )
    note: str | None = None


@strawberry.type
class RequestRefillPayload:
    thread: MessageThread | None = None
    medication: Medication | None = None
    errors: list[RequestRefillError] = strawberry.field(default_factory=list)


# -- notifications ----------------------------------------------------------------------------
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


@strawberry.type
class MarkNotificationsReadPayload:
    notifications: list[Notification] = strawberry.field(
        default_factory=list, description="Those marked read by this request, newest first."
    )
    errors: list[NotificationError] = strawberry.field(default_factory=list)


@strawberry.type
class NotificationPreference:
    kind: NotificationKind
    channels: list[Channel]
    is_default: bool = strawberry.field(description="No choice made: the default channels.")


@strawberry.input
class NotificationPreferenceInput:
    kind: NotificationKind
    channels: list[Channel] = strawberry.field(
        description="An empty list turns every channel off for this kind."
    )


@strawberry.input(description="Kinds not listed keep their current channels.")
class UpdateNotificationPreferencesInput:
    preferences: list[NotificationPreferenceInput]


@strawberry.type
class UpdateNotificationPreferencesPayload:
    preferences: list[NotificationPreference] = strawberry.field(
        default_factory=list, description="Every kind, as now in force."
    )
    errors: list[NotificationError] = strawberry.field(default_factory=list)
