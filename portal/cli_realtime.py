"""Real-time commands: `portal release-due`, `portal prune-outbox` and `portal demo-ehr`."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import or_, select

from domain import ehr
from persistence import models as m
from runtime.config import from_env

# Lab tests the demo EHR finalizes: (LOINC, name, unit, low, high).
DEMO_TESTS = [
    ("2345-7", "Glucose", "mg/dL", 70.0, 99.0),
    ("2160-0", "Creatinine", "mg/dL", 0.6, 1.3),
    ("718-7", "Hemoglobin", "g/dL", 12.0, 16.0),
    ("2823-3", "Potassium", "mmol/L", 3.5, 5.1),
]
DEMO_REPLIES = [
    "Thanks for your message. Your results look fine; no changes needed.",
    "I reviewed your question. Let's talk about it at your next visit.",
    "Please keep taking your medication as prescribed and let us know how you feel.",
]


def _services(args: argparse.Namespace) -> Any:
    from runtime.services import build_services

    settings = from_env()
    if args.database_url:
        settings = replace(settings, database_url=args.database_url)
    return build_services(settings)


# -- release-due ---------------------------------------------------------------------------
async def _release_due(args: argparse.Namespace) -> int:
    from runtime.realtime.releases import release_due_results

    services = _services(args)
    try:
        released = await release_due_results(services, services.clock.now())
    finally:
        await services.engine.dispose()
    print(f"released {len(released)} held result(s)")
    return 0


def cmd_release_due(args: argparse.Namespace) -> int:
    return asyncio.run(_release_due(args))


# -- prune-outbox -------------------------------------------------------------------------
async def _prune_outbox(args: argparse.Namespace) -> int:
    from runtime.realtime.retention import prune_outbox

    services = _services(args)
    try:
        pruned = await prune_outbox(services, services.clock.now())
    finally:
        await services.engine.dispose()
    if pruned is None:
        print("REALTIME_RETENTION_HOURS is 0: outbox events are kept for ever, none pruned")
    else:
        print(f"pruned {pruned.events} outbox event(s); pruned through seq {pruned.through}")
    return 0


def cmd_prune_outbox(args: argparse.Namespace) -> int:
    return asyncio.run(_prune_outbox(args))


# -- demo-ehr ------------------------------------------------------------------------------
async def _demo_target(services: Any, who: str) -> tuple[str, str, str]:
    """(patient id, a thread of theirs, a provider) for a username, MRN or patient id."""
    async with services.session() as session:
        patient_id = await session.scalar(
            select(m.Account.patient_id).where(m.Account.username == who)
        ) or await session.scalar(
            select(m.Patient.id).where(or_(m.Patient.id == who, m.Patient.mrn == who))
        )
        if patient_id is None:
            raise SystemExit(f"demo-ehr: no patient {who!r} (a username, MRN or patient id)")
        thread = await session.scalar(
            select(m.MessageThread)
            .where(m.MessageThread.patient_id == patient_id)
            .order_by(m.MessageThread.last_message_at.desc())
            .limit(1)
        )
        provider = await session.scalar(
            select(m.Patient.pcp_provider_id).where(m.Patient.id == patient_id)
        ) or await session.scalar(select(m.Provider.id).order_by(m.Provider.id).limit(1))
    if thread is None or provider is None:
        raise SystemExit("demo-ehr: that patient has no message thread to reply in")
    return str(patient_id), thread.id, thread.provider_id or str(provider)


def _demo_events(patient_id: str, thread_id: str, provider_id: str) -> Any:
    """Alternately a provider reply and a released lab result, for ever."""
    for n in itertools.count():
        now = datetime.now(UTC).isoformat()
        if n % 2 == 0:
            yield {
                "id": f"demo-{uuid.uuid4().hex}",
                "type": "PROVIDER_REPLY",
                "occurredAt": now,
                "data": {
                    "threadId": thread_id,
                    "providerId": provider_id,
                    "body": DEMO_REPLIES[(n // 2) % len(DEMO_REPLIES)],
                },
            }
        else:
            code, name, unit, low, high = DEMO_TESTS[(n // 2) % len(DEMO_TESTS)]
            value = round(random.uniform(low * 0.9, high * 1.1), 1)  # noqa: S311 (demo data)
            yield {
                "id": f"demo-{uuid.uuid4().hex}",
                "type": "RESULT_FINALIZED",
                "occurredAt": now,
                "data": {
                    "resultId": f"res-demo-{uuid.uuid4().hex[:12]}",
                    "patientId": patient_id,
                    "orderingProviderId": provider_id,
                    "name": name,
                    "code": code,
                    "kind": "LAB",
                    "status": "FINAL",
                    "release": "RELEASED",
                    "collectedAt": now,
                    "resultedAt": now,
                    "components": [
                        {
                            "code": code,
                            "name": name,
                            "value": value,
                            "unit": unit,
                            "referenceLow": low,
                            "referenceHigh": high,
                        }
                    ],
                },
            }


async def _send(args: argparse.Namespace, services: Any, event: dict[str, Any]) -> str:
    if args.direct:
        from persistence.uow import UnitOfWork
        from portal.integration import ports
        from usecases.ehr import apply_once

        await apply_once(ehr.parse_event(event), UnitOfWork(services.sessions), ports(services))
        return "applied"
    token = args.token or services.settings.integration_token
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{args.url.rstrip('/')}/integration/events",
            json=event,
            headers={"authorization": f"Bearer {token}"},
            timeout=10,
        )
    return f"HTTP {response.status_code}"


async def _demo_ehr(args: argparse.Namespace) -> int:
    services = _services(args)
    try:
        patient_id, thread_id, provider_id = await _demo_target(services, args.patient)
        print(f"playing the EHR for {args.patient} ({patient_id}) every {args.every:g}s")
        events = _demo_events(patient_id, thread_id, provider_id)
        for n, event in enumerate(events, start=1):
            outcome = await _send(args, services, event)
            print(f"{datetime.now(UTC):%H:%M:%S} {event['type']}: {outcome}", flush=True)
            if args.count and n >= args.count:
                break
            await asyncio.sleep(args.every)
    finally:
        await services.engine.dispose()
    return 0


def cmd_demo_ehr(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_demo_ehr(args))
    except KeyboardInterrupt:
        return 0


def add_parsers(sub: Any) -> None:
    release = sub.add_parser(
        "release-due", help="release held results whose hold has ended, once (idempotent)"
    )
    release.set_defaults(func=cmd_release_due)

    prune = sub.add_parser(
        "prune-outbox",
        help="delete published outbox events older than REALTIME_RETENTION_HOURS, once "
        "(idempotent)",
    )
    prune.set_defaults(func=cmd_prune_outbox)

    demo = sub.add_parser(
        "demo-ehr", help="play the EHR: a provider reply, then a released result, repeatedly"
    )
    demo.add_argument("--patient", default="alex.rivera", help="username, MRN or patient id")
    demo.add_argument("--every", type=float, default=5.0, help="seconds between events")
    demo.add_argument("--count", type=int, default=0, help="stop after N events (0: never)")
    demo.add_argument(
        "--url",
        default=os.environ.get("PORTAL_URL", "http://127.0.0.1:8000"),
        help="the portal whose /integration/events receives the events",
    )
    demo.add_argument("--token", help="the feed's bearer token (default: INTEGRATION_TOKEN)")
    demo.add_argument(
        "--direct",
        action="store_true",
        help="apply the events to the database directly instead of over HTTP",
    )
    demo.set_defaults(func=cmd_demo_ehr)
