"""`make chaos`: faults under load, and a reconciliation at the end (docs/operations.md).

Two `portal serve` instances on a throwaway PostgreSQL and a throwaway Redis (never the
machine's shared ones), with readers, message writers, a payer, a booker and one live
subscriber per instance. While the load runs it kills one instance with SIGKILL and starts it
again, restarts Redis, then restarts PostgreSQL. It reports:
- what clients saw in each phase: HTTP status and GraphQL error code, counted (a 500 or an
  INTERNAL_SERVER_ERROR is a failure);
- the seconds from each fault until every instance serves a read again;
- the reconciliation: each acknowledged message, payment and booking stored exactly once, each
  committed message event delivered exactly once to each subscriber (after resuming), each
  disclosed read and each event received audited (an event sent to a client that was cut
  off before reading it is audited and not received: rows may exceed events).

Bounded: about a minute and a half, every request with a timeout. Exits 1 if a client saw a
500 or the reconciliation found something lost or doubled, an audit row included.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.billing import gateway_reference
from domain.errors import BrokenInvariant
from persistence import models as m
from persistence.db import create_engine, session_factory
from persistence.demodata import Generator
from persistence.migrate import upgrade
from persistence.seed import load_dataset
from runtime.security import hash_password
from schema.base import internal_id, to_global_id
from tests.realtime.harness import ROOT, Client, Closed, Server, free_port, token_for
from tests.throwaway_pg import ThrowawayPostgres, available

ALEX_ACCOUNT, ALEX = "acc-0000001", "pat-0000001"
READ = """query ChaosRead($id: ID!) {
  patient(id: $id) { name { display } messageThreads(first: 3) { nodes { subject } } }
}"""
SEND = """mutation ChaosSend($input: SendMessageInput!) {
  sendMessage(input: $input) { errors { code } }
}"""
PAY = """mutation ChaosPay($input: PayStatementInput!) {
  payStatement(input: $input) { payment { confirmationNumber } errors { code } }
}"""
STATEMENTS = """query($id: ID!) { patient(id: $id) {
  statements(status: OPEN, first: 20) { nodes { id amountDue { amountCents } } } } }"""
MESSAGES = "subscription($afterSeq: ID) { messageReceived(afterSeq: $afterSeq) { seq } }"
SLOTS = """query($id: ID!) {
  availableSlots(filter: {patientId: $id}, first: 100) { nodes { id visitTypes } } }"""
BOOK = """mutation ChaosBook($input: ScheduleAppointmentInput!) {
  scheduleAppointment(input: $input) { appointment { id } errors { code } }
}"""


class Redis:
    """A redis-server of our own on a free port, no persistence."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(  # noqa: S603, ASYNC220 (a fixed local command)
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        await asyncio.sleep(0.3)

    async def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            await asyncio.to_thread(self.process.wait, 10)
            self.process = None


@dataclass
class Run:
    servers: list[Server]
    token: str
    thread: str
    statement: str
    phase: str = "warm-up"
    seen: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    disclosed: list[str] = field(default_factory=list)  # request ids of reads that returned PHI
    sent: list[str] = field(default_factory=list)  # acknowledged message bodies
    unacknowledged: list[str] = field(default_factory=list)
    paid: list[str] = field(default_factory=list)  # acknowledged idempotency keys
    slots: list[tuple[str, str]] = field(default_factory=list)  # (slot id, a visit type) to book
    booked: dict[str, str] = field(default_factory=dict)  # acknowledged: slot id -> appointment id
    unbooked: list[str] = field(default_factory=list)  # slots whose booking had no answer
    received: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    stop: asyncio.Event = field(default_factory=asyncio.Event)  # the load
    unsubscribe: asyncio.Event = field(default_factory=asyncio.Event)  # the subscribers
    http: httpx.AsyncClient = field(default_factory=lambda: httpx.AsyncClient(timeout=10))

    def note(self, what: str) -> None:
        self.seen[self.phase][what] += 1

    async def post(
        self, index: int, query: str, variables: dict[str, Any]
    ) -> tuple[str, httpx.Response | None]:
        server = self.servers[index % len(self.servers)]
        try:
            response = await self.http.post(
                f"{server.url}/graphql",
                json={"query": query, "variables": variables},
                headers={"authorization": f"Bearer {self.token}"},
            )
        except httpx.HTTPError as exc:
            outcome = f"no answer ({type(exc).__name__})"
            self.note(outcome)
            return outcome, None
        body = response.json()
        codes = [str((e.get("extensions") or {}).get("code")) for e in body.get("errors") or []]
        for payload in (body.get("data") or {}).values():  # a mutation's typed errors
            if isinstance(payload, dict):
                codes += [str(e.get("code")) for e in payload.get("errors") or []]
        outcome = f"{response.status_code} {','.join(sorted(set(codes))) or 'ok'}"
        self.note(outcome)
        return outcome, response


