"""Subscriptions: turn each checked event (runtime/realtime/streams.py) into its payload.

The stream has already checked the subscriber against the policy and set the context for
the event (fresh principal, time and loaders, shared by the account's subscriptions
delivering the same event, so its objects are read once for them all); the payload is
loaded through the same access checks and loaders as a query, so what a subscriber sees is
what a query would show it now. An event whose object is not visible (a result held at the
patient's request, a notification about a patient the viewer no longer follows) is skipped.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
from typing import TYPE_CHECKING, TypeVar

from domain.access import AccessDenied
from domain.events import EventKind
from domain.realtime import BusEvent, parse_seq
from domain.scopes import RecordArea
from persistence import models as m
from persistence.queries import owned
from resolvers import notes as notes_r
from resolvers import patients as patients_r
from resolvers import results as results_r
from runtime import metrics
from runtime.context import SocketContext, Unauthenticated
from runtime.realtime import streams
from schema import subscription as s
from schema.appointment_requests import AppointmentRequest
from schema.appointments import Appointment
from schema.base import BadInput, internal_id
from schema.messages import Message, MessageThread
from schema.notes import NoteEvent
from schema.notifications import Notification
from schema.results import Result

if TYPE_CHECKING:
    import strawberry

    from schema.base import Info
    from schema.patient import Patient

T = TypeVar("T")


def _seq(event: BusEvent) -> strawberry.ID:
    import strawberry

    return strawberry.ID(str(event.seq))


def _spec(
    kind: EventKind,
    area: RecordArea | None,
    patient_id: strawberry.ID | None,
    after_seq: strawberry.ID | None,
) -> streams.Spec:
    after = None
    if after_seq is not None:
        try:
            after = parse_seq(after_seq)
        except ValueError:
            raise BadInput("`afterSeq` must be the `seq` of an event you received.") from None
    patient = internal_id(patient_id, "Patient") if patient_id is not None else None
    return streams.Spec(kind, area, patient, after)


async def _payloads(
    info: Info,
    spec: Callable[[], streams.Spec],
    build: Callable[[Info, BusEvent], Awaitable[T | None]],
) -> AsyncGenerator[T, None]:
    context = info.context
    if not isinstance(context, SocketContext) or context.socket is None:
        raise Unauthenticated("Subscriptions need a WebSocket connection with an access token.")
    operation = info.operation.name.value if info.operation.name else info.field_name
    checked = spec()
    async with aclosing(streams.events(context, checked, operation)) as events:
        async for event in events:
            async with context.services.realtime.deliveries:
                payload = await build(info, event)
            if payload is not None:  # a skipped event is not delivered
                metrics.subscription_delivered(checked.kind.value)
                yield payload


async def _message(info: Info, event: BusEvent) -> s.MessageEvent | None:
    ctx = info.context
    grant = ctx.access(event.patient_id or "", RecordArea.MESSAGES, "Message")
    row = await ctx.loaders.message.get((grant, event.object_id))
    if row is None:
        return None
    found = await ctx.loaders.thread.get((grant, row.thread_id))
    if found is None:
        return None
    thread = MessageThread.from_row(found, grant)
    return s.MessageEvent(
        seq=_seq(event),
        patient_id=grant.patient_id,
        message=Message.from_row(row, grant),
        thread=thread,
    )


async def _result(info: Info, event: BusEvent) -> s.ResultEvent | None:
    ctx = info.context
    grant = ctx.access(event.patient_id or "", RecordArea.RESULTS, "Result")
    row = await ctx.loaders.result_by_id.get((grant, event.object_id))
    if row is None:
        return None
    result = Result.from_found(await results_r.result(ctx, row, grant))
    return (
        s.ResultEvent(seq=_seq(event), patient_id=grant.patient_id, result=result)
        if result.released
        else None
    )


async def _appointment(info: Info, event: BusEvent) -> s.AppointmentEvent | None:
    ctx = info.context
    grant = ctx.access(event.patient_id or "", RecordArea.APPOINTMENTS, "Appointment")
    row = await ctx.loaders.appointment.get((grant, event.object_id))
    if row is None:
        return None
    appointment = Appointment.from_row(row, grant, info)
    return s.AppointmentEvent(seq=_seq(event), patient_id=grant.patient_id, appointment=appointment)


async def _appointment_request(info: Info, event: BusEvent) -> s.AppointmentRequestEvent | None:
    ctx = info.context
    grant = ctx.access(event.patient_id or "", RecordArea.APPOINTMENTS, "AppointmentRequest")
    async with ctx.services.session() as session:
        rows = await owned.owned_by_id(session, m.AppointmentRequest, [grant], [event.object_id])
    if not rows:
        return None
    request = AppointmentRequest.from_row(rows[0], grant)
    return s.AppointmentRequestEvent(seq=_seq(event), patient_id=grant.patient_id, request=request)


async def _notification(info: Info, event: BusEvent) -> s.NotificationEvent | None:
    found = await Notification.fetch_node(info, event.object_id)
    if found is None:
        return None
    return s.NotificationEvent(seq=_seq(event), notification=found)


async def _note(info: Info, event: BusEvent) -> NoteEvent | None:
    """A note withheld from this subscriber now (a category not opened to it, hidden by the
    patient meanwhile) is skipped; the area itself is checked by the stream."""
    ctx = info.context
    grant = ctx.access(event.patient_id or "", RecordArea.CLINICAL_NOTES, "ClinicalNote")
    row = await ctx.loaders.note.get((grant, event.object_id))
    if row is None:
        return None
    try:
        note = notes_r.readable(row, grant)
    except AccessDenied:
        return None
    return NoteEvent(seq=_seq(event), patient_id=grant.patient_id, note=note)


async def event_patient(info: Info, patient_id: str) -> Patient:
    return await patients_r.patient(info, patient_id)


def message_received(
    info: Info, patient_id: strawberry.ID | None, after_seq: strawberry.ID | None
) -> AsyncGenerator[s.MessageEvent, None]:
    kind, area = EventKind.MESSAGE_RECEIVED, RecordArea.MESSAGES
    return _payloads(info, lambda: _spec(kind, area, patient_id, after_seq), _message)


def result_released(
    info: Info, patient_id: strawberry.ID | None, after_seq: strawberry.ID | None
) -> AsyncGenerator[s.ResultEvent, None]:
    kind, area = EventKind.RESULT_RELEASED, RecordArea.RESULTS
    return _payloads(info, lambda: _spec(kind, area, patient_id, after_seq), _result)


def appointment_changed(
    info: Info, patient_id: strawberry.ID | None, after_seq: strawberry.ID | None
) -> AsyncGenerator[s.AppointmentEvent, None]:
    kind, area = EventKind.APPOINTMENT_CHANGED, RecordArea.APPOINTMENTS
    return _payloads(info, lambda: _spec(kind, area, patient_id, after_seq), _appointment)


def note_signed(
    info: Info, patient_id: strawberry.ID | None, after_seq: strawberry.ID | None
) -> AsyncGenerator[NoteEvent, None]:
    kind, area = EventKind.NOTE_SIGNED, RecordArea.CLINICAL_NOTES
    return _payloads(info, lambda: _spec(kind, area, patient_id, after_seq), _note)


def appointment_request_changed(
    info: Info, patient_id: strawberry.ID | None, after_seq: strawberry.ID | None
) -> AsyncGenerator[s.AppointmentRequestEvent, None]:
    kind, area = EventKind.APPOINTMENT_REQUEST_CHANGED, RecordArea.APPOINTMENTS
    return _payloads(info, lambda: _spec(kind, area, patient_id, after_seq), _appointment_request)


def notification_added(
    info: Info, after_seq: strawberry.ID | None
) -> AsyncGenerator[s.NotificationEvent, None]:
    kind = EventKind.NOTIFICATION_ADDED
    return _payloads(info, lambda: _spec(kind, None, None, after_seq), _notification)
