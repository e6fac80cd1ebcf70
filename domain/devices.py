"""Devices that receive push notifications, and what a push may say.

A device is a browser's Web Push subscription (an endpoint and the two keys the payload is
encrypted to, RFC 8291) or a phone's native token (APNs, FCM). It belongs to one account: a
device registered again by another account moves to it (whoever signed in on it last).

A push leaves the portal, so it says only that something new is waiting, and carries an
opaque id the app opens the right screen with; the app then loads the item through the API,
where access is checked as for any read. No names, no results, no message text.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from urllib.parse import urlsplit

from domain.errors import DomainError

MAX_DEVICES_PER_ACCOUNT = 20
MAX_NAME = 100
MAX_ENDPOINT = 2000
MAX_NATIVE_TOKEN = 4096


class Platform(Enum):
    WEB_PUSH = "WEB_PUSH"
    APNS = "APNS"
    FCM = "FCM"


@dataclass(frozen=True)
class DeviceAddress:
    """Where a push goes: the endpoint (Web Push) or native token, and the Web Push keys."""

    platform: Platform
    address: str
    p256dh: str | None = None
    auth: str | None = None


class InvalidDevice(DomainError):
    code = "INVALID_DEVICE"
    default_message = "This device's push registration is not valid."


class DeviceNotFound(DomainError):
    code = "DEVICE_NOT_FOUND"
    default_message = "No such device among yours."


class TooManyDevices(DomainError):
    code = "TOO_MANY_DEVICES"
    default_message = (
        f"An account can have at most {MAX_DEVICES_PER_ACCOUNT} devices; remove one first."
    )


def _b64url(value: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None


_HEX_TOKEN = re.compile(r"[0-9a-fA-F]{64,200}")
_FCM_TOKEN = re.compile(r"[A-Za-z0-9_:\-]{20,4096}")


def check_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > MAX_NAME:
        raise InvalidDevice(f"Give the device a name of 1 to {MAX_NAME} characters.", "name")
    return cleaned


def check_web_push(
    endpoint: str, p256dh: str, auth: str, *, allow_http: bool = False
) -> DeviceAddress:
    """A browser's PushSubscription: an https endpoint, an uncompressed P-256 public key
    (65 bytes) and a 16-byte authentication secret, both base64url (RFC 8291 section 3)."""
    parts = urlsplit(endpoint.strip())
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes or not parts.hostname or len(endpoint) > MAX_ENDPOINT:
        raise InvalidDevice("The push endpoint must be an https URL.", "endpoint")
    key = _b64url(p256dh.strip())
    if key is None or len(key) != 65 or key[0] != 4:
        raise InvalidDevice("p256dh must be the subscription's P-256 public key.", "p256dh")
    secret = _b64url(auth.strip())
    if secret is None or len(secret) != 16:
        raise InvalidDevice("auth must be the subscription's 16-byte secret.", "auth")
    return DeviceAddress(Platform.WEB_PUSH, endpoint.strip(), p256dh.strip(), auth.strip())


def check_native(platform: Platform, token: str) -> DeviceAddress:
    token = token.strip()
    pattern = _HEX_TOKEN if platform is Platform.APNS else _FCM_TOKEN
    if not pattern.fullmatch(token):
        raise InvalidDevice(f"This is not a valid {platform.value} device token.", "token")
    return DeviceAddress(platform, token)


# -- what a push says --------------------------------------------------------------------------
PUSH_TITLE = "Patient portal"
PUSH_BODY = "You have something new in your patient portal."


@dataclass(frozen=True)
class PushMessage:
    """The whole content of a push: fixed words and an opaque deep-link id (no PHI)."""

    link: str | None  # e.g. "notification:ntf_..."; the app asks the API what it is
    title: str = PUSH_TITLE
    body: str = PUSH_BODY

    def as_dict(self) -> dict[str, str]:
        message = {"title": self.title, "body": self.body}
        if self.link:
            message["link"] = self.link
        return message


def deep_link(notification_id: str | None) -> str | None:
    return f"notification:{notification_id}" if notification_id else None


# -- what a push service answered ----------------------------------------------------------------
class DeviceGone(Exception):
    """The push service says the subscription or token no longer exists: forget the device."""


class PushFailed(Exception):
    """Worth another try later (rate limit, outage); `retry_after` if the service said."""

    def __init__(self, message: str, retry_after: timedelta | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def backoff(attempts: int, base: timedelta, cap: timedelta) -> timedelta:
    """Wait before attempt `attempts + 1`: base, 2 base, 4 base, ... at most `cap`."""
    return min(cap, base * (1 << min(30, max(0, attempts - 1))))
