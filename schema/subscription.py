"""The root Subscription: what open clients are told as it happens (DESIGN section 5)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Annotated

import strawberry

from resolvers import subscriptions as r
from schema.appointment_requests import AppointmentRequest
from schema.appointments import Appointment
from schema.base import Info
from schema.messages import Message, MessageThread
from schema.notes import NoteEvent
from schema.notifications import Notification
from schema.results import Result

if TYPE_CHECKING:
    from schema.patient import Patient

SEQ = (
    "The event's sequence id. Keep the last one received: after a reconnect, pass it as "
    "`afterSeq` to receive first, in order, every event missed since, then live ones."
)
AFTER_SEQ = (
    "Resume: first deliver, in order, the events after this `seq` (from durable storage), "
    "then live ones, with no gap and no duplicate. Omitted: live events from now on. Events "
    "are kept for a retention period (72 hours by default); a `seq` older than that ends the "
    "stream with RESUME_WINDOW_PASSED: refetch with queries and subscribe without `afterSeq`."
)
PATIENT_ID = "One patient; omitted: every patient the viewer may read this part of."
ENDS = (
    " The stream ends with an error (UNAUTHENTICATED) when the access token expires, and "
    "(FORBIDDEN, with the reason) when the viewer may no longer read this for a patient it "
    "covers, e.g. a revoked or expired proxy grant."
)

PatientField = Annotated["Patient", strawberry.lazy("schema.patient")]
PatientArg = Annotated[strawberry.ID | None, strawberry.argument(description=PATIENT_ID)]
AfterSeqArg = Annotated[strawberry.ID | None, strawberry.argument(description=AFTER_SEQ)]


@strawberry.type(description="A new message in a patient's thread.")
class MessageEvent:
    seq: strawberry.ID = strawberry.field(description=SEQ)
    patient_id: strawberry.Private[str]

    @strawberry.field(description="The patient it is about.")
    async def patient(self, info: Info) -> PatientField:
        return await r.event_patient(info, self.patient_id)

    message: Message
    thread: MessageThread


@strawberry.type(description="A result that was released to the patient (and their proxies).")
class ResultEvent:
    seq: strawberry.ID = strawberry.field(description=SEQ)
    patient_id: strawberry.Private[str]

    @strawberry.field(description="The patient it is about.")
    async def patient(self, info: Info) -> PatientField:
        return await r.event_patient(info, self.patient_id)

    result: Result


@strawberry.type(description="An appointment that was booked, moved, cancelled or updated.")
class AppointmentEvent:
    seq: strawberry.ID = strawberry.field(description=SEQ)
    patient_id: strawberry.Private[str]

    @strawberry.field(description="The patient it is about.")
    async def patient(self, info: Info) -> PatientField:
        return await r.event_patient(info, self.patient_id)

    appointment: Appointment


@strawberry.type(
    description="An appointment request that was made, withdrawn, or answered by the clinic."
)
class AppointmentRequestEvent:
    seq: strawberry.ID = strawberry.field(description=SEQ)
    patient_id: strawberry.Private[str]

    @strawberry.field(description="The patient it is about.")
    async def patient(self, info: Info) -> PatientField:
        return await r.event_patient(info, self.patient_id)

    request: AppointmentRequest


@strawberry.type(description="A new notification for the viewer.")
class NotificationEvent:
    seq: strawberry.ID = strawberry.field(description=SEQ)
    notification: Notification


@strawberry.type
class Subscription:
    @strawberry.subscription(description="New messages in patients' threads." + ENDS)
    def message_received(
        self,
        info: Info,
        patient_id: PatientArg = None,
        after_seq: AfterSeqArg = None,
    ) -> AsyncIterator[MessageEvent]:
        return r.message_received(info, patient_id, after_seq)

    @strawberry.subscription(description="Results released to the patient." + ENDS)
    def result_released(
        self,
        info: Info,
        patient_id: PatientArg = None,
        after_seq: AfterSeqArg = None,
    ) -> AsyncIterator[ResultEvent]:
        return r.result_released(info, patient_id, after_seq)

    @strawberry.subscription(description="Appointments booked, moved or cancelled." + ENDS)
    def appointment_changed(
        self,
        info: Info,
        patient_id: PatientArg = None,
        after_seq: AfterSeqArg = None,
    ) -> AsyncIterator[AppointmentEvent]:
        return r.appointment_changed(info, patient_id, after_seq)

    @strawberry.subscription(
        description="Clinical notes signed or amended. A note the policy withholds from the "
        "viewer (a sensitive category not opened to it, a note the patient hid) is not "
        "delivered." + ENDS
    )
    def note_signed(
        self,
        info: Info,
        patient_id: PatientArg = None,
        after_seq: AfterSeqArg = None,
    ) -> AsyncIterator[NoteEvent]:
        return r.note_signed(info, patient_id, after_seq)

    @strawberry.subscription(
        description="Appointment requests made, withdrawn, scheduled or declined." + ENDS
    )
    def appointment_request_changed(
        self,
        info: Info,
        patient_id: PatientArg = None,
        after_seq: AfterSeqArg = None,
    ) -> AsyncIterator[AppointmentRequestEvent]:
        return r.appointment_request_changed(info, patient_id, after_seq)

    @strawberry.subscription(
        description="New notifications for the viewer (every patient it follows)."
        " The stream ends with an error (UNAUTHENTICATED) when the access token expires."
    )
    def notification_added(
        self,
        info: Info,
        after_seq: AfterSeqArg = None,
    ) -> AsyncIterator[NotificationEvent]:
        return r.notification_added(info, after_seq)
