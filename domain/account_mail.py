"""What the account lifecycle mails say. Plain text; no PHI beyond a name and a username.

Each function returns (subject, body) for `persistence.mail.enqueue_mail`.
"""

from __future__ import annotations

from datetime import timedelta

SIGNATURE = "\n\nIf you did not ask for this, you can ignore this message or call your clinic.\n"


def _minutes(ttl: timedelta) -> int:
    return int(ttl.total_seconds() // 60)


def sign_up_code(code: str, ttl: timedelta) -> tuple[str, str]:
    return (
        "Your patient portal verification code",
        f"Your verification code is {code}.\n\n"
        f"Enter it in the app within {_minutes(ttl)} minutes to create your account." + SIGNATURE,
    )


def already_have_account(username: str) -> tuple[str, str]:
    return (
        "You already have a patient portal account",
        "Someone asked to create a patient portal account for you, but you already have one.\n"
        f"Your username is: {username}\n\n"
        "Forgot your password? Choose 'Forgot password' on the sign-in screen." + SIGNATURE,
    )


def welcome(username: str) -> tuple[str, str]:
    return (
        "Your patient portal account is ready",
        f"Your patient portal account was created. Your username is: {username}" + SIGNATURE,
    )


def password_reset(username: str, token: str, ttl: timedelta) -> tuple[str, str]:
    return (
        "Reset your patient portal password",
        f"To choose a new password for {username}, use this reset token in the app within "
        f"{_minutes(ttl)} minutes:\n\n    {token}\n\nIt works once." + SIGNATURE,
    )


def username_reminder(usernames: list[str]) -> tuple[str, str]:
    names = "\n".join(f"    {u}" for u in usernames)
    return (
        "Your patient portal username",
        f"The patient portal username for this email address:\n\n{names}" + SIGNATURE,
    )


def password_changed() -> tuple[str, str]:
    return (
        "Your patient portal password was changed",
        "The password of your patient portal account was just changed, and your other "
        "sessions were signed out." + SIGNATURE,
    )


def totp_changed(enabled: bool) -> tuple[str, str]:
    state = "turned on" if enabled else "turned off"
    return (
        f"Two-step verification {state}",
        f"Two-step verification was just {state} for your patient portal account." + SIGNATURE,
    )


def email_change_code(code: str, ttl: timedelta) -> tuple[str, str]:
    return (
        "Confirm your new email address",
        f"Your confirmation code is {code}.\n\nEnter it in the app within {_minutes(ttl)} "
        "minutes to make this your email address for the patient portal." + SIGNATURE,
    )


def email_changed(new_email: str) -> tuple[str, str]:
    return (
        "Your email address was changed",
        f"The email address of your patient portal record was changed to {new_email}.\n"
        "Mail from the portal now goes there." + SIGNATURE,
    )


def proxy_invitation(grantor: str, token: str, expires_days: int) -> tuple[str, str]:
    return (
        f"{grantor} invited you to their patient portal record",
        f"{grantor} invited you to help manage their health record in the patient portal.\n\n"
        "Sign in to the portal (or create an account first), choose 'Accept an invitation' "
        f"and enter this invitation code within {expires_days} days:\n\n    {token}\n\n"
        "It works once." + SIGNATURE,
    )