async def reader(run: Run, index: int) -> None:
    n = index
    while not run.stop.is_set():
        outcome, response = await run.post(n, READ, {"id": str(to_global_id("Patient", ALEX))})
        if response is not None and outcome == "200 ok":
            run.disclosed.append(response.headers["x-request-id"])
        n += 1
        await asyncio.sleep(0.02)


async def writer(run: Run, index: int) -> None:
    n = 0
    while not run.stop.is_set():
        body = f"chaos {index}-{n}"
        variables = {
            "input": {"patientId": str(to_global_id("Patient", ALEX)), "threadId": run.thread}
        }
        variables["input"]["body"] = body
        outcome, response = await run.post(index + n, SEND, variables)
        if response is not None and outcome == "200 ok":
            run.sent.append(body)
        else:
            run.unacknowledged.append(body)  # it may or may not have been stored
        n += 1
        await asyncio.sleep(0.2)


async def payer(run: Run) -> None:
    n = 0
    while not run.stop.is_set():
        key = f"chaos-{n}"
        for attempt in range(20):  # a client retries the same key until it has an answer
            variables = {
                "input": {
                    "statementId": run.statement,
                    "amountCents": 1,
                    "paymentToken": "tok_approve",
                    "idempotencyKey": key,
                }
            }
            outcome, response = await run.post(n + attempt, PAY, variables)
            if response is not None and outcome == "200 ok":
                run.paid.append(key)
                break
            await asyncio.sleep(0.5)
        n += 1
        await asyncio.sleep(0.3)


async def booker(run: Run) -> None:
    """Books the patient's open slots one by one. A client without an answer retries the same
    slot: ALREADY_BOOKED with the patient's own appointment means its earlier try committed."""
    for n, (slot, visit_type) in enumerate(run.slots):
        if run.stop.is_set():
            return
        variables = {
            "input": {
                "patientId": str(to_global_id("Patient", ALEX)),
                "slotId": slot,
                "visitType": visit_type,
            }
        }
        for attempt in range(20):
            outcome, response = await run.post(n + attempt, BOOK, variables)
            payload = (response.json().get("data") or {}) if response is not None else {}
            appointment = (payload.get("scheduleAppointment") or {}).get("appointment")
            if outcome in ("200 ok", "200 ALREADY_BOOKED") and appointment is not None:
                run.booked[slot] = appointment["id"]
                break
            if outcome.startswith("200 ") and "SERVICE_UNAVAILABLE" not in outcome:
                break  # a typed refusal (the slot taken by someone else): not booked
            await asyncio.sleep(0.5)
        else:
            run.unbooked.append(slot)
        await asyncio.sleep(0.3)


async def subscriber(run: Run, index: int, after: str) -> None:
    """Stays subscribed, reconnecting (to the other instance if need be) with afterSeq."""
    last = after
    n = index
    while not run.unsubscribe.is_set():
        try:
            client = await Client.connect(run.servers[n % len(run.servers)], run.token)
            op = await client.subscribe(MESSAGES, after=last)
            while not run.unsubscribe.is_set():
                with contextlib.suppress(TimeoutError):
                    data = await client.data(op, within=0.5)
                    seq = data["messageReceived"]["seq"]
                    run.received[index].append(int(seq))
                    last = seq
            await client.close()
        except Closed as closed:
            run.note(f"websocket closed {closed.code}")
        except AssertionError as exc:  # an error where data was expected
            run.note(f"subscription ended: {_codes(str(exc))}")
        except (OSError, TimeoutError) as exc:
            run.note(f"websocket failed ({type(exc).__name__})")
        n += 1
        await asyncio.sleep(0.5)


