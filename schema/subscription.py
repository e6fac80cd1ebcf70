"""The root Subscription: what open clients are told as it happens (DESIGN section 5).

resolvers/subscriptions.py streams the rows each checked event names; the types here turn
them into payloads (the arguments are decoded here first, after the connection's check).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from typing import TYPE_CHECKING, Annotated, Any, Self, TypeVar

import strawberry
from graphql import ExecutionResult, OperationType

from domain.realtime import parse_seq
from resolvers import subscriptions as r
from runtime import metrics
from runtime.context import SocketContext
from runtime.realtime.sharing import operation_sender
from schema.appointment_requests import AppointmentRequest
from schema.appointments import Appointment
from schema.base import BadInput, Info, internal_id
from schema.execution import PortalExecutionContext
from schema.messages import Message, MessageThread
from schema.notes import ClinicalNote, NoteEvent
from schema.notifications import Notification
from schema.patients import Patient
from schema.results import Result

if TYPE_CHECKING:
    from graphql.pyutils import AwaitableOrValue

    from runtime.context import AuditNotes
    from runtime.realtime.sharing import OperationSender, View
    from schema.patients import Patient

D = TypeVar("D")
P = TypeVar("P")
Open = Callable[[SocketContext, str, str | None, int | None], AsyncGenerator[D, None]]

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

PatientField = Annotated["Patient", strawberry.lazy("schema.patients")]
PatientArg = Annotated[strawberry.ID | None, strawberry.argument(description=PATIENT_ID)]
AfterSeqArg = Annotated[strawberry.ID | None, strawberry.argument(description=AFTER_SEQ)]


@strawberry.type(description="A new message in a patient's thread.")
class MessageEvent:
    seq: strawberry.ID = strawberry.field(description=SEQ)
    patient_id: strawberry.Private[str]

    @strawberry.field(description="The patient it is about.")
    async def patient(self, info: Info) -> PatientField:
        return await Patient.of(info, self.patient_id)

    message: Message
    thread: MessageThread

    @classmethod
    def of(cls, d: r.MessageDelivery) -> Self:
        return cls(
            seq=_seq(d.seq),
            patient_id=d.grant.patient_id,
            message=Message.from_row(d.message, d.grant),
            thread=MessageThread.from_row(d.thread, d.grant),
        )


@strawberry.type(description="A result that was released to the patient (and their proxies).")
class ResultEvent:
    seq: strawberry.ID = strawberry.field(description=SEQ)
    patient_id: strawberry.Private[str]

    @strawberry.field(description="The patient it is about.")
    async def patient(self, info: Info) -> PatientField:
        return await Patient.of(info, self.patient_id)

    result: Result

    @classmethod
    def of(cls, d: r.ResultDelivery, info: Info) -> Self:
        result = Result.from_found(d.result)
        return cls(seq=_seq(d.seq), patient_id=d.result.grant.patient_id, result=result)


@strawberry.type(description="An appointment that was booked, moved, cancelled or updated.")
class AppointmentEvent:
    seq: strawberry.ID = strawberry.field(description=SEQ)
    patient_id: strawberry.Private[str]

    @strawberry.field(description="The patient it is about.")
    async def patient(self, info: Info) -> PatientField:
        return await Patient.of(info, self.patient_id)

    appointment: Appointment

    @classmethod
    def of(cls, d: r.AppointmentDelivery, info: Info) -> Self:
        appointment = Appointment.from_row(d.appointment, d.grant, info)
        return cls(seq=_seq(d.seq), patient_id=d.grant.patient_id, appointment=appointment)


@strawberry.type(
    description="An appointment request that was made, withdrawn, or answered by the clinic."
)
class AppointmentRequestEvent:
    seq: strawberry.ID = strawberry.field(description=SEQ)
    patient_id: strawberry.Private[str]

    @strawberry.field(description="The patient it is about.")
    async def patient(self, info: Info) -> PatientField:
        return await Patient.of(info, self.patient_id)

    request: AppointmentRequest

    @classmethod
    def of(cls, d: r.AppointmentRequestDelivery) -> Self:
        request = AppointmentRequest.from_row(d.request, d.grant)
        return cls(seq=_seq(d.seq), patient_id=d.grant.patient_id, request=request)


@strawberry.type(description="A new notification for the viewer.")
class NotificationEvent:
    seq: strawberry.ID = strawberry.field(description=SEQ)
    notification: Notification

    @classmethod
    def of(cls, d: r.NotificationDelivery) -> Self:
        return cls(seq=_seq(d.seq), notification=Notification.from_row(d.notification))


def _note_event(d: r.NoteDelivery) -> NoteEvent:
    note = ClinicalNote.from_row(d.note, d.grant)
    return NoteEvent(seq=_seq(d.seq), patient_id=d.grant.patient_id, note=note)


def _seq(seq: int) -> strawberry.ID:
    return strawberry.ID(str(seq))


async def _payloads(
    info: Info,
    open_: Open[D],
    patient_id: strawberry.ID | None,
    after_seq: strawberry.ID | None,
    payload: Callable[[D], P],
) -> AsyncGenerator[P, None]:
    """The subscriber is checked first, then its arguments decoded, then the stream opened."""
    ctx = r.subscriber(info.context)
    after = None
    if after_seq is not None:
        try:
            after = parse_seq(after_seq)
        except ValueError:
            raise BadInput("`afterSeq` must be the `seq` of an event you received.") from None
    patient = internal_id(patient_id, "Patient") if patient_id is not None else None
    operation = info.operation.name.value if info.operation.name else info.field_name
    sender = operation_sender.get()  # None: not served by portal/sockets.py (tests)
    async with aclosing(open_(ctx, operation, patient, after)) as deliveries:
        async for delivery in deliveries:
            taken = None if sender is None else await _taken(info, ctx)
            if taken is None or sender is None:
                # Executed by graphql-core (this subscription's own answer, or the first
                # of an alike group's: SharedEventExecution), sent by the socket's loop.
                yield _payload_of(ctx, delivery, payload)
            elif not await _send_taken(ctx, taken, sender):
                return  # the socket is closed
            del delivery  # an idle subscription keeps no rows of its last event
            # Sent. The event's other deliveries were released with this one (their audit
            # written together): let them be sent before this one's bookkeeping (the
            # stream's, the gathering's, the wait for the next event), so the last of 100
            # sends does not wait for 99 subscriptions' bookkeeping too.
            await asyncio.sleep(0)


async def _taken(info: Info, ctx: SocketContext) -> Executed:
    """The answer an alike subscription sharing the event's view executed (the same
    operation of the same document, the same variables: `SharedEventExecution`'s rule),
    once it has; None: this one executes (it is the first, or the answer is not shared)."""
    view = ctx.event_view
    if view is None:
        return None
    future = _alike(view, info.operation, info.variable_values)
    if future is None:
        return None
    return future.result() if future.done() else await asyncio.shield(future)


async def _send_taken(
    ctx: SocketContext, taken: tuple[dict[str, Any], AuditNotes], sender: OperationSender
) -> bool:
    """What `SharedEventExecution` and the socket would do with an answer taken from an
    alike subscription, without passing it through graphql-core's per-event executor,
    strawberry's per-result pipeline and the socket's loop: the audit of what the
    execution read recorded as this delivery's, written (with its gathering's) before the
    send (`AuditDeliveries`), then the frame. False: the socket is closed."""
    data, notes = taken
    ctx.add_audit_notes(notes)
    await ctx.write_event_audit()
    if not await sender.send_data(data):
        return False
    metrics.subscription_sent(ctx.event_committed)
    return True


def _payload_of(ctx: SocketContext, delivery: D, payload: Callable[[D], P]) -> P:
    """The payload of an equal delivery (the same rows through the same grant) made by
    another subscription sharing the event's view, else a new one."""
    view = ctx.event_view
    if view is None:
        return payload(delivery)
    key = ("payload", type(delivery))
    made = view.shared.get(key)
    if made is not None and made[0] == delivery:
        return made[1]  # type: ignore[no-any-return]
    made = view.shared[key] = (delivery, payload(delivery))
    return made[1]


