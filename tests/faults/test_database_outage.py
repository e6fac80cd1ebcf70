"""PostgreSQL stops under a running app, then comes back.

While it is away, every query and mutation answers a typed 503 (`SERVICE_UNAVAILABLE`,
`Retry-After`) that a client may retry, and a mutation changes nothing. When it is back the
pool serves again by itself, with or without pre-ping: SQLAlchemy invalidates a connection
the server dropped (and the pool's older ones with it), so at most one request sees the
stale connection and answers 503 too. The background senders record what they sent once
the database is back instead of sending it again.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from domain.clock import FixedClock
from persistence import models as m
from persistence.db import create_engine
from persistence.mail import enqueue_mail
from portal.app import create_app
from portal.jobs import reconcile_pending_payments
from runtime.services import Services, build_services
from tests.api.test_billing_actions import OPEN_STATEMENTS, PAY, pay_input
from tests.conftest import ALEX, NOW, Database, Portal, patient_gid, settings_for
from tests.faults.conftest import seeded_on
from tests.realtime.harness import Client, Closed, Server, token_for
from tests.throwaway_pg import ThrowawayPostgres

VIEWER = "{ viewer { account { email } patients { patient { name { display } } } } }"
UPDATE_PHONE = """
mutation U($input: UpdateContactInfoInput!) {
  updateContactInfo(input: $input) { patient { phone } errors { code } }
}
"""
LEAKS = ("Traceback", "asyncpg", "sqlalchemy", "127.0.0.1", "SELECT", "connection")


@pytest.fixture(scope="module")
async def outage_db(cluster: ThrowawayPostgres, dataset_dir: Path) -> Database:
    return await seeded_on(cluster, "outage", dataset_dir)


@pytest.fixture(params=[False, True], ids=["no-pre-ping", "pre-ping"])
async def portal_on(
    request: pytest.FixtureRequest, outage_db: Database, cluster: ThrowawayPostgres
) -> AsyncIterator[Portal]:
    engine = create_engine(outage_db.url, pool_pre_ping=request.param)
    services = build_services(settings_for(outage_db.url), FixedClock(NOW), engine=engine)
    transport = httpx.ASGITransport(app=create_app(services=services))
    async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as client:
        yield Portal(services, client)
    if not cluster.accepting():
        await cluster.start()
    await engine.dispose()


async def post(
    portal: Portal, token: str, query: str, variables: dict[str, Any] | None = None
) -> Any:
    """As Alex, with a token of a session started while the database was up."""
    headers = {"authorization": f"Bearer {token}"}
    body = {"query": query, "variables": variables or {}}
    return await portal.client.post("/graphql", json=body, headers=headers)


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "2"
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert not any(word in response.text for word in LEAKS), response.text


async def phone_of(portal: Portal, patient_id: str) -> str | None:
    async with portal.services.sessions() as session:
        patient = await session.get(m.Patient, patient_id)
        assert patient is not None
        return patient.phone


async def test_queries_and_mutations_answer_503_while_down_and_the_pool_recovers(
    portal_on: Portal, cluster: ThrowawayPostgres
) -> None:
    portal = portal_on
    token = await portal.token(ALEX)
    assert (await post(portal, token, VIEWER)).status_code == 200
    async with portal.services.sessions() as session:
        alex = await session.get(m.Account, "acc-0000001")
        assert alex is not None
        assert alex.patient_id is not None
        patient_id = alex.patient_id
    before = await phone_of(portal, patient_id)

    await cluster.stop()
    assert_unavailable(await post(portal, token, VIEWER))
    assert_unavailable(await post(portal, token, VIEWER))  # and again: no connection to reuse
    change = {"input": {"patientId": patient_gid(patient_id), "phone": "617-555-0142"}}
    assert_unavailable(await post(portal, token, UPDATE_PHONE, change))
    assert (await portal.client.get("/readyz")).status_code == 503
    auth = {"authorization": f"Bearer {token}"}
    assert_unavailable(await portal.client.get("/attachments/att-1", headers=auth))

    await cluster.start()
    statuses = [(await post(portal, token, VIEWER)).status_code for _ in range(6)]
    # Pre-ping finds the dropped connection before use; without it, the one request that
    # met it answered 503 and invalidated the pool: every later request is served.
    assert statuses.count(503) <= 1, statuses
    assert statuses[1:] == [200] * 5, statuses
    assert (await portal.client.get("/readyz")).status_code == 200
    assert await phone_of(portal, patient_id) == before  # the refused mutation changed nothing


class Restarts:
    """Stops PostgreSQL the first time it is called, and starts it again a second later."""

    def __init__(self, cluster: ThrowawayPostgres) -> None:
        self.cluster = cluster
        self.task: asyncio.Task[None] | None = None

    async def __call__(self) -> None:
        if self.task is None:
            await self.cluster.stop()
            self.task = asyncio.create_task(self._back())

    async def _back(self) -> None:
        await asyncio.sleep(1.0)
        await self.cluster.start()

    async def done(self) -> None:
        if self.task is not None:
            await self.task


class SmsDuringARestart:
    def __init__(self, restart: Restarts) -> None:
        self.restart = restart
        self.sent: list[str] = []

    async def send_sms(self, to: str, text: str) -> None:
        self.sent.append(text)
        await self.restart()


@pytest.fixture
async def services(outage_db: Database) -> AsyncIterator[Services]:
    """The app's services on the outage database, without the app (the test drives the job)."""
    engine = create_engine(outage_db.url)
    yield build_services(settings_for(outage_db.url), FixedClock(NOW), engine=engine)
    await engine.dispose()


