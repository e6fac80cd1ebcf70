"""An audit of every disclosure survives `kill -9` of the server that made it (issue 13):
the request writes its audit rows on its own connection before the response leaves."""

from __future__ import annotations

import signal

import httpx
from sqlalchemy import select

from persistence import models as m
from persistence.db import create_engine, session_factory
from schema.base import internal_id
from tests.conftest import ACCOUNT_IDS, ALEX, Database
from tests.realtime.conftest import StartServer, live_dataset, live_db, start_server  # noqa: F401
from tests.realtime.harness import token_for

PROXY_HOME = """
query ProxyHome {
  viewer { patients { patient { id name { display }
    appointments(when: UPCOMING, first: 5) { edges { node { id startsAt } } } } } }
}
"""
READS = 20


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
