"""Secure messages: threads with the care team, their messages, what the viewer has read, and
what a new message would cost (`Patient.messagingTerms`)."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain import messages as rules
from domain.access import PatientGrant
from resolvers import attachments as attachments_r
from resolvers import messages as r
from resolvers import results as results_r
from schema.attachments import Attachment
from schema.base import Connection, Info, Node, cursor_values, internal_id, page_size
from schema.construct import enum_of, maker
from schema.enums import MessageCategory
from schema.money import Money
from schema.people import Provider

if TYPE_CHECKING:
    from persistence import models as m
    from persistence.queries.messages import MessageRow, ThreadRow
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
        from_provider = self.sender.kind is SenderKind.PROVIDER
        return await r.read_by_me(
            info.context, self.grant, self.thread_id, from_provider, self.sent_at
        )

    @strawberry.field(description="Files sent with the message, in upload order.")
    async def attachments(self, info: Info) -> list[Attachment]:
        rows = await attachments_r.message_attachments(info.context, self.grant, self.internal_id)
        return [Attachment.from_row(row) for row in rows]

    @classmethod
    async def fetch_node(cls, info: Info, row_id: str) -> Message | None:
        """node(id): access is checked on its thread's patient first."""
        found = await r.message(info.context, row_id)
        return cls.from_row(*found) if found else None

    @classmethod
    def from_row(cls, row: m.Message | MessageRow, grant: PatientGrant) -> Message:
        return _message(
            row.id,
            row.thread_id,
            grant,
            row.body,
            row.sent_at,
            _sender(_sender_kind(row.sender_kind), row.sender_name),
        )


# Positional, in this order (schema/construct.py): ~15 messages a dashboard.
_message = maker(Message, "internal_id", "thread_id", "grant", "body", "sent_at", "sender")
_sender = maker(MessageSender, "kind", "name")
_sender_kind = enum_of(SenderKind)


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
        from schema.results import Result

        if self.result_id is None:
            return None
        found = await results_r.thread_result(info.context, self.patient_id, self.result_id)
        return Result.from_found(found) if found else None

    @strawberry.field(description="The provider the thread is addressed to, if any.")
    async def provider(self, info: Info) -> Provider | None:
        return await Provider.by_id(info, self.provider_id)

    @strawberry.field(description="The patient the thread belongs to (to label a family inbox).")
    async def patient(
        self, info: Info
    ) -> Annotated[Patient, strawberry.lazy("schema.patients")] | None:
        from schema.patients import Patient

        return await Patient.of(info, self.patient_id)

    @strawberry.field(description="Provider messages the viewer has not read yet.")
    async def unread_count(self, info: Info) -> int:
        return await r.thread_unread_count(info.context, self.grant, self.internal_id)

    @strawberry.field(description="Newest first.")
    async def messages(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Message]:
        found = await r.thread_messages(
            info.context,
            self.grant,
            self.internal_id,
            page_size(first),
            cursor_values(after, list(r.CURSOR)),
        )
        return Connection.of_each(found, Message.from_row, self.grant)

    @classmethod
    async def fetch_node(cls, info: Info, row_id: str) -> MessageThread | None:
        found = await r.thread(info.context, row_id)
        return cls.from_row(*found) if found else None

    @classmethod
    def from_row(cls, row: m.MessageThread | ThreadRow, grant: PatientGrant) -> MessageThread:
        return _thread(
            row.id,
            row.patient_id,
            row.provider_id,
            grant,
            row.subject,
            _category(row.category),
            row.care_team,
            row.created_at,
            row.last_message_at,
            row.result_id,
        )


_thread = maker(
    MessageThread,
    "internal_id",
    "patient_id",
    "provider_id",
    "grant",
    "subject",
    "category",
    "care_team",
    "created_at",
    "last_message_at",
    "result_id",
)
_category = enum_of(MessageCategory)


# -- the terms of a new message ----------------------------------------------------------
@strawberry.enum
class RecipientKind(Enum):
    PROVIDER = "provider"
    POOL = "pool"


@strawberry.type(
    description="Shown before sending a new message: whether the answer may be billed as an "
    "e-visit, and by when a reply is expected (business days; weekends skipped)."
)
class MessagingTerms:
    category: MessageCategory
    recipient_kind: RecipientKind
    billed_as_e_visit: bool = strawberry.field(name="billedAsEVisit")
    estimated_charge: Money | None = strawberry.field(
        description="The organisation's estimate, when it publishes one."
    )
    billing_notice: str | None = strawberry.field(
        description="To show the sender; sendMessage then needs acknowledgeEVisitBilling."
    )
    expected_reply_business_days: int
    expected_reply_by: date

    @classmethod
    def of(cls, terms: rules.Terms, category: MessageCategory, currency: str) -> MessagingTerms:
        charge = terms.estimated_charge_cents
        return cls(
            category=category,
            recipient_kind=RecipientKind(terms.recipient_kind.value),
            billed_as_e_visit=terms.billed_as_evisit,
            estimated_charge=Money.cents(charge, currency) if charge is not None else None,
            billing_notice=terms.billing_notice,
            expected_reply_business_days=terms.reply_business_days,
            expected_reply_by=terms.reply_by,
        )


# -- the lists other types show (Patient, Viewer) -----------------------------------------
async def patient_threads(
    info: Info,
    grant: PatientGrant,
    unread_only: bool | None,
    first: int | None,
    after: str | None,
    messages: int | None = None,
) -> Connection[MessageThread]:
    """`messages`: the page size of messages the query asks of each thread, loaded with the
    threads (schema/lookahead.py), or None."""
    found = await r.patient_threads(
        info.context,
        grant,
        bool(unread_only),
        page_size(first),
        cursor_values(after, list(r.CURSOR)),
        messages,
    )
    return Connection.of_each(found, MessageThread.from_row, grant)


async def patient_unread_count(info: Info, grant: PatientGrant) -> int:
    return await r.patient_unread_count(info.context, grant)


async def inbox(
    info: Info, unread_only: bool | None, first: int | None, after: str | None
) -> Connection[MessageThread]:
    """Every patient whose messages the viewer may read, each under its own rules."""
    found, grants = await r.inbox(
        info.context, bool(unread_only), page_size(first), cursor_values(after, list(r.CURSOR))
    )
    return Connection.of(found, lambda row: MessageThread.from_row(row, grants[row.patient_id]))


def messaging_terms(
    info: Info,
    grant: PatientGrant,
    category: MessageCategory,
    recipient_provider_id: strawberry.ID | None,
) -> MessagingTerms:
    provider_id = internal_id(recipient_provider_id, "Provider") if recipient_provider_id else None
    terms = r.messaging_terms(info.context, grant, rules.Category(category.value), provider_id)
    return MessagingTerms.of(terms, category, info.context.services.settings.messaging.currency)