def _codes(text: str) -> str:
    """The error codes in an assertion's message (a payload's repr)."""
    return ",".join(sorted(set(re.findall(r"'code': '([A-Z_]+)'", text)))) or text[:80]


async def serves_everywhere(run: Run) -> bool:
    async with httpx.AsyncClient(timeout=2) as client:
        for server in run.servers:
            try:
                response = await client.post(
                    f"{server.url}/graphql",
                    json={"query": READ, "variables": {"id": str(to_global_id("Patient", ALEX))}},
                    headers={"authorization": f"Bearer {run.token}"},
                )
            except httpx.HTTPError:
                return False
            if response.status_code != 200 or response.json().get("errors"):
                return False
    return True


async def fault(
    run: Run, name: str, inject: Callable[[], Awaitable[None]], settle: float
) -> dict[str, Any]:
    run.phase = name
    started = time.monotonic()
    await inject()
    recovered = None
    deadline = started + 60
    while time.monotonic() < deadline:
        if await serves_everywhere(run):
            recovered = round(time.monotonic() - started, 2)
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(settle)
    print(f"  {name}: every instance serves again after {recovered} s", flush=True)
    return {"fault": name, "recovered_seconds": recovered}


async def setup(workdir: Path, pg: ThrowawayPostgres, patients: int) -> str:
    dataset = workdir / "dataset"
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
    Generator(patients=patients, seed=7, now=now).write(str(dataset))
    admin = create_engine(pg.url(), isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text('CREATE DATABASE "chaos"'))
    await admin.dispose()
    url = pg.url("chaos")
    await asyncio.to_thread(upgrade, url)
    hashed = hash_password(uuid.uuid4().hex)  # nobody signs in: clients get tokens directly
    engine = create_engine(url)
    await load_dataset(engine, str(dataset), lambda _password: hashed)
    await engine.dispose()
    return url


async def reconcile(run: Run, url: str, start_seq: int, ledger: Path) -> dict[str, Any]:
    engine = create_engine(url)
    async with session_factory(engine)() as session:
        bodies = Counter(
            (
                await session.scalars(select(m.Message.body).where(m.Message.body.like("chaos %")))
            ).all()
        )
        attempts = (
            await session.execute(
                select(m.PaymentAttempt.idempotency_key, m.PaymentAttempt.status).where(
                    m.PaymentAttempt.idempotency_key.like("chaos-%")
                )
            )
        ).all()
        payments = await session.scalar(
            select(func.count())
            .select_from(m.PaymentAttempt)
            .join(m.Payment, m.Payment.id == m.PaymentAttempt.payment_id)
            .where(m.PaymentAttempt.idempotency_key.like("chaos-%"))
        )
        committed = set(
            (
                await session.scalars(
                    select(m.OutboxEvent.seq).where(
                        m.OutboxEvent.kind == "MESSAGE_RECEIVED",
                        m.OutboxEvent.patient_id == ALEX,
                        m.OutboxEvent.seq > start_seq,
                    )
                )
            ).all()
        )
        bookings = await _bookings(session, run)
        delivery_rows = await session.scalar(  # one per event sent (the operation is unnamed)
            select(func.count())
            .select_from(m.AuditEvent)
            .where(m.AuditEvent.operation == "messageReceived")
        )
        audited = set(
            (
                await session.scalars(
                    select(m.AuditEvent.request_id).where(m.AuditEvent.operation == "ChaosRead")
                )
            ).all()
        )
    await engine.dispose()
    charges = Counter(
        json.loads(line)["request"]
        for line in (await asyncio.to_thread(ledger.read_text)).splitlines()
        if line
    )
    status = dict(attempts)
    return {
        "messages": {
            "acknowledged": len(run.sent),
            "acknowledged_missing": sum(1 for b in run.sent if bodies[b] == 0),
            "acknowledged_doubled": sum(1 for b in run.sent if bodies[b] > 1),
            "unacknowledged": len(run.unacknowledged),
            "unacknowledged_stored": sum(1 for b in run.unacknowledged if bodies[b]),
        },
        "payments": {
            "acknowledged": len(run.paid),
            "acknowledged_not_succeeded": sum(1 for k in run.paid if status.get(k) != "succeeded"),
            "still_pending": sum(1 for s in status.values() if s == "pending"),
            "payments_per_attempt_ok": payments
            == sum(1 for s in status.values() if s == "succeeded"),
            "charged_twice": sum(
                1 for k in status if charges[gateway_reference(ALEX_ACCOUNT, k)] > 1
            ),
        },
        "bookings": bookings,
        "events": {
            "committed": len(committed),
            **{
                f"subscriber_{i}": {
                    "missing": len(committed - set(seqs)),
                    "duplicates": len(seqs) - len(set(seqs)),
                }
                for i, seqs in sorted(run.received.items())
            },
        },
        "audit": {
            "disclosed_reads": len(run.disclosed),
            "not_audited": sum(1 for r in run.disclosed if r not in audited),
            "events_received": sum(len(seqs) for seqs in run.received.values()),
            "event_audit_rows": delivery_rows,
        },
    }


