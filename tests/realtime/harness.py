"""Real servers and real WebSocket clients for the real-time tests (and the benchmark).

`Server` runs `portal serve` in a subprocess on a free port; `Client` speaks either
WebSocket protocol with the `websockets` library; `Family` names the demo patients.
Every wait is bounded by a timeout.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import websockets
from sqlalchemy import select
from websockets.asyncio.client import ClientConnection

from persistence import models as m
from persistence.db import create_engine, session_factory
from persistence.models import new_id
from persistence.outbox_feed import last_seq
from persistence.sessions import NewSession, start_session
from runtime.config import DEV_INTEGRATION_TOKEN, Settings
from runtime.security import TokenIssuer

ROOT = Path(__file__).resolve().parents[2]
TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# Settings every test server gets: no background jobs of other areas, no rate limits, and
# a Redis namespace of its own (the machine's Redis is shared).
QUIET_ENV = {
    "PORTAL_ENV": "development",
    "APPOINTMENT_REMINDER_INTERVAL_SECONDS": "0",
    "RESULT_RELEASE_INTERVAL_SECONDS": "0",
    "REALTIME_PRUNE_INTERVAL_SECONDS": "0",
    "REALTIME_DRAIN_SECONDS": "0.2",
    "REALTIME_DRAIN_IDLE_SECONDS": "0.2",  # events written by the test process: found at once
    "RATE_SIGN_IN_PER_USERNAME": "off",
    "RATE_SIGN_IN_PER_ADDRESS": "off",
    "RATE_REQUESTS_PER_ACCOUNT": "off",
    "MAIL_DRAIN_SECONDS": "3600",
    "PAYMENT_RECONCILE_INTERVAL_SECONDS": "0",
}


class Server:
    """`portal serve` in a subprocess, on a free port, until `stop()`."""

    def __init__(self, database_url: str, workdir: Path, env: Mapping[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/graphql"
        self.log_path = workdir / f"server-{self.port}.log"
        self.env = {
            **os.environ,
            **QUIET_ENV,
            "DATABASE_URL": database_url,
            "MAIL_DIR": str(workdir / "mail"),
            "ATTACHMENTS_DIR": str(workdir / "files"),
            "SANDBOX_GATEWAY_LEDGER": str(workdir / "sandbox-gateway.jsonl"),
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self, within: float = 30.0) -> Server:
        command = [sys.executable, "-m", "portal.cli", "serve", "--port", str(self.port)]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(  # noqa: S603, ASYNC220 (our own command; returns at once)
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + within
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"server exited:\n{self.log_tail()}")
                try:
                    if (await client.get(f"{self.url}/healthz", timeout=1.0)).status_code == 200:
                        return self
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        raise TimeoutError(f"server did not start in {within}s:\n{self.log_tail()}")

    async def token(self, account_id: str, ttl: timedelta = timedelta(minutes=15)) -> str:
        return await session_token(self.env["DATABASE_URL"], account_id, ttl)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    async def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(process.wait, 10)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait, 5)

    def rss_bytes(self) -> int:
        """Resident memory of the server process (Linux /proc)."""
        assert self.process is not None
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        kb = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))
        return int(kb) * 1024

    def cpu_seconds(self) -> float:
        """User + system CPU the server process has used (Linux /proc)."""
        assert self.process is not None
        stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        utime, stime = stat.rsplit(")", 1)[1].split()[11:13]
        return (int(utime) + int(stime)) / os.sysconf("SC_CLK_TCK")

    async def seq(self) -> str:
        """The last committed event's seq: subscribe `after` it to miss nothing from now on."""
        engine = create_engine(self.env["DATABASE_URL"])
        try:
            async with session_factory(engine)() as session:
                return str(await last_seq(session))
        finally:
            await engine.dispose()

    async def post_event(self, event: dict[str, Any]) -> dict[str, Any]:
        """The EHR feed: POST /integration/events with the service credentials."""
        headers = {"authorization": f"Bearer {DEV_INTEGRATION_TOKEN}"}
        async with httpx.AsyncClient() as client:
            response = await client.post(
                f"{self.url}/integration/events", json=event, headers=headers, timeout=10
            )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def gql(self, query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
        async with httpx.AsyncClient() as client:
            response = await client.post(
                f"{self.url}/graphql",
                json={"query": query, "variables": variables},
                headers={"authorization": f"Bearer {token}"} if token else {},
                timeout=10,
            )
        body: dict[str, Any] = response.json()
        return body


def tokens(ttl: timedelta = timedelta(minutes=15)) -> TokenIssuer:
    """Access tokens the test servers accept (they run with the development settings)."""
    s = Settings()
    return TokenIssuer(s.jwt_secret, s.jwt_issuer, s.jwt_audience, ttl)


def token_for(account_id: str, ttl: timedelta = timedelta(minutes=15)) -> str:
    """A token minted without a session, as operator tooling (the peer benchmark) mints
    them: accepted until it expires (runtime/security.py, `TokenIssuer.issue`)."""
    return tokens(ttl).issue(account_id, datetime.now(UTC))[0]


def token_of_no_session(account_id: str, ttl: timedelta = timedelta(minutes=15)) -> str:
    """A well-signed token of a session that does not exist: refused."""
    return tokens(ttl).issue(account_id, datetime.now(UTC), new_id("ses"))[0]


async def session_token(
    database_url: str, account_id: str, ttl: timedelta = timedelta(minutes=15)
) -> str:
    """An access token of a new session of the account, as signIn would issue."""
    session_id, now = new_id("ses"), datetime.now(UTC)
    engine = create_engine(database_url)
    try:
        new = NewSession(account_id, session_id, "Test client", None, None)
        await start_session(session_factory(engine), new, now, timedelta(days=1))
    finally:
        await engine.dispose()
    return tokens(ttl).issue(account_id, now, session_id)[0]


_ids = itertools.count(1)


class Closed(Exception):
    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"closed {code} {reason!r}")
        self.code, self.reason = code, reason


