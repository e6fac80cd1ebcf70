"""What one subscription delivers: live events, and first what it missed, each checked at
delivery against the access policy for this subscriber as of that moment.

The seam between what was missed and what is live (no gap, no duplicate):
1. the listener is registered with the broker first, so every event published from then on
   is queued for it;
2. then the outbox is read: everything after the client's `afterSeq` (or, for a new
   subscription, the current last seq is taken as the starting point);
3. then the queue is drained, skipping every seq at or below the last one delivered.
Seq order is commit order (persistence/outbox_order.py) and the publisher publishes in seq
order, so a live event with a seq above the last delivered one is always new. A listener
whose broker link dropped, or that fell behind, gets RESYNC and repeats step 2.

Ending: the stream ends with an error (then `complete`) when the access token expires or
its session ends (signed out, here or elsewhere: UNAUTHENTICATED), or when the subscriber
may no longer read that part of a patient's record it covers (FORBIDDEN, with the reason:
a revoked or expired grant, an age rule).
That is checked for every event before it is delivered, and while idle at the next instant
access could change on its own (a grant's end, a birthday) or every `recheck_seconds`.
It also ends (RESUME_WINDOW_PASSED) when the client's `afterSeq` is below the outbox's
pruned-through watermark (persistence/outbox_retention.py): what it missed may be gone,
and it must refetch rather than resume with a gap. Catching up after a RESYNC is not
checked: a live listener missed only the events of a broker outage or of falling behind,
hours younger than anything pruned (unpublished events are never pruned).

Widening: a subscription without a patientId covers every patient the viewer may read that
part of; one the viewer gains while it is open (an invitation accepted) joins at the next
idle recheck, its events since the last delivered seq replayed first.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterator
from contextlib import aclosing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain import access
from domain.access import AccessDenied, Principal
from domain.events import EventKind
from domain.realtime import (
    BusEvent,
    ResumeWindowPassed,
    account_channel,
    next_change,
    patient_channel,
)
from domain.scopes import RecordArea
from loaders import Loaders
from persistence import outbox_feed, outbox_retention
from persistence.queries.people import principal_in_session
from runtime.context import SocketContext, SocketSession, Unauthenticated
from runtime.realtime.broker import RESYNC, Listener
from runtime.realtime.sharing import View

REPLAY_BATCH = 200
_MISSING = object()
EXPIRED = "Your session has expired. Sign in again and resubscribe with afterSeq to catch up."
ENDED = "Your session has ended (signed out). Sign in again to subscribe."


@dataclass(frozen=True)
class Spec:
    kind: EventKind
    area: RecordArea | None  # None: addressed to the account (notifications)
    patient_id: str | None  # None: every patient the viewer may read `area` of
    after: int | None  # resume after this seq


@contextmanager
def _naming(area: RecordArea) -> Iterator[None]:
    """A refusal names the area, as a refused query field does."""
    try:
        yield
    except AccessDenied as denied:
        if denied.area is None:
            raise AccessDenied(denied.reason, area) from None
        raise


class _Stream:
    __slots__ = (
        "context",
        "deadline",
        "last",
        "operation",
        "patients",
        "services",
        "socket",
        "spec",
    )

    def __init__(self, context: SocketContext, spec: Spec, operation: str) -> None:
        if context.socket is None:
            raise Unauthenticated()
        self.context = context
        self.socket: SocketSession = context.socket
        self.services = context.services
        self.spec = spec
        self.operation = operation
        self.patients: list[str] = []
        self.last = 0
        self.deadline = context.now

    # -- who may see what, now ------------------------------------------------------------
    async def principal(self) -> tuple[Principal, datetime]:
        """The subscriber as of now, from the database; the token must still be good."""
        now = self.services.clock.now()
        return self.valid(await self.load(self.fresh(now)), now)

    async def at_event(self, seq: int) -> tuple[Principal, View]:
        """The subscriber as of now and the loaders to read the event `seq` with, both shared
        with this account's other subscriptions delivering it (runtime/realtime/sharing.py)."""
        now = self.fresh(self.services.clock.now())

        async def load() -> View:
            async with self.services.realtime.deliveries:
                return View(await self.load(now), now, Loaders(self.services, reads=True))

        key = (self.socket.account_id, self.socket.session_id, seq)
        view = await self.services.realtime.views.get(key, now, load)
        return self.valid(view.principal, view.now)[0], view

    def fresh(self, now: datetime) -> datetime:
        if now >= self.socket.token_expires_at:
            raise Unauthenticated(EXPIRED)
        return now

    async def load(self, now: datetime) -> Principal | None:
        """One statement: on PostgreSQL read in autocommit (no BEGIN and ROLLBACK round
        trips between an event's commit and its deliveries)."""
        socket = self.socket
        async with self.services.read_sessions() as session:
            found = await principal_in_session(session, socket.account_id, socket.session_id, now)
        return None if found is None else found.principal

    @staticmethod
    def valid(principal: Principal | None, now: datetime) -> tuple[Principal, datetime]:
        if principal is None:  # the session ended (signed out, elsewhere too) or the account went
            raise Unauthenticated(ENDED)
        return principal, now

    def check(self, principal: Principal, view: View | None = None) -> datetime:
        """Raise AccessDenied if a covered patient is no longer readable; else when to look
        again while idle. With the event's `view`, worked out once for the subscriptions of
        the account that cover the same patients."""
        settings = self.services.settings
        deadline = min(
            principal.now + timedelta(seconds=settings.realtime.recheck_seconds),
            self.socket.token_expires_at,
        )
        if self.spec.area is not None:
            with _naming(self.spec.area):
                change = self._next_change(principal, self.spec.area, view)
            if change is not None:
                deadline = min(deadline, change)
        self.deadline = deadline
        return deadline

    def _next_change(
        self, principal: Principal, area: RecordArea, view: View | None
    ) -> datetime | None:
        ages = self.services.settings.ages
        if view is None:
            return next_change(principal, self.patients, area, ages)
        key = ("next_change", area, tuple(self.patients))
        found = view.shared.get(key, _MISSING)
        if found is _MISSING:
            try:
                found = next_change(principal, self.patients, area, ages)
            except AccessDenied as denied:
                found = denied
            view.shared[key] = found
        if isinstance(found, AccessDenied):
            raise AccessDenied(found.reason, found.area)  # afresh for each subscription
        return found  # type: ignore[no-any-return]

    def cover(self, principal: Principal) -> list[str]:
        spec, ages = self.spec, self.services.settings.ages
        if spec.area is None:
            return [account_channel(principal.account_id)]
        if spec.patient_id is not None:
            with _naming(spec.area):
                access.access_patient(principal, spec.patient_id, spec.area, ages)  # FORBIDDEN
            self.patients = [spec.patient_id]
        else:
            contexts = access.patient_contexts(principal, ages)
            self.patients = [c.patient_id for c in contexts if c.area(spec.area).allowed]
        return [patient_channel(patient_id) for patient_id in self.patients]

    def widen(self, principal: Principal, listener: Listener) -> bool:
        """Without a patientId, a patient the viewer may newly read (an invitation accepted,
        a grant that began) joins the stream at its next recheck; True if one did."""
        if self.spec.area is None or self.spec.patient_id is not None:
            return False
        ages, area = self.services.settings.ages, self.spec.area
        readable = [
            c.patient_id
            for c in access.patient_contexts(principal, ages)
            if c.area(area).allowed and c.patient_id not in self.patients
        ]
        if not readable:
            return False
        self.patients = [*self.patients, *readable]
        self.services.realtime.broker.retune(listener, [patient_channel(p) for p in self.patients])
        return True

    def wanted(self, event: BusEvent) -> bool:
        if event.kind is not self.spec.kind:
            return False
        if self.spec.area is None:
            return event.account_id == self.socket.account_id
        return event.patient_id in self.patients

    # -- the stream -------------------------------------------------------------------------
    async def run(self) -> AsyncGenerator[BusEvent, None]:
        principal, _now = await self.principal()
        try:
            channels = self.cover(principal)
        except AccessDenied as denied:  # a refused read, audited like one over HTTP
            denied.patient_id = self.spec.patient_id
            self.context.audit_refused(denied, "subscription")
            self.services.audit.submit(self.context.take_audit(self.operation))
            raise
        async with self.services.realtime.broker.listen(channels) as listener:
            start = await self.last_seq()
            # A seq beyond the last committed one (a client's mistake) would skip live events.
            self.last = start if self.spec.after is None else min(self.spec.after, start)
            catch_up = self.spec.after is not None
            # Replaying after the client's own afterSeq: what it missed must still be kept.
            resuming = catch_up
            self.check(principal)
            # Not kept while idle (about 1.5 KB with its grants): each recheck loads its own.
            del principal
            while True:
                if catch_up:
                    missed = await self.missed(resuming)
                    for event in missed:
                        async with aclosing(self.deliver(event)) as one:
                            async for delivered in one:
                                yield delivered
                    catch_up = len(missed) == REPLAY_BATCH
                    resuming = resuming and catch_up
                    continue
                wait = (self.deadline - self.services.clock.now()).total_seconds()
                item = await listener.get(max(wait, 0.0))
                if item is None:  # idle: has anything changed on its own?
                    catch_up = await self.recheck(listener)
                elif item is RESYNC:
                    catch_up = True
                elif isinstance(item, BusEvent) and item.seq > self.last:
                    async with aclosing(self.deliver(item)) as one:
                        async for delivered in one:
                            yield delivered

    async def recheck(self, listener: Listener) -> bool:
        """Idle: has anything changed on its own? True: a patient was gained, whose events
        since `last` are to be caught up. In a frame of its own: the principal is not kept."""
        principal, _now = await self.principal()
        self.check(principal)
        if self.widen(principal, listener):
            self.check(principal)  # the new patient's age rules count too
            return True  # and its events since `last`
        return False

    async def last_seq(self) -> int:
        """In a frame of its own: the idle stream keeps no session."""
        async with self.services.session() as session:
            return await outbox_feed.last_seq(session)

    async def missed(self, resuming: bool) -> list[BusEvent]:
        """The next events after `self.last` from the outbox. `resuming` (the client's
        afterSeq): raise ResumeWindowPassed if events after it may have been pruned. The
        watermark is read after the events, so a prune committed in between is noticed."""
        principal, _now = await self.principal()
        self.check(principal)
        spec, after = self.spec, self.last
        async with self.services.session() as session:
            if spec.area is None:
                missed = await outbox_feed.missed_for_account(
                    session, principal.account_id, spec.kind, after, REPLAY_BATCH
                )
            elif not self.patients:
                missed = []
            else:
                ages = self.services.settings.ages
                grants = [
                    access.access_patient(principal, p, spec.area, ages) for p in self.patients
                ]
                missed = await outbox_feed.missed_for_patients(
                    session, grants, spec.area, spec.kind, after, REPLAY_BATCH
                )
            if resuming:
                watermark = await outbox_retention.pruned_through(session)
                if after < watermark:
                    raise ResumeWindowPassed(after, watermark)
        return missed

    async def deliver(self, event: BusEvent) -> AsyncGenerator[BusEvent, None]:
        """Check, then hand the event over for execution; one event per connection at a time."""
        self.last = max(self.last, event.seq)
        if not self.wanted(event):
            return
        async with self.socket.lock:
            principal, view = await self.at_event(event.seq)
            self.check(principal, view)
            # Joins the view's gathering.
            self.context.begin_event(view, self.operation, event.committed)
            try:
                yield event
            finally:
                self.context.leave_gathering()  # if it ended unsent: nobody waits for it
            # A delivered event's audit was written before it was sent (AuditDeliveries);
            # what is left is that of an event skipped unsent (its object not visible).
            self.services.audit.submit(self.context.take_audit(self.operation))
            self.context.end_event()  # nothing of the event kept while idle


def events(context: SocketContext, spec: Spec, operation: str) -> AsyncGenerator[BusEvent, None]:
    """The events of one subscription, each checked and ready to be turned into a payload
    (the context is set for it: principal, time, loaders)."""
    return _Stream(context, spec, operation).run()
