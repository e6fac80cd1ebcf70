"""What a message event's delivery reads: the message and its thread in one statement
(loaders/messages.py, `MessageByIdLoader` hands each thread to the thread loader): one round
trip less between a commit and its subscribers (issue 12, fan-out latency)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from domain import access
from domain.events import EventKind
from domain.scopes import RecordArea
from loaders import Loaders
from persistence import models as m
from persistence.queries.people import principal_in_session
from runtime.context import SocketContext, SocketSession
from runtime.realtime import streams
from runtime.services import build_services
from tests.conftest import ACCOUNT_IDS, ALEX, NOW, TRANSACTION_CONTROL, Database, settings_for
from tests.realtime.conftest import statements_sent


async def test_a_message_and_its_thread_are_one_statement(seeded_db: Database) -> None:
    services = build_services(settings_for(seeded_db.url))
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(services.engine.sync_engine, "before_cursor_execute", seen)
    try:
        async with services.session() as session:
            found = await principal_in_session(session, ACCOUNT_IDS[ALEX], None, NOW)
            assert found is not None
            principal = found.principal
            ages = services.settings.ages
            patients = [
                c.patient_id
                for c in access.patient_contexts(principal, ages)
                if c.area(RecordArea.MESSAGES).allowed
            ]
            message_id, thread_id, patient_id = (
                await session.execute(
                    select(m.Message.id, m.Message.thread_id, m.MessageThread.patient_id)
                    .join(m.MessageThread, m.MessageThread.id == m.Message.thread_id)
                    .where(m.MessageThread.patient_id.in_(patients))
                    .order_by(m.Message.id)
                    .limit(1)
                )
            ).one()
        grant = access.access_patient(principal, patient_id, RecordArea.MESSAGES, ages)
        loaders = Loaders(services)
        before = len(statements)
        message = await loaders.message.get((grant, message_id))
        assert message is not None
        assert message.thread_id == thread_id
        read = len(statements)
        assert read == before + 1
        thread = await loaders.thread.get((grant, thread_id))
        assert thread is not None
        assert thread.id == thread_id
        assert thread.patient_id == patient_id
        assert len(statements) == read  # the thread came with its message
        # Another patient's grant does not find it there (nor would it in the database).
        others = [p for p in patients if p != patient_id]
        if others:
            other = access.access_patient(principal, others[0], RecordArea.MESSAGES, ages)
            assert await loaders.thread.get((other, thread_id)) is None
    finally:
        event.remove(services.engine.sync_engine, "before_cursor_execute", seen)
        await services.engine.dispose()


async def test_an_events_subscriber_and_object_are_read_without_transaction_control(
    seeded_db: Database,
) -> None:
    """Between an event's commit and its first send: the subscriber (one statement) and the
    event's object (one statement), each read in autocommit on PostgreSQL: no BEGIN and
    ROLLBACK round trips around either (four fewer in the chain)."""
    if not seeded_db.url.startswith("postgresql"):
        pytest.skip("transaction control as PostgreSQL sees it: PostgreSQL only")
    services = build_services(settings_for(seeded_db.url))
    try:
        async with services.session() as session:
            message_id, patient_id = (
                await session.execute(
                    select(m.Message.id, m.MessageThread.patient_id)
                    .join(m.MessageThread, m.MessageThread.id == m.Message.thread_id)
                    .where(
                        m.MessageThread.patient_id
                        == select(m.Account.patient_id)
                        .where(m.Account.id == ACCOUNT_IDS[ALEX])
                        .scalar_subquery()
                    )
                    .order_by(m.Message.id)
                    .limit(1)
                )
            ).one()
        now = datetime.now(UTC)
        context = SocketContext(services=services, request=None, request_id="test", now=now)
        expires = now + timedelta(hours=1)
        context.socket = SocketSession(ACCOUNT_IDS[ALEX], None, expires)
        spec = streams.Spec(EventKind.MESSAGE_RECEIVED, RecordArea.MESSAGES, patient_id, None)
        stream = streams._Stream(context, spec, "Watch")
        with statements_sent(services.engine) as sent:
            principal, view = await stream.at_event(1)
            grant = access.access_patient(
                principal, patient_id, RecordArea.MESSAGES, services.settings.ages
            )
            assert await view.loaders.message.get((grant, message_id)) is not None
        assert len(sent) == 2, sent  # the subscriber, the message with its thread
        assert not [q for q in sent if q.lstrip().upper().startswith(TRANSACTION_CONTROL)]
    finally:
        await services.engine.dispose()
