"""Mail: an outbox table written in the caller's transaction, and a sender that drains it.

A request that sends mail only adds a row (`enqueue_mail`), so the mail exists exactly when
the request's transaction commits, and a slow or broken mail server never fails or loses the
request. `MailSender.drain()` delivers what is due: each row is claimed with a conditional
UPDATE first (any number of instances may drain at once; a row is sent by one of them), and a
failed send leaves the row pending with `attempts` and `last_error`, retried later with
backoff, until `max_attempts` gives up on it (`failed_at`; the row is kept).

Transports: SMTP through aiosmtplib when `SMTP_HOST` is set; otherwise (development, demo)
each mail is written as an .eml file under `MAIL_DIR`, and the log says where.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Protocol, cast

import aiosmtplib
from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.clock import Clock
from persistence import models as m
from persistence.db import retry_while_unavailable

log = logging.getLogger(__name__)

CLAIM_FOR = timedelta(minutes=5)  # a sender that died mid-send frees its rows after this
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)


def enqueue_mail(session: AsyncSession, *, to: str, subject: str, body: str, now: datetime) -> None:
    """Add a mail to the outbox, in the caller's transaction: it is sent only if that commits."""
    session.add(
        m.OutgoingMail(
            id=m.new_id("mail"),
            to_address=to,
            subject=subject[:300],
            body=body,
            created_at=now,
            next_attempt_at=now,
            claimed_until=None,
            attempts=0,
            last_error=None,
            sent_at=None,
            failed_at=None,
        )
    )


@dataclass(frozen=True)
class MailSettings:
    smtp_host: str | None = None  # None: write .eml files under `directory` instead
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_tls: str = "auto"  # auto (STARTTLS if offered) | starttls | tls | none
    sender: str = "Patient Portal <no-reply@portal.invalid>"
    directory: str = "var/mail"
    drain_seconds: float = 5.0
    max_attempts: int = 10
    timeout_seconds: float = 30.0

    def describe(self) -> str:
        if self.smtp_host:
            return f"mail goes to SMTP {self.smtp_host}:{self.smtp_port}"
        return f"mail is written as .eml files under {Path(self.directory).resolve()}"


class MailTransport(Protocol):
    async def send(self, message: EmailMessage) -> str:
        """Deliver one message or raise; returns where it went (for the log)."""


class SmtpTransport:
    def __init__(self, settings: MailSettings) -> None:
        if settings.smtp_host is None:
            raise ValueError("an SMTP transport needs settings.smtp_host")
        self._settings = settings

    async def send(self, message: EmailMessage) -> str:
        s = self._settings
        await aiosmtplib.send(
            message,
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username,
            password=s.smtp_password,
            use_tls=s.smtp_tls == "tls",
            start_tls={"auto": None, "starttls": True}.get(s.smtp_tls, False),
            timeout=s.timeout_seconds,
        )
        return f"smtp://{s.smtp_host}:{s.smtp_port}"


