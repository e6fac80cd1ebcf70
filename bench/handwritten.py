"""The benchmark's yardstick: the home dashboard written by hand with Starlette and asyncpg.

`POST /dashboard {"id": <patient global id>, "n": <list size>}` with the same bearer token
answers `{"data": {"patient": ...}}`, the same JSON as the GraphQL dashboard query of
tests/api/test_no_n_plus_one.py, in five SQL statements (the account with the two totals,
then one per list, nested lists folded in with json_agg). It reuses the domain rules (release
status, flags, appointment actions, money) so the answers are identical; what it skips is
what the GraphQL app adds: parsing and validation, resolvers, DataLoaders, the ORM, the
general access policy (it serves the patient's own record only), audit and metrics.

    DATABASE_URL=postgresql://... JWT_SECRET=... uvicorn bench.handwritten:app
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from domain.appointments import ACTIVE_STATUSES, AppointmentFacts, actions_for
from domain.errors import BrokenInvariant
from domain.money import Money
from domain.results import flag_of, release_of
from runtime.config import Settings, from_env
from runtime.security import InvalidToken, TokenIssuer
from schema.base import from_global_id, to_global_id

STATEMENTS = 5  # SQL statements per dashboard, counted by `queries` below

ACCOUNT = """
SELECT a.patient_id, p.given_name, p.preferred_name, p.family_name,
  (SELECT count(*) FROM messages ms
     JOIN message_threads t ON t.id = ms.thread_id
     LEFT JOIN thread_reads tr ON tr.thread_id = ms.thread_id AND tr.account_id = a.id
   WHERE t.patient_id = a.patient_id AND ms.sender_kind = 'provider'
     AND (tr.read_through IS NULL OR ms.sent_at > tr.read_through)) AS unread,
  (SELECT coalesce(sum(li.patient_cents), 0)::bigint FROM statement_line_items li
     JOIN statements s ON s.id = li.statement_id
   WHERE s.guarantor_patient_id = a.patient_id AND s.status = 'open') AS open_cents,
  (SELECT coalesce(sum(pay.amount_cents), 0)::bigint FROM payments pay
     JOIN statements s ON s.id = pay.statement_id
   WHERE s.guarantor_patient_id = a.patient_id AND s.status = 'open') AS paid_cents,
  (SELECT min(s.currency) FROM statements s
   WHERE s.guarantor_patient_id = a.patient_id AND s.status = 'open') AS currency
FROM accounts a JOIN patients p ON p.id = a.patient_id
WHERE a.id = $1
"""

APPOINTMENTS = """
SELECT ap.id, ap.starts_at, ap.status, ap.visit_type, ap.department_id, ap.duration_minutes,
  ap.telehealth, pr.display_name AS provider_name, pr.specialty, d.name AS department_name,
  d.phone
FROM appointments ap
LEFT JOIN providers pr ON pr.id = ap.provider_id
LEFT JOIN departments d ON d.id = ap.department_id
WHERE ap.patient_id = $1 AND ap.starts_at >= $2 AND ap.status = ANY($3::text[])
ORDER BY ap.starts_at, ap.id
LIMIT $4
"""

RESULTS = """
SELECT r.id, r.name, r.code, r.kind, r.status, r.resulted_at, r.released_at,
  EXISTS (SELECT 1 FROM result_hold_preferences h
          WHERE h.patient_id = r.patient_id AND h.kind = r.kind) AS held,
  (SELECT json_agg(json_build_array(c.loinc, c.value, c.unit, c.ref_low, c.ref_high)
                   ORDER BY c.position)
   FROM result_components c WHERE c.result_id = r.id) AS components
FROM results r
WHERE r.patient_id = $1
ORDER BY r.resulted_at DESC, r.id DESC
LIMIT $2
"""

THREADS = """
SELECT t.id, t.subject,
  (SELECT count(*) FROM messages ms
     LEFT JOIN thread_reads tr ON tr.thread_id = ms.thread_id AND tr.account_id = $2
   WHERE ms.thread_id = t.id AND ms.sender_kind = 'provider'
     AND (tr.read_through IS NULL OR ms.sent_at > tr.read_through)) AS unread,
  last.body, last.sent_at, last.sender_name
FROM message_threads t
LEFT JOIN LATERAL (
  SELECT ms.body, ms.sent_at, ms.sender_name FROM messages ms
  WHERE ms.thread_id = t.id ORDER BY ms.sent_at DESC, ms.id DESC LIMIT 1
) last ON true
WHERE t.patient_id = $1
ORDER BY t.last_message_at DESC, t.id DESC
LIMIT $3
"""

STATEMENTS_SQL = """
SELECT s.id, s.currency,
  (SELECT json_agg(json_build_array(li.description, li.patient_cents)
                   ORDER BY li.service_date, li.id)
   FROM statement_line_items li WHERE li.statement_id = s.id) AS lines,
  (SELECT coalesce(sum(pay.amount_cents), 0)::bigint FROM payments pay
   WHERE pay.statement_id = s.id) AS paid
