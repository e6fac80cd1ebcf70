"""APNs and FCM senders, offline: the requests they make (checked by a local HTTP service
standing in for Apple, Google's token endpoint and FCM) and what they make of the answers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs

import jwt
import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from domain.devices import DeviceAddress, DeviceGone, Platform, PushFailed, PushMessage
from runtime.config import ConfigError, from_env
from runtime.push import build_push_sender
from runtime.push.apns import ApnsSender
from runtime.push.fcm import SCOPE, FcmSender
from runtime.push.settings import (
    ApnsSettings,
    FcmSettings,
    PushSettings,
    push_settings_from_env,
    vapid_public_key,
)
from tests.mailbox import free_port
from tests.push_service import PushService, running

MESSAGE = PushMessage(link="notification:ntf-1")
APNS_TOKEN = "ab" * 32
FCM_TOKEN = "fcm-token:" + "x" * 40


def _pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture
async def service() -> AsyncIterator[PushService]:
    async with running(PushService("", "")) as service:
        yield service


# -- APNs --------------------------------------------------------------------------------------
@pytest.fixture
def apns_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def apns(service: PushService, key: ec.EllipticCurvePrivateKey) -> ApnsSender:
    settings = ApnsSettings(_pem(key), "KEY1234567", "TEAM123456", "org.example.portal")
    return ApnsSender(
        ApnsSettings(**{**settings.__dict__, "url": service.origin}), ttl_seconds=3600
    )


async def test_apns_request_is_apples_documented_shape(
    service: PushService, apns_key: ec.EllipticCurvePrivateKey
) -> None:
    sender = apns(service, apns_key)
    try:
        await sender.send_push(DeviceAddress(Platform.APNS, APNS_TOKEN), MESSAGE)
    finally:
        await sender.close()
    [request] = service.received
    assert request.path == f"/3/device/{APNS_TOKEN}"
    scheme, token = request.headers["authorization"].split(" ")
    assert scheme == "bearer"
    assert jwt.get_unverified_header(token) == {"alg": "ES256", "kid": "KEY1234567", "typ": "JWT"}
    claims = jwt.decode(token, apns_key.public_key(), algorithms=["ES256"])
    assert claims["iss"] == "TEAM123456"
    assert request.headers["apns-topic"] == "org.example.portal"
    assert request.headers["apns-push-type"] == "alert"
    assert request.headers["apns-priority"] == "10"
    assert orjson.loads(request.body) == {
        "aps": {
            "alert": {"title": MESSAGE.title, "body": MESSAGE.body},
            "sound": "default",
        },
        "link": "notification:ntf-1",
    }


@pytest.mark.parametrize(
    ("status", "reason", "gone"),
    [
        (410, "Unregistered", True),
        (400, "BadDeviceToken", True),
        (400, "DeviceTokenNotForTopic", True),
        (400, "PayloadTooLarge", False),
        (429, "TooManyRequests", False),
        (503, "ServiceUnavailable", False),
        (403, "ExpiredProviderToken", False),
    ],
)
async def test_apns_answers(
    service: PushService,
    apns_key: ec.EllipticCurvePrivateKey,
    status: int,
    reason: str,
    gone: bool,
) -> None:
    path = f"/3/device/{APNS_TOKEN}"
    service.answer(path, (status, {"retry-after": "90"}))
    service.json_answers[path] = {"reason": reason}
    sender = apns(service, apns_key)
    try:
        sender.provider_token()
        with pytest.raises(DeviceGone if gone else PushFailed) as raised:
            await sender.send_push(DeviceAddress(Platform.APNS, APNS_TOKEN), MESSAGE)
        if isinstance(raised.value, PushFailed):
            assert raised.value.retry_after == timedelta(seconds=90)
        # A refused provider token is made anew for the next request.
        assert (sender._token is None) == (reason == "ExpiredProviderToken")
    finally:
        await sender.close()


async def test_an_unreachable_service_is_a_failure_to_retry(
    apns_key: ec.EllipticCurvePrivateKey,
) -> None:
    nowhere = PushService("", "")
    nowhere.origin = f"http://127.0.0.1:{free_port()}"
    sender = apns(nowhere, apns_key)
    try:
        with pytest.raises(PushFailed):
            await sender.send_push(DeviceAddress(Platform.APNS, APNS_TOKEN), MESSAGE)
    finally:
        await sender.close()


# -- FCM -----------------------------------------------------------------------------------------
@pytest.fixture
def google_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def fcm(service: PushService, key: rsa.RSAPrivateKey, tmp_path: Path) -> FcmSender:
    account = {
        "type": "service_account",
        "project_id": "portal-test",
        "private_key_id": "key-1",
        "private_key": _pem(key),
        "client_email": "pusher@portal-test.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": f"{service.origin}/token",
    }
    path = tmp_path / "service-account.json"
    path.write_bytes(orjson.dumps(account))
    service.json_answers["/token"] = {
        "access_token": "ya29.test-token",
        "expires_in": 3600,
        "token_type": "Bearer",
    }
    return FcmSender(FcmSettings(str(path), "portal-test", service.origin), ttl_seconds=3600)


async def test_fcm_gets_a_token_for_the_service_account_then_sends_v1_messages(
    service: PushService, google_key: rsa.RSAPrivateKey, tmp_path: Path
) -> None:
    sender = fcm(service, google_key, tmp_path)
    try:
        await sender.send_push(DeviceAddress(Platform.FCM, FCM_TOKEN), MESSAGE)
        await sender.send_push(DeviceAddress(Platform.FCM, FCM_TOKEN), MESSAGE)
    finally:
        await sender.close()
    token_request, *sends = service.received
    assert [r.path for r in sends] == ["/v1/projects/portal-test/messages:send"] * 2  # one token
    form = parse_qs(token_request.body.decode())
    assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    assertion = jwt.decode(
        form["assertion"][0],
        google_key.public_key(),
        algorithms=["RS256"],
        audience="https://oauth2.googleapis.com/token",  # google-auth's fixed audience
    )
    assert assertion["scope"] == SCOPE
    assert assertion["iss"] == "pusher@portal-test.iam.gserviceaccount.com"
    assert sends[0].headers["authorization"] == "Bearer ya29.test-token"
    assert orjson.loads(sends[0].body) == {
        "message": {
            "token": FCM_TOKEN,
            "notification": {"title": MESSAGE.title, "body": MESSAGE.body},
            "data": {"link": "notification:ntf-1"},
            "android": {"ttl": "3600s", "priority": "HIGH"},
        }
    }


def _fcm_error(status: str, code: str | None = None, field: str | None = None) -> object:
    details: list[dict[str, object]] = []
    if code:
        details.append(
            {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}
        )
    if field:
        details.append(
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{"field": field, "description": "bad"}],
            }
        )
    return {"error": {"code": 400, "status": status, "details": details}}


@pytest.mark.parametrize(
    ("status", "error", "gone"),
    [
        (404, _fcm_error("NOT_FOUND", "UNREGISTERED"), True),
        (400, _fcm_error("INVALID_ARGUMENT", "INVALID_ARGUMENT", "message.token"), True),
        (400, _fcm_error("INVALID_ARGUMENT", "INVALID_ARGUMENT", "message.android.ttl"), False),
        (429, _fcm_error("RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED"), False),
        (503, _fcm_error("UNAVAILABLE", "UNAVAILABLE"), False),
        (401, _fcm_error("UNAUTHENTICATED", "THIRD_PARTY_AUTH_ERROR"), False),
    ],
)
async def test_fcm_answers(
    service: PushService,
    google_key: rsa.RSAPrivateKey,
    tmp_path: Path,
    status: int,
    error: object,
    gone: bool,
) -> None:
    path = "/v1/projects/portal-test/messages:send"
    sender = fcm(service, google_key, tmp_path)
    service.answer(path, status)
    service.json_answers[path] = error
    try:
        with pytest.raises(DeviceGone if gone else PushFailed):
            await sender.send_push(DeviceAddress(Platform.FCM, FCM_TOKEN), MESSAGE)
        # A refused access token is fetched again before the next send.
        await sender.send_push(DeviceAddress(Platform.FCM, FCM_TOKEN), MESSAGE)
    finally:
        await sender.close()
    token_requests = [r for r in service.received if r.path == "/token"]
    assert len(token_requests) == (2 if status == 401 else 1)


# -- configuration --------------------------------------------------------------------------------
async def test_each_configured_platform_gets_its_sender(
    apns_key: ec.EllipticCurvePrivateKey, google_key: rsa.RSAPrivateKey, tmp_path: Path
) -> None:
    service = PushService("", "")
    (tmp_path / "apns.p8").write_text(_pem(apns_key))
    fcm(service, google_key, tmp_path)
    env = {
        "APNS_KEY_FILE": str(tmp_path / "apns.p8"),
        "APNS_KEY_ID": "KEY1234567",
        "APNS_TEAM_ID": "TEAM123456",
        "APNS_TOPIC": "org.example.portal",
        "FCM_CREDENTIALS_FILE": str(tmp_path / "service-account.json"),
        "FCM_PROJECT_ID": "portal-test",
    }
    everything = build_push_sender(push_settings_from_env(env, production=False))
    try:
        assert set(everything.senders) == {Platform.WEB_PUSH, Platform.APNS, Platform.FCM}
    finally:
        await everything.close()
    assert set(build_push_sender(PushSettings()).senders) == {Platform.WEB_PUSH}
    assert build_push_sender(PushSettings(enabled=False)).senders == {}


def test_production_needs_vapid_keys_when_push_is_on() -> None:
    production = {
        "PORTAL_ENV": "production",
        "JWT_SECRET": "x" * 40,
        "INTEGRATION_TOKEN": "y" * 40,
        "SMTP_HOST": "smtp.internal",
    }
    assert from_env(production).push.enabled is False  # off unless asked for
    with pytest.raises(ConfigError, match="VAPID_PRIVATE_KEY"):
        from_env({**production, "PUSH_ENABLED": "1"})
    pem = _pem(ec.generate_private_key(ec.SECP256R1()))
    keyed = {**production, "PUSH_ENABLED": "1", "VAPID_PRIVATE_KEY": pem}
    with pytest.raises(ConfigError, match="VAPID_SUBJECT"):
        from_env(keyed)
    settings = from_env({**keyed, "VAPID_SUBJECT": "mailto:ops@hospital.example"}).push
    assert settings.vapid_private_key is not None
    # The public key browsers subscribe with is the PEM key's own.
    sender = build_push_sender(settings)
    assert sender.public_key == vapid_public_key(settings.vapid_private_key)
    with pytest.raises(ConfigError, match="VAPID_PRIVATE_KEY"):
        from_env({**keyed, "VAPID_PRIVATE_KEY": "too-short"})