class DirectoryTransport:
    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    async def send(self, message: EmailMessage) -> str:
        name = str(message["Message-ID"]).strip("<>").split("@", 1)[0]
        path = self.directory / f"{name}.eml"
        await asyncio.to_thread(self._write, path, message.as_bytes())
        return str(path)

    def _write(self, path: Path, content: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def transport_for(settings: MailSettings) -> MailTransport:
    return SmtpTransport(settings) if settings.smtp_host else DirectoryTransport(settings.directory)


@dataclass(frozen=True)
class DrainReport:
    sent: int = 0
    failed: int = 0  # attempts that failed this time (rows stay pending or are given up)


def _message(row: m.OutgoingMail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Date"] = format_datetime(row.created_at)
    # Stable per row: a retry after a send that did arrive can be recognised as a duplicate.
    message["Message-ID"] = f"<{row.id}@portal.invalid>"
    message.set_content(row.body)
    return message


def _retry_after(attempts: int) -> timedelta:
    delay: timedelta = FIRST_RETRY * (2 ** max(0, attempts - 1))
    return min(delay, LONGEST_RETRY)


async def _changed(session: AsyncSession, statement: Any) -> int:
    result = await session.execute(statement.execution_options(synchronize_session=False))
    return cast(CursorResult[Any], result).rowcount


class MailSender:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        transport: MailTransport,
        clock: Clock,
        settings: MailSettings,
    ) -> None:
        self._sessions = sessions
        self.transport = transport
        self._clock = clock
        self.settings = settings
        self._task: asyncio.Task[None] | None = None
        self._draining = asyncio.Lock()
        self._stopping = asyncio.Event()

    def start(self) -> None:
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self._run(), name="mail-sender")

    async def close(self, grace_seconds: float = 10.0) -> None:
        """Stop after the mail being sent now is recorded (a send cut short between the
        server's OK and our UPDATE would be sent again); cancel if that takes too long."""
        if self._task is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait_for(self._task, grace_seconds)
        except TimeoutError:
            log.warning("mail sender did not stop within %.0f s; cancelled", grace_seconds)
        finally:
            self._task = None

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.drain(stop=self._stopping)
            except Exception:  # the database may be briefly away: the rows wait for the next try
                log.exception("mail drain failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.settings.drain_seconds)

    async def drain(self, limit: int = 100, stop: asyncio.Event | None = None) -> DrainReport:
        """Send every mail that is due now; one bad mail does not hold up the others."""
        async with self._draining:
            now = self._clock.now()
            sent = failed = 0
            for mail_id in await self._due(now, limit):
                if stop is not None and stop.is_set():
                    break
                row = await self._claim(mail_id, now)
                if row is None:
                    continue  # another sender has it
                if await self._send(row, now):
                    sent += 1
                else:
                    failed += 1
            return DrainReport(sent, failed)

    async def _due(self, now: datetime, limit: int) -> list[str]:
        o = m.OutgoingMail
        stmt = (
            select(o.id)
            .where(o.sent_at.is_(None), o.failed_at.is_(None), o.next_attempt_at <= now)
            .where(or_(o.claimed_until.is_(None), o.claimed_until <= now))
            .order_by(o.next_attempt_at, o.created_at)
            .limit(limit)
        )
        async with self._sessions() as session:
            return list((await session.execute(stmt)).scalars())

    async def _claim(self, mail_id: str, now: datetime) -> m.OutgoingMail | None:
        o = m.OutgoingMail
        claim = (
            update(o)
            .where(o.id == mail_id, o.sent_at.is_(None), o.failed_at.is_(None))
            .where(or_(o.claimed_until.is_(None), o.claimed_until <= now))
            .values(claimed_until=now + CLAIM_FOR)
        )
        async with self._sessions() as session, session.begin():
            if await _changed(session, claim) != 1:
                return None
            return (await session.execute(select(o).where(o.id == mail_id))).scalar_one()

    async def _send(self, row: m.OutgoingMail, now: datetime) -> bool:
        attempts = row.attempts + 1
        values: dict[str, Any] = {"attempts": attempts, "claimed_until": None}
        try:
            where = await self.transport.send(_message(row, self.settings.sender))
        except Exception as exc:
            # The mail server's words, without the message itself; addresses stay in the row.
            values["last_error"] = f"{type(exc).__name__}: {exc}"[:500]
            if attempts >= self.settings.max_attempts:
                values["failed_at"] = now
                log.error("mail %s given up after %d attempts: %s", row.id, attempts, exc)
            else:
                values["next_attempt_at"] = now + _retry_after(attempts)
                log.warning("mail %s not sent (attempt %d), will retry: %s", row.id, attempts, exc)
            ok = False
        else:
            values.update(sent_at=now, last_error=None)
            log.info("mail %s sent to %s", row.id, where)
            ok = True

        async def record() -> None:
            async with self._sessions() as session, session.begin():
                await session.execute(
                    update(m.OutgoingMail).where(m.OutgoingMail.id == row.id).values(values)
                )

        # The mail is out: if the database went away meanwhile, wait for it rather than leave
        # the row claimed, to be sent a second time once the claim lapses.
        await retry_while_unavailable(record, f"recording mail {row.id}")
        return ok


def build_mail_sender(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, settings: MailSettings
) -> MailSender:
    return MailSender(sessions, transport_for(settings), clock, settings)