FROM statements s
WHERE s.guarantor_patient_id = $1 AND s.status = 'open'
ORDER BY s.statement_date DESC, s.id DESC
LIMIT $2
"""

queries = 0  # statements run by this process (the benchmark reads it in-process)


class Yardstick:
    def __init__(self, settings: Settings, clock: Callable[[], datetime]) -> None:
        self.settings = settings
        self.clock = clock
        self.tokens = TokenIssuer(
            settings.jwt_secret, settings.jwt_issuer, settings.jwt_audience, timedelta(0)
        )
        self.pool: asyncpg.Pool | None = None

    async def fetch(self, connection: Any, sql: str, *args: Any) -> list[Any]:
        global queries
        queries += 1
        rows: list[Any] = await connection.fetch(sql, *args)
        return rows

    async def dashboard(self, account_id: str, patient_gid: str, n: int) -> dict[str, Any] | None:
        if self.pool is None:
            raise BrokenInvariant("self.pool is None")
        kind, patient_id = from_global_id(patient_gid)
        now = self.clock()
        async with self.pool.acquire() as connection:
            [account] = await self.fetch(connection, ACCOUNT, account_id) or [None]
            if account is None or kind != "Patient" or account["patient_id"] != patient_id:
                return None  # the yardstick serves the patient's own record only
            appointments = await self.fetch(
                connection, APPOINTMENTS, patient_id, now, sorted(ACTIVE_STATUSES), n
            )
            results = await self.fetch(connection, RESULTS, patient_id, n)
            threads = await self.fetch(connection, THREADS, patient_id, account_id, n)
            statements = await self.fetch(connection, STATEMENTS_SQL, patient_id, n)
        currency = account["currency"] or "USD"
        balance = Money(account["open_cents"] - account["paid_cents"], currency)
        return {
            "name": {
                "display": f"{account['preferred_name'] or account['given_name']} "
                f"{account['family_name']}"
            },
            "appointments": edges(self.appointment(row, now) for row in appointments),
            "results": edges(self.result(row, now) for row in results),
            "messageThreads": edges(thread(row) for row in threads),
            "unreadMessageCount": account["unread"],
            "statements": edges(statement(row) for row in statements),
            "balance": {"formatted": balance.formatted},
        }

    def appointment(self, row: Any, now: datetime) -> dict[str, Any]:
        actions = actions_for(
            AppointmentFacts(
                row["status"], row["starts_at"], row["visit_type"], row["department_id"]
            ),
            duration=timedelta(minutes=row["duration_minutes"]),
            telehealth=row["telehealth"],
            now=now,
            policy=self.settings.appointments,
        )
        return {
            "id": to_global_id("Appointment", row["id"]),
            "startsAt": row["starts_at"].isoformat(),
            "status": row["status"].upper(),
            "canCancel": actions.can_cancel,
            "canCheckIn": actions.can_check_in,
            "provider": {"name": row["provider_name"], "specialty": row["specialty"]}
            if row["provider_name"] is not None
            else None,
            "department": {"name": row["department_name"], "phone": row["phone"]}
            if row["department_name"] is not None
            else None,
        }

    def result(self, row: Any, now: datetime) -> dict[str, Any]:
        release = release_of(
            kind=row["kind"],
            code=row["code"],
            status=row["status"],
            resulted_at=row["resulted_at"],
            released_at=row["released_at"],
            held_by_patient=row["held"],
            now=now,
            policy=self.settings.release,
        )
        components = None
        if release.released:
            components = [component(*c) for c in json.loads(row["components"] or "[]")]
        return {
            "id": to_global_id("Result", row["id"]),
            "name": row["name"],
            "releaseStatus": release.status.name,
            "components": components,
        }


def component(
    code: str, value: float | None, unit: str | None, low: float | None, high: float | None
) -> dict[str, Any]:
    flag = flag_of(value, low, high)
    return {
        "code": code,
        "value": value,
        "unit": unit,
        "flag": flag.name if flag else None,
        "referenceRange": None if low is None and high is None else {"low": low, "high": high},
    }


def thread(row: Any) -> dict[str, Any]:
    latest = []
    if row["sent_at"] is not None:
        latest = [
            {
                "node": {
                    "body": row["body"],
                    "sentAt": row["sent_at"].isoformat(),
                    "sender": {"name": row["sender_name"]},
                }
            }
        ]
    return {
        "id": to_global_id("MessageThread", row["id"]),
        "subject": row["subject"],
        "unreadCount": row["unread"],
        "messages": {"edges": latest},
    }


def statement(row: Any) -> dict[str, Any]:
    lines = json.loads(row["lines"] or "[]")
    due = Money(sum(cents for _, cents in lines) - row["paid"], row["currency"])
    return {
        "id": to_global_id("Statement", row["id"]),
        "amountDue": {"formatted": due.formatted},
        "lineItems": [
            {"description": text, "patientResponsibility": {"amountCents": cents}}
            for text, cents in lines
        ],
    }


def edges(nodes: Any) -> dict[str, Any]:
    return {"edges": [{"node": node} for node in nodes]}


def _utcnow() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: Settings | None = None, clock: Callable[[], datetime] = _utcnow
) -> Starlette:
    yardstick = Yardstick(settings or from_env(), clock)

    async def dashboard(request: Request) -> Response:
        header = request.headers.get("authorization", "")
        try:
            claims = yardstick.tokens.verify(header.removeprefix("Bearer "), yardstick.clock())
        except InvalidToken:
            return Response(b'{"error": "unauthenticated"}', 401, media_type="application/json")
        body = orjson.loads(await request.body())
        patient = await yardstick.dashboard(claims.account_id, body["id"], int(body["n"]))
        if patient is None:
            return Response(b'{"error": "forbidden"}', 403, media_type="application/json")
        return Response(orjson.dumps({"data": {"patient": patient}}), media_type="application/json")

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        url = yardstick.settings.database_url.replace("postgresql+asyncpg://", "postgresql://")
        size = int(os.environ.get("DATABASE_POOL_SIZE", "10"))
        yardstick.pool = await asyncpg.create_pool(url, min_size=1, max_size=size)
        try:
            yield
        finally:
            await yardstick.pool.close()

    return Starlette(routes=[Route("/dashboard", dashboard, methods=["POST"])], lifespan=lifespan)


def app_from_env() -> Starlette:
    return create_app()
