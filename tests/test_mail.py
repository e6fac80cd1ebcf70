"""The mail outbox and its sender, against a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy import select

from persistence import models as m
from persistence.mail import (
    DirectoryTransport,
    MailSender,
    MailSettings,
    enqueue_mail,
    transport_for,
)
from runtime.config import ConfigError, from_env
from tests.conftest import NOW, Portal
from tests.mailbox import body_of, deliver, free_port, smtp_server, use_mailbox

TO = "someone@example.org"


async def _enqueue(portal: Portal, *, to: str = TO, commit: bool = True, n: int = 1) -> None:
    async with portal.services.sessions() as session:
        for i in range(n):
            enqueue_mail(session, to=to, subject=f"Hello {i}", body=f"Body {i}\n", now=NOW)
        if commit:
            await session.commit()


async def _rows(portal: Portal) -> list[m.OutgoingMail]:
    async with portal.services.sessions() as session:
        stmt = select(m.OutgoingMail).order_by(m.OutgoingMail.subject)
        return list((await session.execute(stmt)).scalars())


async def test_an_enqueued_mail_arrives_by_smtp(fresh_portal: Portal) -> None:
    with smtp_server() as mailbox:
        use_mailbox(fresh_portal, mailbox)
        await _enqueue(fresh_portal)
        report = await deliver(fresh_portal)
        assert (report.sent, report.failed) == (1, 0)
        [mail] = mailbox.to(TO)
        assert mail["Subject"] == "Hello 0"
        assert body_of(mail) == "Body 0\n"
        assert mailbox.envelopes[0][1] == [TO]
        [row] = await _rows(fresh_portal)
        assert (row.sent_at, row.attempts, row.last_error) == (NOW, 1, None)
        # Sent once: draining again sends nothing more.
        assert (await deliver(fresh_portal)).sent == 0
        assert len(mailbox.received) == 1


async def test_a_rolled_back_request_sends_no_mail(fresh_portal: Portal) -> None:
    with smtp_server() as mailbox:
        use_mailbox(fresh_portal, mailbox)
        await _enqueue(fresh_portal, commit=False)
        assert (await deliver(fresh_portal)).sent == 0
        assert mailbox.received == []
        assert await _rows(fresh_portal) == []


async def test_a_failed_send_stays_pending_and_is_retried_later(fresh_portal: Portal) -> None:
    # Nothing listens on this port: the send fails, the row keeps the mail and the error.
    nowhere = free_port()
    with smtp_server() as mailbox:
        down = use_mailbox(fresh_portal, mailbox, smtp_port=nowhere)
        await _enqueue(fresh_portal)
        assert (await down.drain()).failed == 1
        [row] = await _rows(fresh_portal)
        assert row.sent_at is None
        assert row.failed_at is None
        assert row.attempts == 1
        assert row.last_error
        assert row.next_attempt_at > NOW

        use_mailbox(fresh_portal, mailbox)  # the server is back
        assert (await deliver(fresh_portal)).sent == 0  # not due yet
        fresh_portal.clock.advance(timedelta(minutes=1))
        assert (await deliver(fresh_portal)).sent == 1
        [_mail] = mailbox.to(TO)
        [row] = await _rows(fresh_portal)
        assert row.attempts == 2
        assert row.sent_at is not None
        assert row.last_error is None


async def test_a_refused_mail_is_given_up_after_max_attempts_and_kept(
    fresh_portal: Portal,
) -> None:
    with smtp_server() as mailbox:
        mailbox.refusing = True
        use_mailbox(fresh_portal, mailbox, max_attempts=3)
        await _enqueue(fresh_portal)
        for _ in range(3):
            assert (await deliver(fresh_portal)).failed == 1
            fresh_portal.clock.advance(timedelta(hours=1))
        [row] = await _rows(fresh_portal)
        assert row.attempts == 3
        assert row.failed_at is not None
        assert row.last_error is not None
        assert "550" in row.last_error
        assert (await deliver(fresh_portal)) == (await deliver(fresh_portal))
        assert (await _rows(fresh_portal))[0].attempts == 3  # no more tries
        assert mailbox.received == []


async def test_one_bad_mail_does_not_hold_up_the_others(fresh_portal: Portal) -> None:
    with smtp_server() as mailbox:
        use_mailbox(fresh_portal, mailbox)
        await _enqueue(fresh_portal, to="not an address")
        await _enqueue(fresh_portal, to=TO)
        report = await deliver(fresh_portal)
        assert (report.sent, report.failed) == (1, 1)
        assert len(mailbox.to(TO)) == 1


async def test_concurrent_senders_send_each_mail_once(fresh_portal: Portal) -> None:
    with smtp_server() as mailbox:
        first = use_mailbox(fresh_portal, mailbox)
        second = use_mailbox(fresh_portal, mailbox)  # another instance, same database
        await _enqueue(fresh_portal, n=6)
        reports = await asyncio.gather(first.drain(), second.drain())
        assert sum(r.sent for r in reports) == 6
        assert sorted(str(x["Subject"]) for x in mailbox.received) == [
            f"Hello {i}" for i in range(6)
        ]


async def test_without_smtp_mail_is_written_as_eml_files(
    fresh_portal: Portal, tmp_path: Path
) -> None:
    settings = MailSettings(directory=str(tmp_path / "mail"))
    transport = transport_for(settings)
    assert isinstance(transport, DirectoryTransport)
    services = fresh_portal.services
    services.mail = MailSender(services.sessions, transport, services.clock, settings)
    await _enqueue(fresh_portal)
    assert (await deliver(fresh_portal)).sent == 1
    [path] = (tmp_path / "mail").glob("*.eml")
    mail = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert mail["To"] == TO
    assert mail["Subject"] == "Hello 0"
    assert str(tmp_path / "mail") in settings.describe()


def test_mail_settings_from_the_environment() -> None:
    assert from_env({}).mail.smtp_host is None
    mail = from_env({"SMTP_HOST": "smtp.internal", "SMTP_PORT": "2525"}).mail
    assert (mail.smtp_host, mail.smtp_port) == ("smtp.internal", 2525)
    assert "smtp.internal:2525" in mail.describe()
    production = {
        "PORTAL_ENV": "production",
        "JWT_SECRET": "j" * 40,
        "INTEGRATION_TOKEN": "i" * 40,
    }
    with pytest.raises(ConfigError, match="SMTP_HOST"):
        from_env(production)
    assert from_env({**production, "SMTP_HOST": "smtp.internal"}).mail.smtp_host


async def test_the_app_drains_the_outbox_in_the_background(fresh_portal: Portal) -> None:
    from portal.app import create_app

    with smtp_server() as mailbox:
        use_mailbox(fresh_portal, mailbox, drain_seconds=0.05)
        app = create_app(services=fresh_portal.services)
        async with app.router.lifespan_context(app):
            await _enqueue(fresh_portal)
            # The background task, not the test, sends it.
            assert await asyncio.to_thread(mailbox.arrived.wait, 10)
        assert len(mailbox.to(TO)) == 1
        [row] = await _rows(fresh_portal)
        assert row.sent_at is not None