async def test_an_sms_sent_during_an_outage_is_recorded_once_the_database_is_back(
    services: Services, cluster: ThrowawayPostgres
) -> None:
    async with services.sessions() as session, session.begin():
        session.add(
            m.NotificationDelivery(
                id=m.new_id("dlv"),
                account_id="acc-0000001",
                channel="SMS",
                kind="TEST",
                destination="+16175550100",
                text="once",
                created_at=NOW,
                attempts=0,
                last_error=None,
                sent_at=None,
                failed_at=None,
            )
        )
    restart = Restarts(cluster)
    sms = SmsDuringARestart(restart)
    services.deliveries.sms = sms
    try:
        assert await asyncio.wait_for(services.deliveries.drain(), 60) == 1
        assert await services.deliveries.drain() == 0  # recorded as sent: not sent again
        assert sms.sent == ["once"]
    finally:
        await restart.done()


class SendsDuringARestart:
    """A mail server that accepts the mail while PostgreSQL restarts: the database is
    gone when the sender records the send, and back a moment later."""

    def __init__(self, restart: Restarts) -> None:
        self.restart = restart
        self.sent: list[str] = []

    async def send(self, message: EmailMessage) -> str:
        self.sent.append(str(message["Subject"]))
        await self.restart()
        return "test"


async def test_a_mail_sent_during_an_outage_is_recorded_once_the_database_is_back(
    services: Services, cluster: ThrowawayPostgres
) -> None:
    async with services.sessions() as session, session.begin():
        enqueue_mail(session, to="a@example.org", subject="once", body="hello", now=NOW)
    restart = Restarts(cluster)
    server = SendsDuringARestart(restart)
    services.mail.transport = server
    try:
        report = await asyncio.wait_for(services.mail.drain(), 60)
        assert report.sent == 1
        again = await services.mail.drain()  # nothing left: it was recorded as sent
        assert again.sent == 0
        assert server.sent == ["once"]
        async with services.sessions() as session:
            rows = (await session.execute(select(m.OutgoingMail))).scalars().all()
        assert [(r.subject, r.sent_at is not None, r.attempts) for r in rows] == [("once", True, 1)]
    finally:
        await restart.done()


async def test_a_websocket_opened_while_down_is_closed_with_try_again_later(
    outage_db: Database, cluster: ThrowawayPostgres, tmp_path: Path
) -> None:
    server = await Server(outage_db.url, tmp_path, {}).start()
    try:
        token = token_for("acc-0000001")
        await (await Client.connect(server, token)).close()  # up: accepted
        await cluster.stop()
        with pytest.raises(Closed) as closed:
            await Client.connect(server, token)
        assert closed.value.code == 1013  # Try Again Later: not a refusal of the token
        await cluster.start()
        client = await Client.connect(server, token)  # and accepted again once it is back
        await client.close()
    finally:
        await server.stop()
        if not cluster.accepting():
            await cluster.start()


async def test_a_charge_answered_while_the_database_restarts_is_still_recorded(
    portal_on: Portal, cluster: ThrowawayPostgres
) -> None:
    portal = portal_on
    token = await portal.token(ALEX)
    found = await post(portal, token, OPEN_STATEMENTS, {"id": patient_gid("pat-0000001")})
    statement = found.json()["data"]["patient"]["statements"]["nodes"][0]["id"]
    key = f"during-restart-{uuid.uuid4().hex[:8]}"
    paying = asyncio.create_task(
        post(
            portal, token, PAY, pay_input(statement, 100, key, "tok_approve_slow")
        )  # answers in 2 s
    )
    await asyncio.sleep(0.5)  # reserved, and the gateway is charging
    await cluster.stop()
    await asyncio.sleep(2.5)  # the card is charged while the database is away
    await cluster.start()
    response = await asyncio.wait_for(paying, 30)
    assert response.status_code == 200, response.text
    payload = response.json()["data"]["payStatement"]
    assert payload["errors"] == []
    assert payload["payment"]["amount"]["amountCents"] == 100


async def test_a_charge_reconciled_while_its_request_waits_is_answered_with_that_payment(
    portal_on: Portal, cluster: ThrowawayPostgres
) -> None:
    """The job (another instance, say) records the payment while the request that charged
    it waits for the database: the request answers with that payment, recorded once."""
    portal = portal_on
    token = await portal.token(ALEX)
    found = await post(portal, token, OPEN_STATEMENTS, {"id": patient_gid("pat-0000001")})
    statement = found.json()["data"]["patient"]["statements"]["nodes"][0]["id"]
    key = f"reconciled-{uuid.uuid4().hex[:8]}"
    loop = asyncio.get_running_loop()
    started = loop.time()
    paying = asyncio.create_task(
        post(portal, token, PAY, pay_input(statement, 100, key, "tok_approve_slow"))
    )
    await asyncio.sleep(0.5)
    await cluster.stop()
    # Charged at 2 s; the request retries recording it 0.25, 0.5, 1, 2 and 4 s apart, so
    # it is asleep from about 5.8 s to 9.8 s: the database comes back in that gap.
    await asyncio.sleep(max(0.0, started + 6.2 - loop.time()))
    await cluster.start()
    done = await reconcile_pending_payments(portal.services, NOW + timedelta(hours=1))
    assert done.settled == 1  # the job recorded it first
    response = await asyncio.wait_for(paying, 30)
    assert response.status_code == 200, response.text
    payload = response.json()["data"]["payStatement"]
    assert payload["errors"] == []
    assert payload["payment"]["amount"]["amountCents"] == 100
    async with portal.services.sessions() as session:
        attempt = await session.scalar(
            select(m.PaymentAttempt).where(m.PaymentAttempt.idempotency_key == key)
        )
        assert attempt is not None
        assert attempt.status == "succeeded"
        payments = await session.scalar(
            select(func.count()).select_from(m.Payment).where(m.Payment.id == attempt.payment_id)
        )
    assert payments == 1