async def _bookings(session: AsyncSession, run: Run) -> dict[str, int]:
    """Each acknowledged booking: its appointment stored, holding its slot, and the only
    appointment of the patient at that slot's provider and time."""
    slot_ids = {internal_id(gid, "Slot"): gid for gid in [*run.booked, *run.unbooked]}
    slots = (await session.scalars(select(m.Slot).where(m.Slot.id.in_(slot_ids)))).all()
    same_time = Counter(
        (provider, starts_at)
        for provider, starts_at in (
            await session.execute(
                select(m.Appointment.provider_id, m.Appointment.starts_at).where(
                    m.Appointment.patient_id == ALEX, m.Appointment.status != "cancelled"
                )
            )
        ).all()
    )
    missing = doubled = unacknowledged_stored = 0
    for slot in slots:
        gid = slot_ids[slot.id]
        held = same_time[(slot.provider_id, slot.starts_at)]
        if gid in run.booked:
            ok = slot.appointment_id == internal_id(run.booked[gid], "Appointment")
            missing += not ok or held == 0
            doubled += held > 1
        else:
            unacknowledged_stored += slot.appointment_id is not None
    return {
        "acknowledged": len(run.booked),
        "acknowledged_missing": missing,
        "acknowledged_doubled": doubled,
        "unacknowledged": len(run.unbooked),
        "unacknowledged_stored": unacknowledged_stored,
    }


