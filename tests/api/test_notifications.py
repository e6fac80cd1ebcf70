"""Notification channels per account and kind, honoured by notify(): in-app rows, email in
the mail outbox, SMS and push in the delivery outbox sent after commit, none of them
carrying PHI; and markNotificationsRead for the viewer's own notifications only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from domain.devices import DeviceAddress, PushMessage
from domain.scopes import RecordArea
from persistence import models as m
from persistence.notify import Notice, notify
from schema.base import to_global_id
from tests.conftest import ACCOUNT_IDS, ALEX, JORDAN, NOW, Portal, errors_of

MIA = "pat-0000003"
ALEX_PHONE = "508-555-0182"  # Alex's own patient record

PREFS = "query Prefs { viewer { notificationPreferences { kind channels isDefault } } }"

UPDATE = """
mutation Update($input: UpdateNotificationPreferencesInput!) {
  updateNotificationPreferences(input: $input) {
    preferences { kind channels isDefault }
    errors { code field }
  }
}
"""

MARK = """
mutation Mark($input: MarkNotificationsReadInput!) {
  markNotificationsRead(input: $input) {
    notifications { id readAt }
    errors { code field }
  }
}
"""

FEED = "query Feed { viewer { notifications(first: 50) { nodes { id readAt } } } }"

KINDS = [
    "MESSAGE_RECEIVED",
    "RESULT_RELEASED",
    "APPOINTMENT_REMINDER",
    "STATEMENT_ISSUED",
    "APPOINTMENT_CHANGED",
    "NOTE_SIGNED",
    "HEALTH_MAINTENANCE_DUE",
    "APPOINTMENT_REQUEST_ANSWERED",
    "PRESCRIPTION_RENEWAL_ANSWERED",
    "TERMS_UPDATED",
]

# What a provider's reply about a child tells: PHI that must not leave the portal.
REPLY = Notice(
    "MESSAGE_RECEIVED",
    RecordArea.MESSAGES,
    "Dr. Okafor replied about Mia's rash",
    "Mia Rivera: the rash looks like eczema; use the cream twice a day.",
    "msg-test-reply",
)
RESULT = Notice("RESULT_RELEASED", RecordArea.RESULTS, "t", "b", "res-test-result")


async def set_prefs(portal: Portal, who: str, prefs: list[dict[str, Any]]) -> dict[str, Any]:
    result = await portal.gql(UPDATE, {"input": {"preferences": prefs}}, as_user=who)
    payload: dict[str, Any] = result["data"]["updateNotificationPreferences"]
    return payload


async def prefs_of(portal: Portal, who: str) -> dict[str, tuple[list[str], bool]]:
    result = await portal.gql(PREFS, as_user=who)
    return {
        p["kind"]: (p["channels"], p["isDefault"])
        for p in result["data"]["viewer"]["notificationPreferences"]
    }


async def notify_mia(portal: Portal, notice: Notice = REPLY, commit: bool = True) -> None:
    async with portal.services.session() as session:
        await notify(session, MIA, notice, portal.clock.now(), portal.services.settings.ages)
        if commit:
            await session.commit()
        else:
            await session.rollback()


async def all_rows(portal: Portal, model: type[m.Base]) -> list[Any]:
    """Rows written by these tests (the demo data has notifications of its own)."""
    async with portal.services.session() as session:
        stmt = select(model)
        if model is m.Notification:
            stmt = stmt.where(m.Notification.object_id.in_([REPLY.object_id, RESULT.object_id]))
        if model is m.OutboxEvent:
            stmt = stmt.where(m.OutboxEvent.created_at >= NOW)
        return list((await session.scalars(stmt)).all())


class Recorder:
    """An SMS and push gateway that keeps what it was given (optionally failing first)."""

    def __init__(self, failures: int = 0) -> None:
        self.sent: list[tuple[str, str, str]] = []
        self.failures = failures

    def _maybe_fail(self) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("gateway unreachable")

    async def send_sms(self, to: str, text: str) -> None:
        self._maybe_fail()
        self.sent.append(("SMS", to, text))

    async def send_push(self, device: DeviceAddress, message: PushMessage) -> None:
        self._maybe_fail()
        self.sent.append(("PUSH", device.address, message.body))


def use(portal: Portal, recorder: Recorder) -> None:
    portal.services.deliveries.sms = recorder
    portal.services.deliveries.push = recorder


# -- preferences -------------------------------------------------------------------------------
async def test_defaults_then_choices_per_account_and_kind(fresh_portal: Portal) -> None:
    portal = fresh_portal
    defaults = {kind: (["IN_APP", "EMAIL"], True) for kind in KINDS}
    assert await prefs_of(portal, ALEX) == defaults

    payload = await set_prefs(
        portal,
        ALEX,
        [
            {"kind": "MESSAGE_RECEIVED", "channels": ["PUSH", "SMS", "IN_APP", "PUSH"]},
            {"kind": "STATEMENT_ISSUED", "channels": []},
        ],
    )
    assert payload["errors"] == []
    want = {
        **defaults,
        "MESSAGE_RECEIVED": (["IN_APP", "SMS", "PUSH"], False),
        "STATEMENT_ISSUED": ([], False),
    }
    assert {p["kind"]: (p["channels"], p["isDefault"]) for p in payload["preferences"]} == want
    assert await prefs_of(portal, ALEX) == want
    assert await prefs_of(portal, JORDAN) == defaults  # per account

    # A later change replaces only the kinds it names.
    await set_prefs(portal, ALEX, [{"kind": "MESSAGE_RECEIVED", "channels": ["EMAIL"]}])
    assert (await prefs_of(portal, ALEX))["MESSAGE_RECEIVED"] == (["EMAIL"], False)
    assert (await prefs_of(portal, ALEX))["STATEMENT_ISSUED"] == ([], False)


async def test_a_kind_given_twice_is_refused_and_changes_nothing(fresh_portal: Portal) -> None:
    portal = fresh_portal
    before = await prefs_of(portal, ALEX)
    payload = await set_prefs(
        portal,
        ALEX,
        [
            {"kind": "RESULT_RELEASED", "channels": ["SMS"]},
            {"kind": "RESULT_RELEASED", "channels": []},
        ],
    )
    assert payload["errors"] == [{"code": "DUPLICATE_KIND", "field": "preferences"}]
    assert await prefs_of(portal, ALEX) == before
    signed_out = await portal.gql(UPDATE, {"input": {"preferences": []}})
    assert errors_of(signed_out) == [("UNAUTHENTICATED", None)]
    assert errors_of(await portal.gql(PREFS)) == []  # signed out: viewer is null
    assert (await portal.gql(PREFS))["data"]["viewer"] is None


APNS_TOKEN = "a1" * 32
REGISTER = """
mutation Register($input: RegisterDeviceInput!) {
  registerDevice(input: $input) { device { id } errors { code field } }
}
"""


async def register_phone(portal: Portal, who: str) -> str:
    variables = {"input": {"platform": "APNS", "name": "Phone", "token": APNS_TOKEN}}
    result = await portal.gql(REGISTER, variables, as_user=who)
    payload = result["data"]["registerDevice"]
    assert payload["errors"] == []
    async with portal.services.session() as session:
        [device_id] = await session.scalars(select(m.Device.id))
    return str(device_id)


# -- notify() honours them -----------------------------------------------------------------------
async def test_notify_uses_each_readers_channels_and_keeps_phi_inside(
    fresh_portal: Portal,
) -> None:
    portal = fresh_portal
    await set_prefs(portal, ALEX, [{"kind": "MESSAGE_RECEIVED", "channels": ["SMS", "PUSH"]}])
    await set_prefs(portal, JORDAN, [{"kind": "MESSAGE_RECEIVED", "channels": ["IN_APP", "EMAIL"]}])
    phone = await register_phone(portal, ALEX)
    await notify_mia(portal)  # Alex: SMS and push only (one phone); Jordan: in-app and email

    notifications = await all_rows(portal, m.Notification)
    assert [n.account_id for n in notifications] == [ACCOUNT_IDS[JORDAN]]
    mails = await all_rows(portal, m.OutgoingMail)
    assert [mail.to_address for mail in mails] == ["jordan.rivera@example.org"]
    deliveries = await all_rows(portal, m.NotificationDelivery)
    assert sorted((d.channel, d.account_id, d.destination) for d in deliveries) == [
        ("PUSH", ACCOUNT_IDS[ALEX], phone),
        ("SMS", ACCOUNT_IDS[ALEX], ALEX_PHONE),
    ]
    # Alex chose no in-app row, so the push links to nothing in particular.
    assert [d.link for d in deliveries if d.channel == "PUSH"] == [None]
    outside = [mails[0].subject, mails[0].body, *(d.text for d in deliveries)]
    for text in outside:
        for phi in ("Mia", "Rivera", "Okafor", "rash", "eczema", "cream"):
            assert phi not in text
    assert "new message" in mails[0].body

    # Sent after commit, by the dispatcher, once.
    recorder = Recorder()
    use(portal, recorder)
    assert await portal.services.deliveries.drain() == 2
    texts = {d.channel: d.text for d in deliveries}
    assert sorted(recorder.sent) == sorted(
        [("SMS", ALEX_PHONE, texts["SMS"]), ("PUSH", APNS_TOKEN, texts["PUSH"])]
    )
    assert await portal.services.deliveries.drain() == 0
    assert all(d.sent_at == NOW for d in await all_rows(portal, m.NotificationDelivery))


async def test_no_channel_means_nothing_at_all(fresh_portal: Portal) -> None:
    portal = fresh_portal
    for who in (ALEX, JORDAN):
        await set_prefs(portal, who, [{"kind": "MESSAGE_RECEIVED", "channels": []}])
    await notify_mia(portal)
    for model in (m.Notification, m.OutgoingMail, m.NotificationDelivery, m.OutboxEvent):
        assert await all_rows(portal, model) == [], model
    # Other kinds still use the defaults.
    await notify_mia(portal, RESULT)
    assert len(await all_rows(portal, m.Notification)) == 2


async def test_a_failed_send_is_retried_and_a_rollback_sends_nothing(
    fresh_portal: Portal,
) -> None:
    portal = fresh_portal
    await set_prefs(portal, ALEX, [{"kind": "MESSAGE_RECEIVED", "channels": ["SMS"]}])
    await notify_mia(portal, commit=False)
    assert await all_rows(portal, m.NotificationDelivery) == []
    assert await all_rows(portal, m.OutgoingMail) == []

    await notify_mia(portal)
    recorder = Recorder(failures=1)
    use(portal, recorder)
    assert await portal.services.deliveries.drain() == 0
    [row] = await all_rows(portal, m.NotificationDelivery)
    assert (row.attempts, row.sent_at) == (1, None)
    assert row.last_error == "ConnectionError: gateway unreachable"
    assert row.next_attempt_at == NOW + timedelta(seconds=30)  # backoff: not before then
    assert await portal.services.deliveries.drain() == 0
    portal.clock.advance(timedelta(seconds=30))
    assert await portal.services.deliveries.drain() == 1
    assert [to for _, to, _ in recorder.sent] == [ALEX_PHONE]
    [row] = await all_rows(portal, m.NotificationDelivery)
    assert (row.attempts, row.sent_at, row.last_error) == (2, portal.clock.now(), None)


# -- markNotificationsRead -----------------------------------------------------------------------
async def _feed(portal: Portal, who: str) -> dict[str, str | None]:
    result = await portal.gql(FEED, as_user=who)
    return {n["id"]: n["readAt"] for n in result["data"]["viewer"]["notifications"]["nodes"]}


async def test_marking_notifications_read_touches_only_the_viewers_own(
    fresh_portal: Portal,
) -> None:
    portal = fresh_portal
    had = set(await _feed(portal, ALEX)) | set(await _feed(portal, JORDAN))
    await notify_mia(portal)
    await notify_mia(portal, RESULT)
    alex = [i for i in await _feed(portal, ALEX) if i not in had]
    jordan = [i for i in await _feed(portal, JORDAN) if i not in had]
    assert len(alex) == len(jordan) == 2
    first, second = alex

    result = await portal.gql(MARK, {"input": {"ids": [first]}}, as_user=ALEX)
    payload = result["data"]["markNotificationsRead"]
    assert payload["errors"] == []
    assert payload["notifications"] == [{"id": first, "readAt": NOW.isoformat()}]
    feed = await _feed(portal, ALEX)
    assert (feed[first], feed[second]) == (NOW.isoformat(), None)

    before = (await _feed(portal, ALEX), await _feed(portal, JORDAN))
    refusals = [
        ({"ids": [second, jordan[0]]}, "NOTIFICATION_NOT_FOUND"),  # not hers
        ({"ids": [str(to_global_id("Notification", "ntf-unknown"))]}, "NOTIFICATION_NOT_FOUND"),
        ({"ids": [second], "all": True}, "IDS_OR_ALL_REQUIRED"),
        ({}, "IDS_OR_ALL_REQUIRED"),
        ({"ids": []}, "IDS_OR_ALL_REQUIRED"),
    ]
    for variables, code in refusals:
        result = await portal.gql(MARK, {"input": variables}, as_user=ALEX)
        assert result["data"]["markNotificationsRead"]["errors"] == [
            {"code": code, "field": "ids"}
        ], variables
        assert (await _feed(portal, ALEX), await _feed(portal, JORDAN)) == before

    unread = [i for i, read_at in before[0].items() if read_at is None]
    result = await portal.gql(MARK, {"input": {"all": True}}, as_user=ALEX)
    marked = [n["id"] for n in result["data"]["markNotificationsRead"]["notifications"]]
    assert second in marked
    assert sorted(marked) == sorted(unread)
    assert None not in set((await _feed(portal, ALEX)).values())
    assert await _feed(portal, JORDAN) == before[1]
