"""SIGTERM to a real `portal serve`: it stops accepting, lets the request in flight finish
(a slow payment is recorded and answered), cancels one that outlasts the grace period (a
charge that never answers: the reconciliation job settles it later), closes WebSockets with
1012 (service restart) so clients reconnect, and writes the buffered audit rows before it
exits."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from persistence import models as m
from persistence.db import create_engine, session_factory
from tests.api.test_billing import OPEN_STATEMENTS, PAY, pay_input
from tests.conftest import ACCOUNT_IDS, ALEX, make_database, patient_gid
from tests.realtime.harness import Client, Closed, Server, token_for

ALEX_ID = "pat-0000001"
MESSAGES = "subscription { messageReceived { seq } }"
GRACE = 3.0


async def test_sigterm_drains_requests_closes_sockets_with_1012_and_flushes_audit(
    tmp_path: Path, dataset_dir: Path
) -> None:
    database = await make_database("sqlite", tmp_path, dataset_dir)
    env = {"SHUTDOWN_GRACE_SECONDS": str(GRACE), "AUDIT_FLUSH_SECONDS": "3600"}
    server = await Server(database.url, tmp_path, env).start()
    token = token_for(ACCOUNT_IDS[ALEX])
    assert server.process is not None
    try:
        subscriber = await Client.connect(server, token)
        await subscriber.subscribe(MESSAGES)
        # A read of PHI: its audit rows wait in the buffer (flushed hourly here).
        found = await server.gql(OPEN_STATEMENTS, {"id": patient_gid(ALEX_ID)}, token)
        statement = found["data"]["patient"]["statements"]["nodes"][0]["id"]

        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:

            async def pay(key: str, card: str) -> httpx.Response:
                body = {"query": PAY, "variables": pay_input(statement, 100, key, card)}
                headers = {"authorization": f"Bearer {token}"}
                return await client.post("/graphql", json=body, headers=headers)

            slow = asyncio.create_task(pay("slow", "tok_approve_slow"))  # answers in 2 s
            hung = asyncio.create_task(pay("hung", "tok_approve_no_answer"))  # never answers
            await asyncio.sleep(0.5)  # both are in flight
            stopped_at = time.monotonic()
            server.process.send_signal(signal.SIGTERM)

            with pytest.raises(Closed) as closed:
                await subscriber.receive(within=5)
            assert closed.value.code == 1012  # service restart: reconnect

            await asyncio.sleep(0.3)
            with pytest.raises(httpx.ConnectError):  # no longer accepting
                await httpx.AsyncClient().get(f"{server.url}/healthz", timeout=2)

            answered = await slow
            assert answered.status_code == 200, answered.text
            payload = answered.json()["data"]["payStatement"]
            assert payload["errors"] == []
            with pytest.raises(httpx.HTTPError):  # cut off at the grace period's end
                (await hung).raise_for_status()

        code = await asyncio.to_thread(server.process.wait, 15)
        took = time.monotonic() - stopped_at
        # uvicorn re-raises the signal once it has shut down cleanly, as a supervisor expects.
        assert code in (0, -signal.SIGTERM), server.log_tail()
        assert "Application shutdown complete" in server.log_tail()
        assert took < GRACE + 5, took  # bounded, although one request would never end
    finally:
        await server.stop()

    engine = create_engine(database.url)
    async with session_factory(engine)() as session:
        audited = await session.scalar(
            select(func.count())
            .select_from(m.AuditEvent)
            .where(m.AuditEvent.patient_id == ALEX_ID, m.AuditEvent.account_id == "acc-0000001")
        )
        statuses = dict(
            (
                await session.execute(
                    select(m.PaymentAttempt.idempotency_key, m.PaymentAttempt.status)
                )
            ).all()
        )
    await engine.dispose()
    assert audited, "the buffered audit rows were written at shutdown"
    # The slow payment was recorded; the cut-off one waits for reconciliation.
    assert statuses == {"slow": "succeeded", "hung": "pending"}
