"""Password hashing (Argon2id), access tokens (JWT, algorithm pinned) and refresh tokens."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ALGORITHM = "HS256"
# How far another instance's clock may be off from ours: the leeway on `nbf` and on `iat`.
# `exp` gets none (a token is good until its expiry by our clock; signing out ends it).
CLOCK_SKEW_SECONDS = 30
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# A real hash to verify against when the username is unknown, so timing does not tell.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


class InvalidToken(Exception):
    """Any problem with an access token: forged, expired, wrong audience or issuer."""


# Tokens whose signature and fixed claims were checked, kept until their `exp` (least
# recently used first out past this many): a client sends the same token for minutes, and
# the HMAC and JSON decoding are most of what checking it costs. The whole token is the key,
# so only the very bytes that were verified hit; the times are checked again on every use,
# and whether its session is still open is not the token's business (portal/auth.py reads
# the session on every request).
VERIFIED_TOKENS = 8192


@dataclass(frozen=True)
class TokenIssuer:
    secret: str
    issuer: str
    audience: str
    ttl: timedelta
    verified_tokens: int = VERIFIED_TOKENS  # 0: check every token from scratch
    _verified: OrderedDict[str, AccessClaims] = field(
        default_factory=OrderedDict, init=False, repr=False, compare=False
    )

    def issue(
        self,
        account_id: str,
        now: datetime,
        session_id: str | None = None,
        *,
        terms_pending: bool = False,
    ) -> tuple[str, datetime]:
        """A token of the session `session_id` (its `sid`): it works while the session lasts.

        Without a session (operator tooling holding the secret, e.g. the peer benchmark's
        token minting; signIn and refresh always name one) the token carries no `sid`: it is
        checked like any other, but no sign-out can end it before its `exp`.
        `terms_pending` (claim `tp`): the account had current legal documents to accept at
        issue time (domain/terms.py); only such tokens are checked against them again."""
        expires_at = now + self.ttl
        claims: dict[str, object] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": account_id,
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int(expires_at.timestamp()),
            "jti": uuid.uuid4().hex,
        }
        if session_id is not None:
            claims["sid"] = session_id
        if terms_pending:
            claims["tp"] = True
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM), expires_at

    def verify(self, token: str, now: datetime) -> AccessClaims:
        verified = self._verified
        claims = verified.get(token)
        if claims is None:
            claims = self._decode(token)
            if self.verified_tokens > 0 and claims.expires_at > now.timestamp():
                verified[token] = claims
                if len(verified) > self.verified_tokens:
                    verified.popitem(last=False)
        else:
            verified.move_to_end(token)
        # Times are checked against our clock, so tests and the app agree on "now".
        moment = now.timestamp()
        if claims.expires_at <= moment:
            verified.pop(token, None)
            raise InvalidToken("token expired")
        if claims.not_before > moment + CLOCK_SKEW_SECONDS:
            raise InvalidToken("token not valid yet")
        if claims.issued_at > moment + CLOCK_SKEW_SECONDS:
            raise InvalidToken("token issued in the future")
        return claims

    def _decode(self, token: str) -> AccessClaims:
        """The signature (algorithm pinned), issuer, audience and required claims."""
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={
                    "require": ["iss", "aud", "exp", "iat", "nbf", "sub", "jti"],
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
            sid = claims.get("sid")
            return AccessClaims(
                str(claims["sub"]),
                None if sid is None else str(sid),
                str(claims["jti"]),
                _seconds(claims["exp"]),
                claims.get("tp") is True,
                not_before=_seconds(claims["nbf"]),
                issued_at=_seconds(claims["iat"]),
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc


# The latest time claim taken (year 3000): later ones are no date our clock can reach, and
# past about year 9999 Python cannot even make a datetime of them.
LATEST_TIME_CLAIM = 32_503_680_000


def _seconds(value: object) -> int:
    """A time claim (a NumericDate: seconds since the epoch, a fraction allowed) as whole
    seconds; a string, a boolean, infinity, NaN or a time past year 3000 makes the token
    invalid, never an exception further on (`datetime.fromtimestamp` of it)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidToken("malformed time claim")
    if not 0 <= value <= LATEST_TIME_CLAIM:  # NaN fails this too
        raise InvalidToken("time claim out of range")
    return int(value)


@dataclass(frozen=True)
class AccessClaims:
    account_id: str
    session_id: str | None  # None: a token minted without a session (see `issue`)
    token_id: str
    expires_at: int
    terms_pending: bool = False
    not_before: int = 0
    issued_at: int = 0


def new_refresh_token() -> tuple[str, str]:
    """The opaque token for the client and the hash we store."""
    token = secrets.token_urlsafe(32)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