class Client:
    """A GraphQL WebSocket client for either protocol."""

    def __init__(self, ws: ClientConnection, protocol: str) -> None:
        self.ws, self.protocol = ws, protocol
        self._pending: dict[str | None, list[dict[str, Any]]] = {}

    @classmethod
    async def open(cls, server: Server, protocol: str = TRANSPORT_WS) -> Client:
        ws = await asyncio.wait_for(
            websockets.connect(server.ws_url, subprotocols=[protocol]),  # type: ignore[list-item]
            10,
        )
        assert ws.subprotocol == protocol
        return cls(ws, protocol)

    @classmethod
    async def connect(
        cls, server: Server, token: str | None, protocol: str = TRANSPORT_WS
    ) -> Client:
        """Open and initialise; raises `Closed` if the server refuses."""
        client = await cls.open(server, protocol)
        await client.init(token)
        return client

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def receive(self, within: float = 10.0) -> dict[str, Any]:
        """The next message (keep-alives skipped), or `Closed` when the server closed."""
        deadline = time.monotonic() + within
        while True:
            try:
                raw = await asyncio.wait_for(self.ws.recv(), max(deadline - time.monotonic(), 0))
            except websockets.ConnectionClosed as closed:
                rcvd = closed.rcvd
                raise Closed(rcvd.code if rcvd else None, rcvd.reason if rcvd else "") from None
            message: dict[str, Any] = json.loads(raw)
            if message.get("type") not in ("ka", "ping", "pong"):
                return message

    async def init(self, token: str | None) -> dict[str, Any]:
        payload = {} if token is None else {"authorization": f"Bearer {token}"}
        await self.send({"type": "connection_init", "payload": payload})
        answer = await self.receive()
        if answer["type"] == "connection_error":
            raise Closed(None, json.dumps(answer.get("payload")))
        assert answer["type"] == "connection_ack", answer
        return answer

    async def subscribe(
        self, query: str, variables: dict[str, Any] | None = None, *, after: str | None = None
    ) -> str:
        """Start an operation. `after` (a seq, see `Server.seq`) is passed as `$afterSeq`:
        the server may register the subscription after the test's next write commits, and
        resuming from a seq taken before that write makes its delivery certain."""
        op_id = f"op{next(_ids)}"
        kind = "subscribe" if self.protocol == TRANSPORT_WS else "start"
        variables = {**(variables or {}), **({"afterSeq": after} if after is not None else {})}
        payload = {"query": query, "variables": variables}
        await self.send({"id": op_id, "type": kind, "payload": payload})
        return op_id

    async def next(self, op_id: str | None = None, within: float = 10.0) -> dict[str, Any]:
        """The next message for an operation (any if None): data, error or complete.
        Messages of other operations are kept for them."""
        queued = self._pending.get(op_id)
        if queued:
            return queued.pop(0)
        deadline = time.monotonic() + within
        while True:
            message = await self.receive(max(deadline - time.monotonic(), 0))
            if op_id is None or message.get("id") == op_id:
                return message
            self._pending.setdefault(message.get("id"), []).append(message)

    async def data(self, op_id: str, within: float = 10.0) -> dict[str, Any]:
        """The next event's `data`; fails on an error or a complete."""
        message = await self.next(op_id, within)
        assert message["type"] in ("next", "data"), message
        payload = message["payload"]
        assert not payload.get("errors"), payload
        result: dict[str, Any] = payload["data"]
        return result

    async def silent(self, within: float) -> None:
        """Assert that nothing arrives for `within` seconds."""
        try:
            message = await self.receive(within)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected message: {message}")

    async def close(self) -> None:
        await self.ws.close()


