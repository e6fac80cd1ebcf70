"""Account lifecycle rules: activation codes, sign-up verification, password resets.

What is secret (codes, tokens) is generated here and only its hash is stored. Answers that
could tell whether an account or a patient exists are decided by the callers to be the same
in both cases; the errors below are only ever raised to someone who has already proved who
they are (a valid code, a signed-in account) or for the shape of their own input.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.errors import DomainError
from domain.identity import PasswordRejected, check_password_policy, normalize_username


@dataclass(frozen=True)
class LifecyclePolicy:
    activation_code_ttl: timedelta = timedelta(days=90)
    verification_ttl: timedelta = timedelta(minutes=30)  # sign-up and email-change codes
    reset_token_ttl: timedelta = timedelta(hours=1)
    max_code_attempts: int = 5  # wrong codes / birth dates before a code is dead
    mails_per_hour: int = 3  # reset, reminder and sign-up mails to one address


# -- secrets --------------------------------------------------------------------------------
# No 0/O, 1/I/L, U: read aloud or typed from paper without doubt. 12 symbols: ~58 bits.
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
_CODE_LENGTH = 12


def new_activation_code() -> str:
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, _CODE_LENGTH, 4))


def normalize_code(code: str) -> str:
    """What people type: any case, with or without spaces and dashes."""
    return re.sub(r"[\s-]", "", code).upper()


def new_numeric_code(digits: int = 8) -> str:
    return f"{secrets.randbelow(10**digits):0{digits}d}"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def codes_match(stored_hash: str, presented: str) -> bool:
    return secrets.compare_digest(stored_hash, hash_secret(presented))


# -- input rules ------------------------------------------------------------------------------
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")


class InvalidUsername(DomainError):
    code = "INVALID_USERNAME"
    default_message = (
        "Use 3 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit."
    )


class WeakPassword(DomainError):
    code = "WEAK_PASSWORD"


def check_username(username: str) -> str:
    """The normalized username, or InvalidUsername."""
    value = normalize_username(username)
    if not _USERNAME.match(value):
        raise InvalidUsername(field="username")
    return value


def check_new_password(password: str, username: str, field: str = "password") -> None:
    try:
        check_password_policy(password)
    except PasswordRejected as exc:
        raise WeakPassword(str(exc), field=field) from exc
    if len(username) >= 3 and username.lower() in password.lower():
        raise WeakPassword("Your password must not contain your username.", field=field)


# -- codes: activation, sign-up verification, email change ------------------------------------
class InvalidCode(DomainError):
    code = "INVALID_CODE"
    default_message = "The code does not match our records."


class CodeExpired(DomainError):
    code = "CODE_EXPIRED"
    default_message = "This code has expired. Ask for a new one."


class CodeUsed(DomainError):
    code = "CODE_USED"
    default_message = "This code has already been used."


class TooManyAttempts(DomainError):
    code = "TOO_MANY_ATTEMPTS"
    default_message = "This code can no longer be used: too many wrong tries. Ask for a new one."


@dataclass(frozen=True)
class CodeState:
    expires_at: datetime
    used_at: datetime | None
    attempts: int


def code_problem(state: CodeState, now: datetime, policy: LifecyclePolicy) -> DomainError | None:
    """Why a code that was found may not be tried now, or None. A dead code stays dead:
    too many wrong tries first, so a guesser learns nothing more from it."""
    if state.attempts >= policy.max_code_attempts:
        return TooManyAttempts()
    if state.used_at is not None:
        return CodeUsed()
    if state.expires_at <= now:
        return CodeExpired()
    return None


# -- creating the account ---------------------------------------------------------------------
class UsernameTaken(DomainError):
    code = "USERNAME_TAKEN"
    default_message = "This username is taken; choose another."

    def __init__(self) -> None:
        super().__init__(field="username")


class EmailNotOnFile(DomainError):
    code = "EMAIL_NOT_ON_FILE"
    default_message = (
        "We have no email address for you. Ask your clinic to add one, then try again."
    )


class EmailInUse(DomainError):
    code = "EMAIL_IN_USE"
    default_message = "Another account uses this email address."


class AlreadyHasAccount(DomainError):
    code = "ALREADY_HAS_ACCOUNT"
    default_message = (
        "You already have an account. Sign in, or use 'forgot username' or 'forgot password'."
    )


class MrnOrEmailRequired(DomainError):
    code = "MRN_OR_EMAIL_REQUIRED"
    default_message = "Enter your medical record number or the email address we have on file."


class NameRequired(DomainError):
    code = "NAME_REQUIRED"
    default_message = "Enter your first and last name as your clinic has them."


def display_name(given: str, preferred: str | None, family: str) -> str:
    return f"{preferred or given} {family}"


def same_name(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


# -- password reset and change ----------------------------------------------------------------
class InvalidToken(DomainError):
    code = "INVALID_TOKEN"
    default_message = "This reset link is not valid. Ask for a new one."


class TokenExpired(DomainError):
    code = "TOKEN_EXPIRED"
    default_message = "This reset link has expired. Ask for a new one."


class SamePassword(DomainError):
    code = "WEAK_PASSWORD"
    default_message = "Choose a password different from your current one."

    def __init__(self) -> None:
        super().__init__(field="newPassword")


class InvalidInput(DomainError):
    code = "INVALID_INPUT"


def token_problem(state: CodeState, now: datetime) -> DomainError | None:
    if state.used_at is not None:
        return InvalidToken()
    if state.expires_at <= now:
        return TokenExpired()
    return None


def may_send_another(sent_in_last_hour: int, policy: LifecyclePolicy) -> bool:
    """Caps mails one address gets from anonymous requests (a mailbox is not a target)."""
    return sent_in_last_hour < policy.mails_per_hour
