"""Secure messages: threads with the care team, their messages, and what the viewer has read."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain.access import PatientGrant
from persistence import models as m
from resolvers import attachments as attachments_r
from resolvers import messages as r
from schema.attachments import Attachment
from schema.base import Connection, Info, Node
from schema.enums import MessageCategory
from schema.people import Provider

if TYPE_CHECKING:
    from schema.patients import Patient
    from schema.results import Result


@strawberry.enum
class SenderKind(Enum):
    PATIENT = "patient"
    PROVIDER = "provider"


@strawberry.type
class MessageSender:
    kind: SenderKind
    name: str


@strawberry.type
class Message(Node):
    body: str
    sent_at: datetime
    sender: MessageSender
    internal_id: strawberry.Private[str]
    thread_id: strawberry.Private[str]
    grant: strawberry.Private[PatientGrant]

    def node_id(self) -> str:
        return self.internal_id

    @strawberry.field(
        description="Whether the viewer has read it. Messages from the patient's side never "
        "count as unread; a provider's message is read once the viewer read its thread past it."
    )
    async def read_by_me(self, info: Info) -> bool | None:
        return await r.read_by_me(info, self)

    @strawberry.field(description="Files sent with the message, in upload order.")
    async def attachments(self, info: Info) -> list[Attachment]:
        return await attachments_r.message_attachments(info, self.grant, self.internal_id)

    @classmethod
    def from_row(cls, row: m.Message, grant: PatientGrant) -> Message:
        return cls(
            internal_id=row.id,
            thread_id=row.thread_id,
            grant=grant,
            body=row.body,
            sent_at=row.sent_at,
            sender=MessageSender(kind=SenderKind(row.sender_kind), name=row.sender_name),
        )


@strawberry.type
class MessageThread(Node):
    subject: str
    category: MessageCategory
    care_team: str | None = strawberry.field(
        description="The pool the thread is addressed to when it has no provider."
    )
    created_at: datetime
    last_message_at: datetime
    internal_id: strawberry.Private[str]
    patient_id: strawberry.Private[str]
    provider_id: strawberry.Private[str | None]
    grant: strawberry.Private[PatientGrant]
    result_id: strawberry.Private[str | None] = None

    def node_id(self) -> str:
        return self.internal_id

    @strawberry.field(
        description="The result this question was asked about (askAboutResult); needs the "
        "RESULTS area too (else null with FORBIDDEN)."
    )
    async def result(
        self, info: Info
    ) -> Annotated[Result, strawberry.lazy("schema.results")] | None:
        from resolvers import result_questions as questions_r

        return await questions_r.thread_result(info, self)

    @strawberry.field(description="The provider the thread is addressed to, if any.")
    async def provider(self, info: Info) -> Provider | None:
        return await Provider.by_id(info, self.provider_id)

    @strawberry.field(description="The patient the thread belongs to (to label a family inbox).")
    async def patient(
        self, info: Info
    ) -> Annotated[Patient, strawberry.lazy("schema.patients")] | None:
        return await r.thread_patient(info, self)

    @strawberry.field(description="Provider messages the viewer has not read yet.")
    async def unread_count(self, info: Info) -> int:
        return await r.thread_unread_count(info, self)

    @strawberry.field(description="Newest first.")
    async def messages(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Message]:
        return await r.thread_messages(info, self, first, after)

    @classmethod
    def from_row(cls, row: m.MessageThread, grant: PatientGrant) -> MessageThread:
        return cls(
            internal_id=row.id,
            patient_id=row.patient_id,
            provider_id=row.provider_id,
            grant=grant,
            subject=row.subject,
            category=MessageCategory(row.category),
            care_team=row.care_team,
            created_at=row.created_at,
            last_message_at=row.last_message_at,
            result_id=row.result_id,
        )
