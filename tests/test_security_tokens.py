"""Access tokens: a token's signature is checked once and remembered, its times on every use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from runtime.security import ALGORITHM, CLOCK_SKEW_SECONDS, InvalidToken, TokenIssuer

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
SECRET = "a-test-secret-0123456789abcdef-0123456789"


def issuer(**kwargs: int) -> TokenIssuer:
    return TokenIssuer(SECRET, "portal", "portal-clients", timedelta(minutes=15), **kwargs)


def test_a_verified_token_is_remembered_and_answers_the_same() -> None:
    tokens = issuer()
    token, _ = tokens.issue("acct-1", NOW, "sess-1", terms_pending=True)
    first = tokens.verify(token, NOW)
    assert (first.account_id, first.session_id, first.terms_pending) == ("acct-1", "sess-1", True)
    assert tokens.verify(token, NOW + timedelta(minutes=1)) is first  # no second decode


def test_a_remembered_token_still_expires() -> None:
    tokens = issuer()
    token, expires_at = tokens.issue("acct-1", NOW, "sess-1")
    tokens.verify(token, NOW)
    with pytest.raises(InvalidToken, match="expired"):
        tokens.verify(token, expires_at)
    assert token not in tokens._verified  # forgotten once expired


def test_a_remembered_token_not_valid_yet_is_refused_until_it_is() -> None:
    tokens = issuer()
    early = NOW + timedelta(seconds=CLOCK_SKEW_SECONDS + 60)
    token, _ = tokens.issue("acct-1", early, "sess-1")
    with pytest.raises(InvalidToken, match="not valid yet"):
        tokens.verify(token, NOW)
    with pytest.raises(InvalidToken, match="not valid yet"):
        tokens.verify(token, NOW)  # remembered, and still refused
    assert tokens.verify(token, early).account_id == "acct-1"


def test_only_the_very_token_verified_is_remembered() -> None:
    tokens = issuer()
    token, _ = tokens.issue("acct-1", NOW, "sess-1")
    tokens.verify(token, NOW)
    header, payload, signature = token.split(".")
    # The same claims signed with another key, and the real token's claims changed.
    other = jwt.encode(
        jwt.decode(token, options={"verify_signature": False}), "another-key" * 4, ALGORITHM
    )
    tampered = ".".join(
        [header, payload.replace(payload[10], "A" if payload[10] != "A" else "B"), signature]
    )
    for forged in (other, tampered, token + "x"):
        with pytest.raises(InvalidToken):
            tokens.verify(forged, NOW)


def test_the_memory_is_bounded_least_recently_used_first_out() -> None:
    tokens = issuer(verified_tokens=2)
    a, b, c = (tokens.issue(f"acct-{n}", NOW, f"sess-{n}")[0] for n in range(3))
    tokens.verify(a, NOW)
    tokens.verify(b, NOW)
    tokens.verify(a, NOW)  # a used last: b goes first
    tokens.verify(c, NOW)
    assert list(tokens._verified) == [a, c]


def test_no_memory_at_all_when_switched_off() -> None:
    tokens = issuer(verified_tokens=0)
    token, _ = tokens.issue("acct-1", NOW, "sess-1")
    assert tokens.verify(token, NOW).account_id == "acct-1"
    assert not tokens._verified