async def chaos(args: argparse.Namespace) -> int:
    reason = available()
    if reason is not None:
        print(f"chaos skipped: {reason}")
        return 0
    workdir = Path(tempfile.mkdtemp(prefix="portal-chaos-"))
    pg = await ThrowawayPostgres().start()
    redis = Redis()
    servers: list[Server] = []
    try:
        await redis.start()
        url = await setup(workdir, pg, args.patients)
        env = {
            "REDIS_URL": redis.url,
            "REDIS_KEY_PREFIX": "chaos:",
            "PAYMENT_RECONCILE_INTERVAL_SECONDS": "1",
            "PAYMENT_RECONCILE_AFTER_SECONDS": "5",
            "SHUTDOWN_GRACE_SECONDS": "5",
        }
        servers = [await Server(url, workdir, env).start(within=90) for _ in range(2)]
        token = token_for(ALEX_ACCOUNT)
        run = Run(servers, token, "", "")
        found = await servers[0].gql(STATEMENTS, {"id": str(to_global_id("Patient", ALEX))}, token)
        nodes = found["data"]["patient"]["statements"]["nodes"]
        run.statement = max(nodes, key=lambda n: n["amountDue"]["amountCents"])["id"]
        slots = await servers[0].gql(SLOTS, {"id": str(to_global_id("Patient", ALEX))}, token)
        run.slots = [
            (n["id"], n["visitTypes"][0]) for n in slots["data"]["availableSlots"]["nodes"]
        ]
        engine = create_engine(url)
        async with session_factory(engine)() as session:
            thread = await session.scalar(
                select(m.MessageThread.id).where(m.MessageThread.patient_id == ALEX).limit(1)
            )
        await engine.dispose()
        run.thread = str(to_global_id("MessageThread", str(thread)))
        start_seq = int(await servers[0].seq())

        tasks = [asyncio.create_task(reader(run, i)) for i in range(args.readers)]
        tasks += [asyncio.create_task(writer(run, i)) for i in range(args.writers)]
        tasks += [asyncio.create_task(payer(run)), asyncio.create_task(booker(run))]
        tasks += [asyncio.create_task(subscriber(run, i, str(start_seq))) for i in range(2)]
        print(
            f"load: {args.readers} readers, {args.writers} writers, 1 payer, "
            f"1 booker ({len(run.slots)} open slots), 2 subscribers"
        )
        await asyncio.sleep(args.steady)
        faults = []

        async def kill_and_restart() -> None:
            victim = servers[0]
            if victim.process is None:
                raise BrokenInvariant("victim.process is None")
            victim.process.kill()
            await asyncio.to_thread(victim.process.wait, 10)
            servers[0] = await Server(url, workdir, env).start(within=90)

        async def restart_redis() -> None:
            await redis.stop()
            await asyncio.sleep(1)
            await redis.start()

        async def restart_postgres() -> None:
            await pg.stop()
            await asyncio.sleep(2)
            await pg.start()

        faults.append(await fault(run, "kill -9 one instance", kill_and_restart, args.steady))
        faults.append(await fault(run, "restart Redis", restart_redis, args.steady))
        faults.append(await fault(run, "restart PostgreSQL", restart_postgres, args.steady))
        run.phase = "after"
        await asyncio.sleep(args.steady)
        run.stop.set()
        await asyncio.sleep(8)  # the last events reach the subscribers; payments left
        run.unsubscribe.set()  # pending by the kill are reconciled after 5 s
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 30)
        await run.http.aclose()
        report = {
            "faults": faults,
            "seen_by_clients": {phase: dict(c) for phase, c in run.seen.items()},
            "reconciliation": await reconcile(
                run, url, start_seq, workdir / "sandbox-gateway.jsonl"
            ),
        }
    finally:
        for server in servers:
            await server.stop()
        await redis.stop()
        await pg.destroy()
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(report, indent=2))
    out = ROOT / "var" / "chaos.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    return 1 if failures(report) else 0


def failures(report: dict[str, Any]) -> list[str]:
    found = [
        f"{phase}: {what} x{n}"
        for phase, seen in report["seen_by_clients"].items()
        for what, n in seen.items()
        if what.startswith("500") or "INTERNAL_SERVER_ERROR" in what
    ]
    r = report["reconciliation"]
    checks = {
        "acknowledged message missing": r["messages"]["acknowledged_missing"],
        "acknowledged message doubled": r["messages"]["acknowledged_doubled"],
        "acknowledged payment not recorded": r["payments"]["acknowledged_not_succeeded"],
        "payment left pending": r["payments"]["still_pending"],
        "card charged twice": r["payments"]["charged_twice"],
        "acknowledged booking missing": r["bookings"]["acknowledged_missing"],
        "acknowledged booking doubled": r["bookings"]["acknowledged_doubled"],
        "disclosed read not audited": r["audit"]["not_audited"],
        "received event not audited": max(
            0, r["audit"]["events_received"] - r["audit"]["event_audit_rows"]
        ),
    }
    for name, sub in r["events"].items():
        if isinstance(sub, dict):
            checks[f"{name} missed events"] = sub["missing"]
            checks[f"{name} got duplicates"] = sub["duplicates"]
    found += [f"{what}: {n}" for what, n in checks.items() if n]
    if not r["payments"]["payments_per_attempt_ok"]:
        found.append("payments and succeeded attempts differ")
    for line in found:
        print(f"FAIL {line}", file=sys.stderr)
    return found


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=60)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--writers", type=int, default=2)
    parser.add_argument("--steady", type=float, default=6.0, help="seconds between faults")
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(asyncio.run(chaos(parse())))
