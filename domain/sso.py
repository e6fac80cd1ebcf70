"""Single sign-on rules (OpenID Connect relying party; docs/sso.md).

An identity at a provider (its `sub`, or the claim configured to identify people) is linked to
one portal account, and only on proof: the person was signed in to the portal when the flow
started, or the provider is configured to vouch for a claim that names the account. An email
address alone never links anything.

The web or mobile client starts a flow with a PKCE challenge of its own; the callback hands it
a one-time code that only the holder of the matching verifier can exchange for the portal's
tokens, so a code caught on the way back (an app URI another app registered) is useless.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from domain.errors import DomainError

LOGIN_TTL = timedelta(minutes=10)  # from start to callback: one visit to the provider
HANDOFF_TTL = timedelta(minutes=2)  # from callback to exchange: the client's next request
MAX_CLOCK_SKEW = timedelta(minutes=5)

_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")  # base64url of a SHA-256 digest
_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")  # RFC 7636 section 4.1


class SsoError(DomainError):
    """The family of single sign-on refusals; each raises its own code."""

    default_message = "Single sign-on could not be completed. Try again."


class UnknownProvider(SsoError):
    code = "UNKNOWN_PROVIDER"
    default_message = "No such sign-in provider."


class RedirectNotAllowed(SsoError):
    code = "REDIRECT_NOT_ALLOWED"
    default_message = "This return address is not one the portal is configured to use."


class InvalidChallenge(SsoError):
    code = "INVALID_CHALLENGE"
    default_message = "codeChallenge must be the base64url SHA-256 of your code verifier."


class InvalidHandoff(SsoError):
    code = "INVALID_CODE"
    default_message = "This sign-in code is not valid or has expired. Sign in again."


class IdentityNotFound(SsoError):
    code = "IDENTITY_NOT_FOUND"
    default_message = "No such linked sign-in among yours."


class LastSignInMethod(SsoError):
    code = "LAST_SIGN_IN_METHOD"
    default_message = (
        "This is the only way left to sign in to your account: turn password sign-in back on "
        "or link another provider first."
    )


class NothingLinked(SsoError):
    code = "NO_LINKED_IDENTITY"
    default_message = "Link a single sign-on provider before turning password sign-in off."


# Why a callback failed: the client is sent back with `error=<reason>` (no details).
class CallbackFailed(Exception):
    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


NOT_LINKED = "not_linked"  # a good sign-in, but no account proven for this identity
IDENTITY_IN_USE = "identity_in_use"  # linking an identity another account has
PROVIDER_REFUSED = "provider_refused"  # the provider answered error=... (user cancelled)
INVALID_RESPONSE = "invalid_response"  # bad code, bad token, wrong nonce, expired...


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def s256(verifier: str) -> str:
    return (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )


def check_challenge(challenge: str) -> str:
    if not _CHALLENGE.fullmatch(challenge):
        raise InvalidChallenge(field="codeChallenge")
    return challenge


def verifier_matches(verifier: str, challenge: str) -> bool:
    return bool(_VERIFIER.fullmatch(verifier)) and hmac.compare_digest(s256(verifier), challenge)


def check_redirect(uri: str, allowed: frozenset[str]) -> str:
    """Exactly one of the configured return addresses: no prefixes, no patterns."""
    if uri not in allowed:
        raise RedirectNotAllowed(field="redirectUri")
    return uri


class ProviderUnavailable(SsoError):
    code = "PROVIDER_UNAVAILABLE"
    default_message = "The sign-in provider cannot be reached right now. Try again later."


class UnknownState(Exception):
    """A callback whose state names no flow under way (forged, replayed or expired): there is
    nowhere safe to send the browser back to."""


@dataclass(frozen=True)
class ProviderRules:
    """What the use cases need of a provider's configuration."""

    id: str
    subject_claim: str = "sub"
    account_claim: str | None = None  # vouched for: names the portal account's username
