"""Access tokens: a token's signature is checked once and remembered, its times on every use."""

from __future__ import annotations

import base64
import hashlib
import hmac
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


def _signed(**claims: object) -> str:
    """A token signed with our secret and algorithm, with the given claims over good ones."""
    ts = int(NOW.timestamp())
    base: dict[str, object] = {
        "iss": "portal",
        "aud": "portal-clients",
        "sub": "acct-1",
        "sid": "sess-1",
        "jti": "j-1",
        "iat": ts,
        "nbf": ts,
        "exp": ts + 600,
    }
    return jwt.encode({**base, **claims}, SECRET, algorithm=ALGORITHM)


def _signed_raw(claim: str, literal: str) -> str:
    """A token whose `claim` is the JSON literal `literal` (1e400 is infinity to a parser)."""
    header = _b64(b'{"alg":"HS256","typ":"JWT"}')
    ts = int(NOW.timestamp())
    values = {"iat": str(ts), "nbf": str(ts), "exp": str(ts + 600), claim: literal}
    payload = (
        '{"iss":"portal","aud":"portal-clients","sub":"acct-1","sid":"sess-1","jti":"j-1",'
        + ",".join(f'"{k}":{v}' for k, v in values.items())
        + "}"
    )
    signing_input = f"{header}.{_b64(payload.encode())}"
    mac = hmac.new(SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": "soon"},
        {"exp": [1]},
        {"exp": True},
        {"exp": 10**20},  # past any datetime: fromtimestamp would raise OverflowError
        {"exp": 1e30},
        {"iat": 10**20},
        {"nbf": -(10**20)},
        {"iat": "today"},
    ],
)
def test_a_signed_token_with_an_odd_time_claim_is_invalid(claims: dict[str, object]) -> None:
    with pytest.raises(InvalidToken):
        issuer().verify(_signed(**claims), NOW)


@pytest.mark.parametrize(
    ("claim", "literal"),
    [("exp", "1e400"), ("exp", "-1e400"), ("iat", "1e400"), ("nbf", "-1e400"), ("exp", "NaN")],
)
def test_a_signed_token_with_an_infinite_time_claim_is_invalid(claim: str, literal: str) -> None:
    with pytest.raises(InvalidToken):
        issuer().verify(_signed_raw(claim, literal), NOW)


def test_a_fractional_time_claim_is_a_numeric_date() -> None:
    """RFC 7519 allows a fraction of a second: taken, to the whole second."""
    ts = NOW.timestamp()
    claims = issuer().verify(_signed(exp=ts + 600.7, iat=ts + 0.5), NOW)
    assert claims.expires_at == int(ts) + 600
