"""Terms of use and the privacy notice as versioned documents.

Each kind has versions 1, 2, ...; the newest published version of each kind is current. An
account that has not accepted every current document may sign in, read the documents and
accept them, and nothing else: everything else answers TERMS_ACCEPTANCE_REQUIRED until it
does. Acceptance is recorded per account with the version and the time.
"""

from __future__ import annotations

from collections.abc import Collection
from enum import Enum

from domain.errors import DomainError

MAX_TITLE = 200
MAX_BODY = 200_000


class DocumentKind(Enum):
    TERMS_OF_USE = "TERMS_OF_USE"
    PRIVACY_NOTICE = "PRIVACY_NOTICE"


class TermsAcceptanceRequired(Exception):
    """Raised where the API refuses an account that has not accepted the current documents."""

    def __init__(self) -> None:
        super().__init__(
            "Please read and accept the updated terms of use and privacy notice to continue "
            "(legalDocuments, acceptLegalDocuments)."
        )


class InvalidId(DomainError):
    code = "INVALID_ID"
    default_message = "This is not a valid document id."

    def __init__(self) -> None:
        super().__init__(field="documentIds")


class NotCurrent(DomainError):
    code = "NOT_CURRENT"
    default_message = "Accept the current version of each document (it may have just changed)."

    def __init__(self) -> None:
        super().__init__(field="documentIds")


class NothingToAccept(DomainError):
    code = "NOTHING_TO_ACCEPT"
    default_message = "Name the documents you accept."

    def __init__(self) -> None:
        super().__init__(field="documentIds")


class InvalidDocument(DomainError):
    code = "INVALID_INPUT"


def check_acceptance(named: Collection[str], current: Collection[str]) -> list[str]:
    """The documents accepted: each must be a current version."""
    if not named:
        raise NothingToAccept()
    if not set(named) <= set(current):
        raise NotCurrent()
    return sorted(set(named))


def check_document(title: str, body: str) -> tuple[str, str]:
    clean_title = " ".join(title.split())
    if not clean_title or len(clean_title) > MAX_TITLE:
        raise InvalidDocument(f"A title of 1 to {MAX_TITLE} characters.", "title")
    if not body.strip() or len(body) > MAX_BODY:
        raise InvalidDocument(f"A body of 1 to {MAX_BODY} characters.", "body")
    return clean_title, body.strip()


def announcement(kind: DocumentKind, version: int) -> tuple[str, str]:
    what = "terms of use" if kind is DocumentKind.TERMS_OF_USE else "privacy notice"
    return (
        f"Updated {what}",
        f"We have published version {version} of our {what}. Please read and accept it the "
        "next time you sign in.",
    )
