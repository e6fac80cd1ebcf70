"""The optional second factor: time-based one-time passwords (RFC 6238, via pyotp).

Codes are 6 digits for 30-second steps; the step before and after are accepted for clock
drift. A code is used at most once: its step must be later than the last step used, so a
code seen over someone's shoulder cannot be replayed within its window.
"""

from __future__ import annotations

import secrets
from datetime import datetime

import pyotp

from domain.errors import DomainError

ISSUER = "Patient Portal"
DRIFT_STEPS = 1


class TotpRequired(DomainError):
    code = "TOTP_REQUIRED"
    default_message = "Enter the 6-digit code from your authenticator app."

    def __init__(self) -> None:
        super().__init__(field="totpCode")


class InvalidTotpCode(DomainError):
    code = "INVALID_TOTP_CODE"
    default_message = "The code from your authenticator app is not correct."

    def __init__(self) -> None:
        super().__init__(field="totpCode")


class TotpAlreadyEnabled(DomainError):
    code = "TOTP_ALREADY_ENABLED"
    default_message = "Two-step verification is already on."


class TotpNotPending(DomainError):
    code = "TOTP_NOT_PENDING"
    default_message = "Start by turning on two-step verification."


class TotpNotEnabled(DomainError):
    code = "TOTP_NOT_ENABLED"
    default_message = "Two-step verification is not on."


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, account_name: str, issuer: str = ISSUER) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account_name, issuer_name=issuer)


def code_at(secret: str, when: datetime) -> str:
    """The code an authenticator shows at `when` (tests and demos play the phone with it)."""
    return pyotp.TOTP(secret).at(when)


def matching_step(secret: str, code: str, now: datetime, last_used_step: int | None) -> int | None:
    """The time step `code` belongs to if it is valid now and not used before, else None."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if last_used_step is not None and step <= last_used_step:
            continue
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None
