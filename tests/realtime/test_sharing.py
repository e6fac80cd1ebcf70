"""One event to many subscriptions of one account: the subscriber is loaded once and one set
of loaders serves them all, while the view is young; a new event, or a late delivery, loads
again (runtime/realtime/sharing.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from domain.access import Principal
from loaders import Loaders
from persistence import models as m
from persistence.db import create_engine, session_factory
from runtime.realtime.sharing import FRESH, EventViews, View
from runtime.services import Services, build_services
from tests.conftest import NOW, Database, patient_gid, settings_for
from tests.realtime.conftest import StartServer
from tests.realtime.harness import ACCOUNTS, Client, Family, provider_reply, thread_of


@pytest.fixture
async def services() -> AsyncIterator[Services]:
    built = build_services(settings_for("sqlite+aiosqlite://"))  # no query is made
    yield built
    await built.engine.dispose()


class Loads:
    """Counts loads; each one takes a moment, as a database read does."""

    def __init__(self, services: Services) -> None:
        self.services, self.count = services, 0

    async def __call__(self) -> View:
        self.count += 1
        await asyncio.sleep(0.01)
        principal = Principal(account_id="acct-me", now=NOW, patient_id="pat-me")
        return View(principal, NOW, Loaders(self.services))


async def test_one_load_serves_every_subscription_delivering_the_event(
    services: Services,
) -> None:
    views, load = EventViews(), Loads(services)
    got = await asyncio.gather(*(views.get(("acct-me", "ses-1", 7), NOW, load) for _ in range(100)))
    assert load.count == 1
    assert len({id(view.loaders) for view in got}) == 1
    # The next event, another session of the account: their own loads.
    await views.get(("acct-me", "ses-1", 8), NOW, load)
    await views.get(("acct-me", "ses-2", 7), NOW, load)
    assert load.count == 3


async def test_a_late_delivery_loads_again(services: Services) -> None:
    views, load = EventViews(), Loads(services)
    first = await views.get(("acct-me", None, 7), NOW, load)
    assert await views.get(("acct-me", None, 7), NOW + FRESH / 2, load) is first
    late = await views.get(("acct-me", None, 7), NOW + FRESH, load)
    assert late is not first
    assert load.count == 2
    await views.get(("acct-me", None, 9), NOW + FRESH * 3, load)
    assert len(views) == 1  # the old views are gone


async def test_a_failed_load_is_not_shared(services: Services) -> None:
    views, load = EventViews(), Loads(services)

    async def failing() -> View:
        await asyncio.sleep(0.01)
        raise ConnectionError("database unavailable")

    first = asyncio.create_task(views.get(("acct-me", None, 7), NOW, failing))
    await asyncio.sleep(0)
    second = asyncio.create_task(views.get(("acct-me", None, 7), NOW + timedelta(0), load))
    with pytest.raises(ConnectionError):
        await first
    assert (await second).principal is not None  # it loaded for itself
    assert load.count == 1


SHARED_WATCH = """subscription WatchShared($patientId: ID, $afterSeq: ID) {
  messageReceived(patientId: $patientId, afterSeq: $afterSeq) {
    seq message { body } thread { patient { id name { display } } }
  }
}"""


async def test_one_execution_answers_every_alike_subscription_each_audited_as_its_own(
    live_db: Database,
    start_server: StartServer,
    people: Family,
) -> None:
    """Three connections of one account asking the same document with the same variables
    (their event executed once, schema/subscription.py `SharedEventExecution`), and one
    asking for every patient: each gets the whole answer, and each delivery has its own
    audit rows, the reads made while executing (the patient) included."""
    server = await start_server(AUDIT_FLUSH_SECONDS="3600")  # only the durable write counts
    since = await server.seq()
    token = await server.token(ACCOUNTS["alex"])  # Mia's mother
    alike = {"patientId": patient_gid(people.mia)}
    watchers = []
    for variables in (alike, alike, alike, {}):
        client = await Client.connect(server, token)
        watchers.append((client, await client.subscribe(SHARED_WATCH, variables, after=since)))
    thread, provider = await thread_of(live_db.url, people.mia)
    for n in range(2):
        await server.post_event(provider_reply(thread, provider, f"reply {n}"))
    answers = [[await client.data(op) for _ in range(2)] for client, op in watchers]
    for got in answers:
        assert [a["messageReceived"]["message"]["body"] for a in got] == ["reply 0", "reply 1"]
        assert got == answers[0]  # the same answer whether executed or shared
    assert answers[0][0]["messageReceived"]["thread"]["patient"]["id"] == patient_gid(people.mia)
    rows = await _delivery_audit(live_db.url, "WatchShared")
    by_connection: dict[str | None, list[tuple[str | None, str]]] = {}
    for request_id, patient_id, object_types in rows:
        by_connection.setdefault(request_id, []).append((patient_id, object_types))
    assert len(by_connection) == len(watchers)  # each connection's deliveries, its own rows
    for delivered in by_connection.values():
        assert [patient for patient, _ in delivered] == [people.mia] * 2  # one per event
        for _, object_types in delivered:
            assert {"Message", "Patient"} <= set(object_types.split(","))


async def _delivery_audit(url: str, operation: str) -> list[tuple[str | None, str | None, str]]:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            stmt = select(
                m.AuditEvent.request_id, m.AuditEvent.patient_id, m.AuditEvent.object_types
            ).where(m.AuditEvent.operation == operation, m.AuditEvent.action == "read")
            return [tuple(row) for row in (await session.execute(stmt)).all()]  # type: ignore[misc]
    finally:
        await engine.dispose()