# -- the demo families ------------------------------------------------------------------
@dataclass(frozen=True)
class Family:
    alex: str  # Alex Rivera's own patient record
    mia: str  # her daughter, 7
    leo: str  # her son, 14 (adolescent)
    susan: str  # Susan Walsh's own record
    margaret: str  # Susan's mother (caregiver grant)
    alex_mia_grant: str
    susan_margaret_grant: str


ACCOUNTS = {
    "alex": "acc-0000001",
    "jordan": "acc-0000002",
    "leo": "acc-0000003",
    "susan": "acc-0000004",
    "daniel": "acc-0000005",
    "grace": "acc-0000006",
}


async def family(database_url: str) -> Family:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            rows = await session.execute(select(m.Account.id, m.Account.patient_id))
            own = {acc: str(pat) for acc, pat in rows.all() if pat is not None}
            stmt = select(m.ProxyGrant, m.Patient.birth_date).join(
                m.Patient, m.Patient.id == m.ProxyGrant.patient_id
            )
            grants = [(g, b) for g, b in (await session.execute(stmt)).all()]
    finally:
        await engine.dispose()
    leo = own[ACCOUNTS["leo"]]
    alex_kids = [
        (g, b) for g, b in grants if g.proxy_account_id == ACCOUNTS["alex"] and g.status == "active"
    ]
    mia_grant = next(g for g, _b in sorted(alex_kids, key=lambda x: x[1], reverse=True))
    susan_grant = next(
        g for g, _b in grants if g.proxy_account_id == ACCOUNTS["susan"] and g.status == "active"
    )
    return Family(
        alex=own[ACCOUNTS["alex"]],
        mia=mia_grant.patient_id,
        leo=leo,
        susan=own[ACCOUNTS["susan"]],
        margaret=susan_grant.patient_id,
        alex_mia_grant=mia_grant.id,
        susan_margaret_grant=susan_grant.id,
    )


async def stranger(database_url: str) -> tuple[str, str]:
    """An adult account with its own patient record and nothing to do with anyone else's
    (no proxy grant either way, no result held back): (account id, patient id)."""
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            grants = select(m.ProxyGrant.id).where(
                (m.ProxyGrant.proxy_account_id == m.Account.id)
                | (m.ProxyGrant.patient_id == m.Account.patient_id)
            )
            holds = select(m.ResultHoldPreference.patient_id).where(
                m.ResultHoldPreference.patient_id == m.Account.patient_id
            )
            visits = select(m.Appointment.id).where(
                m.Appointment.patient_id == m.Account.patient_id
            )
            adult = datetime.now(UTC).date() - timedelta(days=366 * 19)
            row = (
                await session.execute(
                    select(m.Account.id, m.Account.patient_id)
                    .join(m.Patient, m.Patient.id == m.Account.patient_id)
                    .where(
                        m.Account.id.not_in(ACCOUNTS.values()),
                        m.Patient.birth_date < adult,
                        ~grants.exists(),
                        ~holds.exists(),
                        visits.exists(),
                    )
                    .order_by(m.Account.id)
                    .limit(1)
                )
            ).one()
    finally:
        await engine.dispose()
    return str(row[0]), str(row[1])


