"""SMS and push notifications: an outbox drained to sender interfaces after commit.

`notify()` adds a `notification_deliveries` row in the caller's transaction, so a text or a
push exists exactly when the change it tells about commits, and a slow or failing gateway
never fails the request. `DeliveryDispatcher.drain()` (a background task of the app, every
`interval` seconds) sends what is pending: each row is claimed with a conditional UPDATE
(several instances may drain at once; a row is sent by one of them), then marked sent, or
kept with its error for the next round until `max_attempts`.

The gateways are interfaces (`SmsSender`, `PushSender`); the SMS default only logs that a
message would go out, with the number masked. A push row is one device (`destination` is its
id): the sender (portal/push) reaches Web Push, APNs or FCM; a device the service reports gone
is forgotten, any other failure is tried again after a growing wait (`next_attempt_at`). The
texts carry no PHI (domain rule).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.clock import Clock
from domain.devices import DeviceAddress, DeviceGone, PushFailed, PushMessage, backoff
from domain.notification_channels import Channel
from persistence import models as m
from persistence.db import retry_while_unavailable
from persistence.devices import device_by_id, forget_device, mark_used

log = logging.getLogger(__name__)


class SmsSender(Protocol):
    async def send_sms(self, to: str, text: str) -> None:
        """Send one text message or raise."""


class PushSender(Protocol):
    async def send_push(self, device: DeviceAddress, message: PushMessage) -> None:
        """Push one message to one device; raise DeviceGone if the service says it no longer
        exists, PushFailed (or anything) to try again later."""


def mask(phone: str) -> str:
    return f"***{phone[-4:]}" if len(phone) > 4 else "***"


class LoggingSmsSender:
    async def send_sms(self, to: str, text: str) -> None:
        log.info("SMS to %s: %s", mask(to), text)


class LoggingPushSender:
    async def send_push(self, device: DeviceAddress, message: PushMessage) -> None:
        log.info("push to a %s device: %s", device.platform.value, message.body)


def enqueue_delivery(
    session: AsyncSession,
    *,
    account_id: str,
    channel: Channel,
    kind: str,
    destination: str | None,
    text: str,
    now: datetime,
    link: str | None = None,
) -> None:
    """Add an SMS (to a number) or a push (to a device id) to the outbox, in the caller's
    transaction."""
    session.add(
        m.NotificationDelivery(
            id=m.new_id("dlv"),
            account_id=account_id,
            channel=channel.value,
            kind=kind,
            destination=destination,
            text=text[:300],
            created_at=now,
            attempts=0,
            last_error=None,
            sent_at=None,
            failed_at=None,
            link=link,
            next_attempt_at=None,
        )
    )


async def _changed(session: AsyncSession, statement: Any) -> int:
    result = await session.execute(statement.execution_options(synchronize_session=False))
    return cast(CursorResult[Any], result).rowcount


class DeliveryDispatcher:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        sms: SmsSender | None = None,
        push: PushSender | None = None,
        interval: float = 5.0,
        max_attempts: int = 5,
        retry_base: timedelta = timedelta(seconds=30),
        retry_cap: timedelta = timedelta(minutes=30),
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self.sms: SmsSender = sms or LoggingSmsSender()
        self.push: PushSender = push or LoggingPushSender()
        self._interval = interval
        self._max_attempts = max_attempts
        self._retry = (retry_base, retry_cap)
        self._task: asyncio.Task[None] | None = None
        self._draining = asyncio.Lock()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="notification-deliveries")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.drain()
            except Exception:  # the database may be briefly away: rows wait for the next round
                log.exception("notification delivery drain failed")
            await asyncio.sleep(self._interval)

    async def drain(self, limit: int = 100) -> int:
        """Send what is pending; returns how many went out."""
        async with self._draining:
            d = m.NotificationDelivery
            due = or_(d.next_attempt_at.is_(None), d.next_attempt_at <= self._clock.now())
            stmt = (
                select(d.id, d.attempts)
                .where(d.sent_at.is_(None), d.failed_at.is_(None), due)
                .order_by(d.created_at, d.id)
                .limit(limit)
            )
            async with self._sessions() as session:
                pending = list((await session.execute(stmt)).all())
            sent = 0
            for delivery_id, attempts in pending:
                row = await self._claim(delivery_id, attempts)
                if row is not None and await self._send(row):
                    sent += 1
            return sent

    async def _claim(self, delivery_id: str, attempts: int) -> m.NotificationDelivery | None:
        d = m.NotificationDelivery
        claim = (
            update(d)
            .where(d.id == delivery_id, d.sent_at.is_(None), d.attempts == attempts)
            .values(attempts=attempts + 1)
        )
        async with self._sessions() as session, session.begin():
            if await _changed(session, claim) != 1:
                return None  # another dispatcher has it
            return (await session.execute(select(d).where(d.id == delivery_id))).scalar_one()

    async def _send(self, row: m.NotificationDelivery) -> bool:
        now = self._clock.now()
        values: dict[str, Any]
        try:
            if row.channel == Channel.SMS.value:
                await self.sms.send_sms(row.destination or "", row.text)
            else:
                await self._push(row, now)
        except DeviceGone:
            values, ok = {"failed_at": now, "last_error": "device gone"}, False
        except Exception as exc:
            values = {"last_error": f"{type(exc).__name__}: {exc}"[:300]}
            wait = backoff(row.attempts, *self._retry)
            if isinstance(exc, PushFailed) and exc.retry_after is not None:
                wait = max(wait, min(exc.retry_after, self._retry[1]))
            values["next_attempt_at"] = now + wait
            if row.attempts >= self._max_attempts:
                values["failed_at"] = now
            log.warning("%s delivery %s failed (attempt %d)", row.channel, row.id, row.attempts)
            ok = False
        else:
            values, ok = {"sent_at": now, "last_error": None}, True

        async def record() -> None:
            async with self._sessions() as session, session.begin():
                await session.execute(
                    update(m.NotificationDelivery)
                    .where(m.NotificationDelivery.id == row.id)
                    .values(values)
                )

        # Sent: wait out a database outage rather than leave it unsent, to be sent again.
        await retry_while_unavailable(record, f"recording {row.channel} delivery {row.id}")
        return ok

    async def _push(self, row: m.NotificationDelivery, now: datetime) -> None:
        device_id = row.destination or ""
        async with self._sessions() as session:
            device = await device_by_id(session, device_id)
        if device is None:
            raise DeviceGone()  # unregistered since the notification was written
        try:
            await self.push.send_push(device.target, PushMessage(link=row.link))
        except DeviceGone:
            log.info("push service reports device %s gone: forgetting it", device_id)
            async with self._sessions() as session, session.begin():
                await forget_device(session, device_id, now, "gone")
            raise
        async with self._sessions() as session, session.begin():
            await mark_used(session, device_id, now)