def _notifications(
    ctx: SocketContext, operation: str, patient_id: str | None, after: int | None
) -> AsyncGenerator[r.NotificationDelivery, None]:
    return r.notification_added(ctx, operation, after)  # the viewer's own: no patient


@strawberry.type
class Subscription:
    @strawberry.subscription(description="New messages in patients' threads." + ENDS)
    def message_received(
        self,
        info: Info,
        patient_id: PatientArg = None,
        after_seq: AfterSeqArg = None,
    ) -> AsyncIterator[MessageEvent]:
        return _payloads(info, r.message_received, patient_id, after_seq, MessageEvent.of)

    @strawberry.subscription(description="Results released to the patient." + ENDS)
    def result_released(
        self,
        info: Info,
        patient_id: PatientArg = None,
        after_seq: AfterSeqArg = None,
    ) -> AsyncIterator[ResultEvent]:
        return _payloads(
            info, r.result_released, patient_id, after_seq, lambda d: ResultEvent.of(d, info)
        )

    @strawberry.subscription(description="Appointments booked, moved or cancelled." + ENDS)
    def appointment_changed(
        self,
        info: Info,
        patient_id: PatientArg = None,
        after_seq: AfterSeqArg = None,
    ) -> AsyncIterator[AppointmentEvent]:
        return _payloads(
            info,
            r.appointment_changed,
            patient_id,
            after_seq,
            lambda d: AppointmentEvent.of(d, info),
        )

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
        return _payloads(info, r.note_signed, patient_id, after_seq, _note_event)

    @strawberry.subscription(
        description="Appointment requests made, withdrawn, scheduled or declined." + ENDS
    )
    def appointment_request_changed(
        self,
        info: Info,
        patient_id: PatientArg = None,
        after_seq: AfterSeqArg = None,
    ) -> AsyncIterator[AppointmentRequestEvent]:
        return _payloads(
            info, r.appointment_request_changed, patient_id, after_seq, AppointmentRequestEvent.of
        )

    @strawberry.subscription(
        description="New notifications for the viewer (every patient it follows)."
        " The stream ends with an error (UNAUTHENTICATED) when the access token expires."
    )
    def notification_added(
        self,
        info: Info,
        after_seq: AfterSeqArg = None,
    ) -> AsyncIterator[NotificationEvent]:
        return _payloads(info, _notifications, None, after_seq, NotificationEvent.of)


