"""Push configuration from the environment (docs/push.md)."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


class PushConfigError(ValueError):
    pass


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def new_vapid_private_key() -> str:
    """A fresh P-256 key as base64url of its 32-byte private value (dev only: each restart
    makes a new one, and browsers then need to subscribe again)."""
    key = ec.generate_private_key(ec.SECP256R1())
    return _b64url(key.private_numbers().private_value.to_bytes(32, "big"))


def vapid_public_key(private_key: str) -> str:
    """The applicationServerKey browsers subscribe with: base64url of the uncompressed point."""
    raw = base64.urlsafe_b64decode(private_key + "=" * (-len(private_key) % 4))
    key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return _b64url(point)


def _raw_private_key(value: str) -> str:
    """Accept a PEM key (as `vapid --gen` writes) or base64url of the 32-byte private value."""
    value = value.strip()
    if value.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(value.encode(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise PushConfigError("VAPID_PRIVATE_KEY must be a P-256 (prime256v1) key")
        return _b64url(key.private_numbers().private_value.to_bytes(32, "big"))
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except ValueError as exc:
        raise PushConfigError("VAPID_PRIVATE_KEY is neither PEM nor base64url") from exc
    if len(raw) != 32:
        raise PushConfigError("VAPID_PRIVATE_KEY must be 32 bytes (base64url) or a PEM key")
    return value


@dataclass(frozen=True)
class ApnsSettings:
    key_pem: str  # the .p8 signing key from the Apple developer account
    key_id: str
    team_id: str
    topic: str  # the app's bundle id
    url: str = "https://api.push.apple.com"


@dataclass(frozen=True)
class FcmSettings:
    credentials_file: str  # a service account's JSON key with the Firebase Messaging role
    project_id: str
    url: str = "https://fcm.googleapis.com"


@dataclass(frozen=True)
class PushSettings:
    enabled: bool = True
    vapid_private_key: str | None = None  # base64url; None: generated at start (dev)
    vapid_subject: str = "mailto:portal-admin@example.org"
    # Plain-http endpoints are refused unless this is on (tests run a push service locally).
    allow_http_endpoints: bool = False
    ttl_seconds: int = 24 * 3600
    apns: ApnsSettings | None = None
    fcm: FcmSettings | None = None

    def check(self, production: bool) -> None:
        if not (production and self.enabled):
            return
        if not self.vapid_private_key or "example.org" in self.vapid_subject:
            raise PushConfigError(
                "production with PUSH_ENABLED=1 needs VAPID_PRIVATE_KEY and VAPID_SUBJECT "
                "(docs/push.md), or PUSH_ENABLED=0"
            )
        if self.allow_http_endpoints:
            raise PushConfigError("PUSH_ALLOW_HTTP_ENDPOINTS is for tests only")


def push_settings_from_env(e: Mapping[str, str], production: bool) -> PushSettings:
    key = e.get("VAPID_PRIVATE_KEY") or None
    if key is None and e.get("VAPID_PRIVATE_KEY_FILE"):
        key = Path(e["VAPID_PRIVATE_KEY_FILE"]).read_text()
    apns = None
    if e.get("APNS_KEY_FILE"):
        apns = ApnsSettings(
            key_pem=Path(e["APNS_KEY_FILE"]).read_text(),
            key_id=e["APNS_KEY_ID"],
            team_id=e["APNS_TEAM_ID"],
            topic=e["APNS_TOPIC"],
            url=e.get("APNS_URL", ApnsSettings.url),
        )
    fcm = None
    if e.get("FCM_CREDENTIALS_FILE"):
        fcm = FcmSettings(
            credentials_file=e["FCM_CREDENTIALS_FILE"],
            project_id=e["FCM_PROJECT_ID"],
            url=e.get("FCM_URL", FcmSettings.url),
        )
    return PushSettings(
        enabled=e.get("PUSH_ENABLED", "0" if production else "1") == "1",
        vapid_private_key=_raw_private_key(key) if key else None,
        vapid_subject=e.get("VAPID_SUBJECT", PushSettings.vapid_subject),
        allow_http_endpoints=e.get("PUSH_ALLOW_HTTP_ENDPOINTS", "0") == "1",
        ttl_seconds=int(e.get("PUSH_TTL_SECONDS", str(PushSettings.ttl_seconds))),
        apns=apns,
        fcm=fcm,
    )
