"""Push to browsers for real: registerDevice with a Web Push subscription, a notification,
and a push service on a loopback port that verifies the VAPID signature and decrypts the
payload with the subscription's keys; a gone subscription is forgotten, other failures are
tried again after a wait. Also the device list and its errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from persistence import models as m
from runtime.push.settings import PushSettings
from tests.api.test_notifications import REPLY, notify_mia, set_prefs
from tests.conftest import ACCOUNT_IDS, ALEX, JORDAN, NOW, Database, Portal, _portal, errors_of
from tests.push_service import Browser, PushService, running

SUBJECT = "mailto:push-test@example.com"
KEY = "query { webPushPublicKey }"
REGISTER = """
mutation Register($input: RegisterDeviceInput!) {
  registerDevice(input: $input) {
    device { id platform name lastUsedAt }
    errors { code field }
  }
}
"""
UNREGISTER = """
mutation Unregister($input: UnregisterDeviceInput!) {
  unregisterDevice(input: $input) { ok errors { code field } }
}
"""
DEVICES = "query { viewer { devices { id platform name createdAt lastUsedAt } } }"
PHI = ("Mia", "Rivera", "Okafor", "rash", "eczema", "cream")


@pytest.fixture
async def push_portal(fresh_db: Database) -> AsyncIterator[Portal]:
    settings = PushSettings(vapid_subject=SUBJECT, allow_http_endpoints=True)
    async for portal in _portal(fresh_db, push=settings):
        yield portal


@pytest.fixture
async def service(push_portal: Portal) -> AsyncIterator[PushService]:
    key = (await push_portal.gql(KEY))["data"]["webPushPublicKey"]
    async with running(PushService(key, SUBJECT)) as service:
        yield service


async def register_browser(
    portal: Portal, who: str, endpoint: str, browser: Browser, name: str = "Laptop"
) -> dict[str, Any]:
    variables = {
        "input": {
            "platform": "WEB_PUSH",
            "name": name,
            "endpoint": endpoint,
            "p256dh": browser.p256dh,
            "auth": Browser.b64(browser.auth),
        }
    }
    payload: dict[str, Any] = (await portal.gql(REGISTER, variables, as_user=who))["data"][
        "registerDevice"
    ]
    return payload


async def devices_of(portal: Portal, who: str) -> list[dict[str, Any]]:
    devices: list[dict[str, Any]] = (await portal.gql(DEVICES, as_user=who))["data"]["viewer"][
        "devices"
    ]
    return devices


async def deliveries(portal: Portal) -> list[m.NotificationDelivery]:
    async with portal.services.session() as session:
        stmt = select(m.NotificationDelivery).where(m.NotificationDelivery.channel == "PUSH")
        return list(await session.scalars(stmt))


async def alex_wants_push(portal: Portal) -> None:
    channels = ["IN_APP", "PUSH"]
    await set_prefs(portal, ALEX, [{"kind": "MESSAGE_RECEIVED", "channels": channels}])
    await set_prefs(portal, JORDAN, [{"kind": "MESSAGE_RECEIVED", "channels": ["IN_APP"]}])


async def test_a_push_reaches_the_browser_signed_and_encrypted(
    push_portal: Portal, service: PushService
) -> None:
    portal = push_portal
    endpoint, browser = service.subscribe("alex-laptop")
    payload = await register_browser(portal, ALEX, endpoint, browser)
    assert payload["errors"] == []
    assert payload["device"]["platform"] == "WEB_PUSH"
    assert [d["name"] for d in await devices_of(portal, ALEX)] == ["Laptop"]
    assert await devices_of(portal, JORDAN) == []  # per account
    await alex_wants_push(portal)

    await notify_mia(portal)
    assert await portal.services.deliveries.drain() == 1

    assert service.refused == []
    [received] = service.received
    assert received.claims is not None
    assert received.claims["aud"] == service.origin
    async with portal.services.session() as session:
        notification_id = await session.scalar(
            select(m.Notification.id).where(
                m.Notification.object_id == REPLY.object_id,
                m.Notification.account_id == ACCOUNT_IDS[ALEX],
            )
        )
    assert received.message == {
        "title": "Patient portal",
        "body": "You have something new in your patient portal.",
        "link": f"notification:{notification_id}",
    }
    assert not any(word in str(received.message) for word in PHI)
    assert [d["lastUsedAt"] for d in await devices_of(portal, ALEX)] == [NOW.isoformat()]
    assert [d.sent_at for d in await deliveries(portal)] == [NOW]
    assert await portal.services.deliveries.drain() == 0  # once


async def test_a_subscription_the_service_says_is_gone_is_forgotten(
    push_portal: Portal, service: PushService
) -> None:
    portal = push_portal
    gone, gone_browser = service.subscribe("old-phone")
    kept, kept_browser = service.subscribe("laptop")
    await register_browser(portal, ALEX, gone, gone_browser, "Old phone")
    await register_browser(portal, ALEX, kept, kept_browser, "Laptop")
    await alex_wants_push(portal)
    service.answer("/push/old-phone", 410)

    await notify_mia(portal)
    assert await portal.services.deliveries.drain() == 1
    assert [d["name"] for d in await devices_of(portal, ALEX)] == ["Laptop"]
    rows = {d.destination: d for d in await deliveries(portal)}
    assert len(rows) == 2
    failed = [d for d in rows.values() if d.failed_at is not None]
    assert [(d.last_error, d.attempts) for d in failed] == [("device gone", 1)]

    # Later notifications go to the remaining device only.
    await notify_mia(portal)
    assert await portal.services.deliveries.drain() == 1
    assert [r.path for r in service.received][-1] == "/push/laptop"


async def test_other_failures_are_tried_again_after_a_growing_wait(
    push_portal: Portal, service: PushService
) -> None:
    portal = push_portal
    endpoint, browser = service.subscribe("laptop")
    await register_browser(portal, ALEX, endpoint, browser)
    await alex_wants_push(portal)
    service.answer("/push/laptop", (503, {"Retry-After": "120"}), 500, 201)

    await notify_mia(portal)
    assert await portal.services.deliveries.drain() == 0
    [row] = await deliveries(portal)
    assert (row.attempts, row.sent_at, row.failed_at) == (1, None, None)
    assert row.next_attempt_at == NOW + timedelta(seconds=120)  # the service's Retry-After
    portal.clock.advance(timedelta(seconds=119))
    assert await portal.services.deliveries.drain() == 0  # not yet
    portal.clock.advance(timedelta(seconds=1))
    assert await portal.services.deliveries.drain() == 0  # 500 this time
    [row] = await deliveries(portal)
    assert row.next_attempt_at == portal.clock.now() + timedelta(seconds=60)  # 30 s, doubled
    portal.clock.advance(timedelta(seconds=60))
    assert await portal.services.deliveries.drain() == 1
    [row] = await deliveries(portal)
    assert (row.attempts, row.sent_at, row.last_error) == (3, portal.clock.now(), None)
    # The same encrypted message each time, each decrypted by the browser's keys.
    assert len({str(r.message) for r in service.received}) == 1
    assert len(service.received) == 3


async def test_devices_are_the_accounts_own_and_checked(
    push_portal: Portal, service: PushService
) -> None:
    portal = push_portal
    endpoint, browser = service.subscribe("laptop")
    bad = Browser()
    cases = {
        "p256dh": {"p256dh": "not-a-key"},
        "auth": {"auth": "c2hvcnQ"},
        "endpoint": {"endpoint": "ftp://push.example/x"},
        "name": {"name": "  "},
    }
    for field, change in cases.items():
        variables = {
            "input": {
                "platform": "WEB_PUSH",
                "name": "Laptop",
                "endpoint": endpoint,
                "p256dh": bad.p256dh,
                "auth": Browser.b64(bad.auth),
                **change,
            }
        }
        result = await portal.gql(REGISTER, variables, as_user=ALEX)
        assert result["data"]["registerDevice"]["errors"] == [
            {"code": "INVALID_DEVICE", "field": field}
        ], field
    native = {"input": {"platform": "APNS", "name": "Phone", "token": "xyz"}}
    result = await portal.gql(REGISTER, native, as_user=ALEX)
    assert result["data"]["registerDevice"]["errors"] == [
        {"code": "INVALID_DEVICE", "field": "token"}
    ]
    assert await devices_of(portal, ALEX) == []

    device = (await register_browser(portal, ALEX, endpoint, browser))["device"]
    # Jordan cannot remove Alex's device, nor see it; signed out, nobody can.
    refused = await portal.gql(UNREGISTER, {"input": {"id": device["id"]}}, as_user=JORDAN)
    assert refused["data"]["unregisterDevice"]["errors"] == [
        {"code": "DEVICE_NOT_FOUND", "field": "id"}
    ]
    signed_out = await portal.gql(UNREGISTER, {"input": {"id": device["id"]}})
    assert errors_of(signed_out) == [("UNAUTHENTICATED", None)]
    assert len(await devices_of(portal, ALEX)) == 1

    # The same subscription registered by Jordan (signed in on that browser) moves to him.
    moved = await register_browser(portal, JORDAN, endpoint, browser, "Shared laptop")
    assert moved["device"]["id"] == device["id"]
    assert await devices_of(portal, ALEX) == []
    done = await portal.gql(UNREGISTER, {"input": {"id": device["id"]}}, as_user=JORDAN)
    assert done["data"]["unregisterDevice"] == {"ok": True, "errors": []}
    assert await devices_of(portal, JORDAN) == []


async def test_an_account_has_at_most_twenty_devices(fresh_portal: Portal) -> None:
    portal = fresh_portal
    for n in range(21):
        token = f"{n:02d}" * 32
        variables = {"input": {"platform": "APNS", "name": f"Phone {n}", "token": token}}
        payload = (await portal.gql(REGISTER, variables, as_user=ALEX))["data"]["registerDevice"]
        expected = [] if n < 20 else [{"code": "TOO_MANY_DEVICES", "field": None}]
        assert payload["errors"] == expected, n
    assert len(await devices_of(portal, ALEX)) == 20
    # Registering one of them again is an update, not a 21st.
    again = {"input": {"platform": "APNS", "name": "Renamed", "token": "00" * 32}}
    payload = (await portal.gql(REGISTER, again, as_user=ALEX))["data"]["registerDevice"]
    assert payload["errors"] == []
    assert "Renamed" in [d["name"] for d in await devices_of(portal, ALEX)]


async def test_plain_http_endpoints_are_refused_unless_allowed(fresh_portal: Portal) -> None:
    browser = Browser()
    payload = await register_browser(fresh_portal, ALEX, "http://127.0.0.1:9/push/x", browser)
    assert payload["errors"] == [{"code": "INVALID_DEVICE", "field": "endpoint"}]
