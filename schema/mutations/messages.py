"""Secure messages and refills (rules: domain/messages.py, domain/attachments.py):
sendMessage, markThreadRead, requestRefill, their inputs, payloads and error codes."""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry.file_uploads import Upload

from domain import messages as rules
from resolvers import messages as r
from schema.attachments import uploaded_files
from schema.base import Info, internal_id
from schema.enums import MessageCategory
from schema.messages import Message, MessageThread
from schema.payloads import UserError, user_errors
from schema.summary import Medication
from usecases import messages as usecases


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

    def command(self) -> usecases.SendMessage:
        provider = self.recipient_provider_id
        return usecases.SendMessage(
            patient_id=internal_id(self.patient_id, "Patient"),
            body=self.body,
            thread_id=internal_id(self.thread_id, "MessageThread") if self.thread_id else None,
            category=rules.Category(self.category.value) if self.category else None,
            recipient_provider_id=internal_id(provider, "Provider") if provider else None,
            subject=self.subject,
            attachments=uploaded_files(self.attachments),
            acknowledge_e_visit_billing=self.acknowledge_e_visit_billing,
        )


@strawberry.type
class SendMessagePayload:
    message: Message | None = None
    thread: MessageThread | None = None
    errors: list[SendMessageError] = strawberry.field(default_factory=list)


@strawberry.input
class MarkThreadReadInput:
    thread_id: strawberry.ID

    def command(self) -> usecases.MarkThreadRead:
        return usecases.MarkThreadRead(internal_id(self.thread_id, "MessageThread"))


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

    def command(self) -> usecases.RequestRefill:
        medication_id = internal_id(self.medication_id, "Medication")
        return usecases.RequestRefill(medication_id, self.pharmacy, self.note)


@strawberry.type
class RequestRefillPayload:
    thread: MessageThread | None = None
    medication: Medication | None = None
    errors: list[RequestRefillError] = strawberry.field(default_factory=list)


# -- the mutations ----------------------------------------------------------------------------
@strawberry.type
class MessageMutations:
    @strawberry.mutation(
        description="Start a thread with the care team or reply to one, as the patient or a "
        "proxy with the MESSAGES scope (never a parent of an adolescent). Up to 5 attachments "
        "of 10 MB (configurable) through the GraphQL multipart request spec. Messages are "
        "never edited or deleted; a refused message leaves nothing behind."
    )
    @user_errors(SendMessagePayload, SendMessageError, SendMessageErrorCode)
    async def send_message(self, info: Info, input: SendMessageInput) -> SendMessagePayload:
        sent, grant = await r.send_message(info.context, input.command())
        return SendMessagePayload(
            message=Message.from_row(sent.message, grant),
            thread=MessageThread.from_row(sent.thread, grant),
        )

    @strawberry.mutation(
        description="Mark a thread read for the viewer only (unread counts are per reader)."
    )
    @user_errors(MarkThreadReadPayload, SendMessageError, SendMessageErrorCode)
    async def mark_thread_read(
        self, info: Info, input: MarkThreadReadInput
    ) -> MarkThreadReadPayload:
        thread, grant = await r.mark_thread_read(info.context, input.command())
        return MarkThreadReadPayload(thread=MessageThread.from_row(thread, grant))

    @strawberry.mutation(
        description="Ask the prescriber for a refill: a REFILL thread routed to them. Needs the "
        "MEDICATIONS and MESSAGES areas; refused with NO_REFILLS_REMAINING or "
        "MEDICATION_INACTIVE when the prescription cannot be refilled."
    )
    @user_errors(RequestRefillPayload, RequestRefillError, RequestRefillErrorCode)
    async def request_refill(self, info: Info, input: RequestRefillInput) -> RequestRefillPayload:
        refill, grant = await r.request_refill(info.context, input.command())
        return RequestRefillPayload(
            thread=MessageThread.from_row(refill.thread, grant),
            medication=Medication.from_row(refill.medication, refill.medication_grant),
        )