# An executed event: its data and the audit its execution recorded; None: not to be shared
# (it had errors, or failed), so each subscription executes it for itself.
Executed = tuple[dict[str, Any], "AuditNotes"] | None


def _alike(
    view: View, operation: Any, variables: dict[str, Any]
) -> asyncio.Future[Executed] | None:
    """The answer, executed or under way, of the operation asked with these variables by a
    subscription delivering the view's event; None: none has been asked for yet."""
    alike: list[tuple[Any, dict[str, Any], asyncio.Future[Executed]]]
    alike = view.shared.get(("executed", id(operation)), [])
    return next(
        (future for other, values, future in alike if other is operation and values == variables),
        None,
    )


class SharedEventExecution(PortalExecutionContext):
    """One event's payload executed once for the subscriptions of one viewer asking the
    same thing (the same operation of the same cached document, the same variables).

    The subscriptions of an account delivering an event share its view (the principal and
    loaders as of that instant, runtime/realtime/sharing.py), so executing the same
    selection over the same event gives the same answer; the first executes it and the
    others take its data. Each has already checked its own coverage and token, read the
    event's object through the policy (`resolvers/subscriptions.py`), and records the
    audit of what the execution read as its own (`add_audit_notes`), written before its
    event is sent like any other (`AuditDeliveries`). An answer with errors is not shared:
    each executes it and reports its errors itself. HTTP operations, and anything outside
    an event, take `PortalExecutionContext`'s path unchanged."""

    def execute_operation(self, serially: bool | None = None) -> AwaitableOrValue[Any]:
        context = self.context_value
        view = context.event_view if isinstance(context, SocketContext) else None
        if view is None or self.operation.operation is not OperationType.SUBSCRIPTION:
            return super().execute_operation(serially)
        return self._shared(view, context, serially)

    async def _shared(self, view: View, context: SocketContext, serially: bool | None) -> Any:
        operation, variables = self.operation, self.variable_values.coerced
        future = _alike(view, operation, variables)
        if future is not None:
            theirs = await asyncio.shield(future)
            if theirs is None:
                return await self._own(serially)
            data, notes = theirs
            context.add_audit_notes(notes)
            return ExecutionResult(data, None)
        future = asyncio.get_running_loop().create_future()
        view.shared.setdefault(("executed", id(operation)), []).append(
            (operation, variables, future)
        )
        executed: Executed = None
        try:
            result = await self._own(serially)
            if isinstance(result, ExecutionResult) and not result.errors and result.data:
                executed = (result.data, context.audit_notes())
            return result
        finally:
            future.set_result(executed)

    async def _own(self, serially: bool | None) -> Any:
        result = super().execute_operation(serially)
        return await result if self.is_awaitable(result) else result