# -- EHR feed events ----------------------------------------------------------------------
def _now() -> str:
    return datetime.now(UTC).isoformat()


def provider_reply(thread_id: str, provider_id: str, body: str) -> dict[str, Any]:
    return {
        "id": f"evt-{uuid.uuid4().hex}",
        "type": "PROVIDER_REPLY",
        "occurredAt": _now(),
        "data": {"threadId": thread_id, "providerId": provider_id, "body": body},
    }


def result_finalized(
    patient_id: str, result_id: str | None = None, *, released: bool = True, code: str = "2345-7"
) -> dict[str, Any]:
    return {
        "id": f"evt-{uuid.uuid4().hex}",
        "type": "RESULT_FINALIZED",
        "occurredAt": _now(),
        "data": {
            "resultId": result_id or f"res-{uuid.uuid4().hex[:12]}",
            "patientId": patient_id,
            "name": "Glucose",
            "code": code,
            "kind": "LAB",
            "status": "FINAL",
            "release": "RELEASED" if released else "POLICY",
            "components": [
                {
                    "code": code,
                    "name": "Glucose",
                    "value": 92,
                    "unit": "mg/dL",
                    "referenceLow": 70,
                    "referenceHigh": 99,
                }
            ],
        },
    }


async def thread_of(database_url: str, patient_id: str) -> tuple[str, str]:
    """A thread of the patient (one is started if it has none) and its provider."""
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            provider = await session.scalar(select(m.Provider.id).order_by(m.Provider.id).limit(1))
            assert provider is not None
            thread = await session.scalar(
                select(m.MessageThread)
                .where(m.MessageThread.patient_id == patient_id)
                .order_by(m.MessageThread.id)
                .limit(1)
            )
            if thread is None:
                now = datetime.now(UTC) - timedelta(days=1)
                thread = m.MessageThread(
                    id=f"thr-{uuid.uuid4().hex[:12]}",
                    patient_id=patient_id,
                    subject="A question",
                    category="medical_question",
                    provider_id=provider,
                    care_team=None,
                    created_at=now,
                    last_message_at=now,
                )
                session.add(thread)
                await session.commit()
    finally:
        await engine.dispose()
    return thread.id, thread.provider_id or provider


# -- a TCP proxy the test can cut (a broker outage without touching the shared Redis) ---
class Cuttable:
    """Forwards 127.0.0.1:<port> to a target; `cut()` drops every connection and refuses
    new ones until `restore()`."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.StreamWriter] = set()

    async def restore(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._pipes):
            writer.close()
        self._pipes.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._pipes.update((writer, up_writer))

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))


async def appointment_changed(server: Server, patient_id: str) -> dict[str, Any]:
    """An EHR event that changes one of the patient's appointments (its length)."""
    engine = create_engine(server.env["DATABASE_URL"])
    try:
        async with session_factory(engine)() as session:
            appointment = await session.scalar(
                select(m.Appointment)
                .where(m.Appointment.patient_id == patient_id)
                .order_by(m.Appointment.id)
                .limit(1)
            )
    finally:
        await engine.dispose()
    assert appointment is not None
    return {
        "id": f"evt-{uuid.uuid4().hex}",
        "type": "APPOINTMENT_CHANGED",
        "occurredAt": _now(),
        "data": {
            "appointmentId": appointment.id,
            "patientId": patient_id,
            "durationMinutes": appointment.duration_minutes % 60 + 15,
        },
    }


async def eventually(check: Any, within: float = 10.0) -> None:
    """Wait until the async `check()` is true (for state that changes right after an event
    is delivered, such as the publisher's mark); fails after `within` seconds."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def run_cli(*args: str) -> str:
    """Run `portal <args>` to completion (60 s at most); its standard output."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "portal.cli",
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    return out.decode()
