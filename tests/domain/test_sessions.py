"""What a session is called on the list of them, from its User-Agent."""

from __future__ import annotations

import pytest

from domain.sessions import UNKNOWN_DEVICE, describe_device

CASES = [
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
        "Chrome on Windows",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
        "Edge on Windows",
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
        "Gecko) Version/18.1 Safari/605.1.15",
        "Safari on macOS",
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
        "like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
        "Chrome on iPhone",
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
        "Samsung Internet on Android",
    ),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox on Linux"),
    (
        "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0",
        "Opera on ChromeOS",
    ),
    ("Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X)", "iPad"),
    ("curl/8.5.0", "curl"),
    ("python-httpx/0.28.1", "python-httpx"),
    ("Mozilla/5.0", UNKNOWN_DEVICE),
    ("", UNKNOWN_DEVICE),
    (None, UNKNOWN_DEVICE),
    ("!!!", UNKNOWN_DEVICE),
]


@pytest.mark.parametrize(("user_agent", "device"), CASES)
def test_a_device_is_named_from_its_user_agent(user_agent: str | None, device: str) -> None:
    assert describe_device(user_agent) == device
