"""Subscriptions: each checked event (runtime/realtime/streams.py) as the rows it names.

The stream has already checked the subscriber against the policy and set the context for
the event (fresh principal, time and loaders, shared by the account's subscriptions
delivering the same event, so its objects are read once for them all); the rows are
loaded through the same access checks and loaders as a query, so what a subscriber sees is
what a query would show it now. An event whose object is not visible (a result held at the
patient's request, a notification about a patient the viewer no longer follows) is skipped.
schema/subscription.py turns each delivery into its payload type.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass
from typing import TypeVar

from domain.access import PatientGrant, note_withheld
from domain.events import EventKind
from domain.realtime import BusEvent
from domain.scopes import RecordArea, SensitiveCategory
from persistence import models as m
from persistence.queries import owned
from resolvers import results as results_r
from resolvers.notifications import feed_grants
from runtime import metrics
from runtime.context import Context, SocketContext, Unauthenticated
from runtime.realtime import streams

T = TypeVar("T")


# -- what a subscription delivers: the event's seq and the rows it names -----------------
@dataclass(frozen=True)
class MessageDelivery:
    seq: int
    grant: PatientGrant
    message: m.Message
    thread: m.MessageThread


@dataclass(frozen=True)
class ResultDelivery:
    seq: int
    result: results_r.Found  # released (with the patient's holds and the release policy)


@dataclass(frozen=True)
class AppointmentDelivery:
    seq: int
    grant: PatientGrant
    appointment: m.Appointment


@dataclass(frozen=True)
class AppointmentRequestDelivery:
    seq: int
    grant: PatientGrant
    request: m.AppointmentRequest


@dataclass(frozen=True)
class NoteDelivery:
    seq: int
    grant: PatientGrant
    note: m.ClinicalNote


@dataclass(frozen=True)
class NotificationDelivery:
    seq: int
    notification: m.Notification


def subscriber(ctx: Context) -> SocketContext:
    """The context of a WebSocket connection with an access token, or UNAUTHENTICATED."""
    if not isinstance(ctx, SocketContext) or ctx.socket is None:
        raise Unauthenticated("Subscriptions need a WebSocket connection with an access token.")
    return ctx


async def _deliveries(
    ctx: SocketContext,
    operation: str,
    spec: streams.Spec,
    load: Callable[[SocketContext, BusEvent], Awaitable[T | None]],
) -> AsyncGenerator[T, None]:
    async with aclosing(streams.events(ctx, spec, operation)) as events:
        async for event in events:
            async with ctx.services.realtime.deliveries:
                delivery = await load(ctx, event)
            if delivery is not None:  # a skipped event is not delivered
                metrics.subscription_delivered(spec.kind.value)
                yield delivery
            del event, delivery  # an idle subscription keeps no rows of its last event


async def _message(ctx: Context, event: BusEvent) -> MessageDelivery | None:
    grant = ctx.access(event.patient_id or "", RecordArea.MESSAGES, "Message")
    row = await ctx.loaders.message.get((grant, event.object_id))
    if row is None:
        return None
    thread = await ctx.loaders.thread.get((grant, row.thread_id))
    if thread is None:
        return None
    return MessageDelivery(event.seq, grant, row, thread)


async def _result(ctx: Context, event: BusEvent) -> ResultDelivery | None:
    grant = ctx.access(event.patient_id or "", RecordArea.RESULTS, "Result")
    row = await ctx.loaders.result_by_id.get((grant, event.object_id))
    if row is None:
        return None
    found = await results_r.result(ctx, row, grant)
    return ResultDelivery(event.seq, found) if found.release.released else None


async def _appointment(ctx: Context, event: BusEvent) -> AppointmentDelivery | None:
    grant = ctx.access(event.patient_id or "", RecordArea.APPOINTMENTS, "Appointment")
    row = await ctx.loaders.appointment.get((grant, event.object_id))
    return None if row is None else AppointmentDelivery(event.seq, grant, row)


async def _appointment_request(ctx: Context, event: BusEvent) -> AppointmentRequestDelivery | None:
    grant = ctx.access(event.patient_id or "", RecordArea.APPOINTMENTS, "AppointmentRequest")
    async with ctx.loaders.session() as session:
        rows = await owned.owned_by_id(session, m.AppointmentRequest, [grant], [event.object_id])
    return AppointmentRequestDelivery(event.seq, grant, rows[0]) if rows else None


async def _notification(ctx: Context, event: BusEvent) -> NotificationDelivery | None:
    """The viewer's own notification, while it may still read what it is about."""
    account_id = ctx.require_principal().account_id
    row = await ctx.loaders.notification.get((account_id, feed_grants(ctx), event.object_id))
    return None if row is None else NotificationDelivery(event.seq, row)


async def _note(ctx: Context, event: BusEvent) -> NoteDelivery | None:
    """A note withheld from this subscriber now (a category not opened to it, hidden by the
    patient meanwhile) is skipped; the area itself is checked by the stream."""
    grant = ctx.access(event.patient_id or "", RecordArea.CLINICAL_NOTES, "ClinicalNote")
    row = await ctx.loaders.note.get((grant, event.object_id))
    if row is None:
        return None
    category = SensitiveCategory(row.sensitive_category) if row.sensitive_category else None
    if note_withheld(grant, category, row.hidden_from_proxies) is not None:
        return None
    return NoteDelivery(event.seq, grant, row)


def message_received(
    ctx: SocketContext, operation: str, patient_id: str | None, after: int | None
) -> AsyncGenerator[MessageDelivery, None]:
    spec = streams.Spec(EventKind.MESSAGE_RECEIVED, RecordArea.MESSAGES, patient_id, after)
    return _deliveries(ctx, operation, spec, _message)


def result_released(
    ctx: SocketContext, operation: str, patient_id: str | None, after: int | None
) -> AsyncGenerator[ResultDelivery, None]:
    spec = streams.Spec(EventKind.RESULT_RELEASED, RecordArea.RESULTS, patient_id, after)
    return _deliveries(ctx, operation, spec, _result)


def appointment_changed(
    ctx: SocketContext, operation: str, patient_id: str | None, after: int | None
) -> AsyncGenerator[AppointmentDelivery, None]:
    spec = streams.Spec(EventKind.APPOINTMENT_CHANGED, RecordArea.APPOINTMENTS, patient_id, after)
    return _deliveries(ctx, operation, spec, _appointment)


def note_signed(
    ctx: SocketContext, operation: str, patient_id: str | None, after: int | None
) -> AsyncGenerator[NoteDelivery, None]:
    spec = streams.Spec(EventKind.NOTE_SIGNED, RecordArea.CLINICAL_NOTES, patient_id, after)
    return _deliveries(ctx, operation, spec, _note)


def appointment_request_changed(
    ctx: SocketContext, operation: str, patient_id: str | None, after: int | None
) -> AsyncGenerator[AppointmentRequestDelivery, None]:
    kind, area = EventKind.APPOINTMENT_REQUEST_CHANGED, RecordArea.APPOINTMENTS
    return _deliveries(
        ctx, operation, streams.Spec(kind, area, patient_id, after), _appointment_request
    )


def notification_added(
    ctx: SocketContext, operation: str, after: int | None
) -> AsyncGenerator[NotificationDelivery, None]:
    spec = streams.Spec(EventKind.NOTIFICATION_ADDED, None, None, after)
    return _deliveries(ctx, operation, spec, _notification)
