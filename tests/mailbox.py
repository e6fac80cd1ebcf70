"""A real SMTP server on a free loopback port (aiosmtpd) for tests that read what was mailed.

with smtp_server() as mailbox:
    use_mailbox(portal, mailbox)          # the app's sender now talks SMTP to it
    ...                                   # mutations enqueue mail
    await deliver(portal)                 # drain the outbox, as the background task would
    [mail] = mailbox.to("someone@example.org")
"""

from __future__ import annotations

import logging
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from persistence.mail import DrainReport, MailSender, MailSettings, SmtpTransport
from tests.conftest import Portal

# aiosmtpd logs every connection from its own thread, which may outlive the test whose
# captured stream a log handler holds ("I/O operation on closed file"). Nothing to read there.
logging.getLogger("mail.log").addHandler(logging.NullHandler())
logging.getLogger("mail.log").propagate = False


class Mailbox:
    """The aiosmtpd handler: keeps every message it accepts; can refuse on demand."""

    def __init__(self) -> None:
        self.port = 0
        self.received: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refusing = False  # answer every recipient with a permanent failure
        self.arrived = threading.Event()  # set by each accepted message
        self._lock = threading.Lock()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.refusing:
            return "550 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self._lock:
            self.received.append(parsed)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.arrived.set()
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.received if m["To"] == address]

    def clear(self) -> None:
        with self._lock:
            self.received.clear()
            self.envelopes.clear()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    mailbox = Mailbox()
    mailbox.port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()


def smtp_settings(port: int, **overrides: Any) -> MailSettings:
    return replace(
        MailSettings(smtp_host="127.0.0.1", smtp_port=port, smtp_tls="none", timeout_seconds=5),
        **overrides,
    )


def use_mailbox(portal: Portal, mailbox: Mailbox, **overrides: Any) -> MailSender:
    """Point the app's mail sender at `mailbox`'s SMTP server."""
    settings = smtp_settings(mailbox.port, **overrides)
    services = portal.services
    services.mail = MailSender(services.sessions, SmtpTransport(settings), services.clock, settings)
    return services.mail


async def deliver(portal: Portal) -> DrainReport:
    return await portal.services.mail.drain()


def body_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def code_in(message: EmailMessage, pattern: str = r"\b(\d{6,8})\b") -> str:
    """The first code in a mail's body (verification codes, tokens: pass a pattern)."""
    found = re.search(pattern, body_of(message))
    assert found is not None, body_of(message)
    return found.group(1)
