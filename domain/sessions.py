"""Sessions: one per sign-in on one device (docs/sessions.md).

What a session is called on the screen that lists them comes from its User-Agent: a browser
and the system it runs on ("Firefox on Windows"), else the client's product name ("curl"),
else "Unknown device". The raw User-Agent is kept beside it; nothing here decides access.
"""

from __future__ import annotations

import re
from enum import StrEnum

from domain.errors import DomainError

# Seconds between two writes of a session's `last_used_at`: reads of it may lag this much.
TOUCH_EVERY_SECONDS = 60
UNKNOWN_DEVICE = "Unknown device"


class EndReason(StrEnum):
    """Why a session ended (`account_sessions.end_reason`)."""

    SIGNED_OUT = "signed_out"  # signOut with its refresh token
    SIGNED_OUT_HERE = "signed_out_by_user"  # signOutSession from any of the account's sessions
    SIGNED_OUT_EVERYWHERE = "signed_out_everywhere"
    REFRESH_REUSED = "refresh_token_reused"  # a used refresh token came back: maybe stolen
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 (a reason, not a password)
    PASSWORD_RESET = "password_reset"  # noqa: S105


class SessionNotFound(DomainError):
    """Not a session of this account, or one already ended: the same answer either way."""

    code = "SESSION_NOT_FOUND"
    default_message = "There is no such session open on your account."


# Most specific first: Edge and Opera say "Chrome" too, Chrome says "Safari".
_BROWSERS = (
    ("Edge", re.compile(r"\bEdg(?:e|A|iOS)?/")),
    ("Opera", re.compile(r"\bOPR/")),
    ("Samsung Internet", re.compile(r"\bSamsungBrowser/")),
    ("Firefox", re.compile(r"\b(?:Firefox|FxiOS)/")),
    ("Chrome", re.compile(r"\b(?:Chrome|CriOS)/")),
    ("Safari", re.compile(r"\bVersion/[\d.]+.*\bSafari/")),
)
_SYSTEMS = (
    ("iPhone", re.compile(r"\biPhone\b")),
    ("iPad", re.compile(r"\biPad\b")),
    ("Android", re.compile(r"\bAndroid\b")),
    ("ChromeOS", re.compile(r"\bCrOS\b")),
    ("Windows", re.compile(r"\bWindows\b")),
    ("macOS", re.compile(r"\bMac OS X\b|\bMacintosh\b")),
    ("Linux", re.compile(r"\bLinux\b")),
)
_PRODUCT = re.compile(r"^([A-Za-z][\w.-]{0,39})/")


def describe_device(user_agent: str | None) -> str:
    """A short name for the device a User-Agent header describes."""
    text = (user_agent or "").strip()
    browser = next((name for name, pattern in _BROWSERS if pattern.search(text)), None)
    system = next((name for name, pattern in _SYSTEMS if pattern.search(text)), None)
    if browser and system:
        return f"{browser} on {system}"
    if browser or system:
        return str(browser or system)
    product = _PRODUCT.match(text)
    if product and product.group(1) != "Mozilla":
        return product.group(1)
    return UNKNOWN_DEVICE
