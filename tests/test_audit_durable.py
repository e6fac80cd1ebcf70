"""An audit of every disclosure survives `kill -9` of the server that made it (issue 13):
a request writes its audit rows on its own connection before the response leaves, and a
subscription writes each event's before the event is sent."""

from __future__ import annotations

import signal

import httpx
from sqlalchemy import select

from persistence import models as m
from persistence.db import create_engine, session_factory
from schema.base import internal_id
from tests.conftest import ACCOUNT_IDS, ALEX, Database, patient_gid
from tests.realtime.conftest import (  # noqa: F401
    StartServer,
    live_dataset,
    live_db,
    people,
    start_server,
)
from tests.realtime.harness import (
    ACCOUNTS,
    LEGACY_WS,
    TRANSPORT_WS,
    Client,
    Family,
    provider_reply,
    thread_of,
    token_for,
)

PROXY_HOME = """
query ProxyHome {
  viewer { patients { patient { id name { display }
    appointments(when: UPCOMING, first: 5) { edges { node { id startsAt } } } } } }
}
"""
READS = 20
WATCH = """subscription %s($patientId: ID, $afterSeq: ID) {
  messageReceived(patientId: $patientId, afterSeq: $afterSeq) {
    seq message { body } thread { patient { id } }
  }
}"""
EVENTS = 5


async def _audit_rows(url: str, operation: str) -> list[tuple[str | None, str | None]]:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            stmt = select(m.AuditEvent.request_id, m.AuditEvent.patient_id).where(
                m.AuditEvent.operation == operation
            )
            return [(r, p) for r, p in (await session.execute(stmt)).all()]
    finally:
        await engine.dispose()


async def test_every_audit_row_survives_kill_9(
    live_db: Database,  # noqa: F811
    start_server: StartServer,  # noqa: F811
) -> None:
    server = await start_server()
    token = token_for(ACCOUNT_IDS[ALEX])
    expected: set[tuple[str, str]] = set()
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        for _ in range(READS):
            response = await client.post(
                "/graphql",
                json={"query": PROXY_HOME},
                headers={"authorization": f"Bearer {token}"},
            )
            assert response.status_code == 200, response.text
            patients = response.json()["data"]["viewer"]["patients"]
            request_id = response.headers["x-request-id"]
            expected |= {(request_id, internal_id(p["patient"]["id"], "Patient")) for p in patients}
    assert server.process is not None
    server.process.send_signal(signal.SIGKILL)  # at once: no shutdown, no flush
    server.process.wait(10)

    rows = await _audit_rows(live_db.url, "ProxyHome")
    assert len({request_id for request_id, _ in expected}) == READS
    assert len(expected) >= 2 * READS  # the proxy acts for several patients
    assert sorted(rows) == sorted(expected)  # every row, none twice


async def test_every_delivered_event_is_audited_before_kill_9(
    live_db: Database,  # noqa: F811
    start_server: StartServer,  # noqa: F811
    people: Family,  # noqa: F811
) -> None:
    # The background writer would wait an hour: only a write before the send can save them.
    server = await start_server(AUDIT_FLUSH_SECONDS="3600")
    since = await server.seq()
    token = await server.token(ACCOUNTS["alex"])  # Mia's mother
    watchers = {}
    for name, protocol in (("WatchCurrent", TRANSPORT_WS), ("WatchLegacy", LEGACY_WS)):
        client = await Client.connect(server, token, protocol)
        op = await client.subscribe(
            WATCH % name, {"patientId": patient_gid(people.mia)}, after=since
        )
        watchers[name] = (client, op)
    thread, provider = await thread_of(live_db.url, people.mia)
    for n in range(EVENTS):
        await server.post_event(provider_reply(thread, provider, f"reply {n}"))
    for client, op in watchers.values():
        bodies = [
            (await client.data(op))["messageReceived"]["message"]["body"] for _ in range(EVENTS)
        ]
        assert bodies == [f"reply {n}" for n in range(EVENTS)]
    assert server.process is not None
    server.process.send_signal(signal.SIGKILL)  # the last event has only just arrived
    server.process.wait(10)

    for name in watchers:
        rows = await _audit_rows(live_db.url, name)
        assert [patient for _, patient in rows] == [people.mia] * EVENTS, name  # one per event
