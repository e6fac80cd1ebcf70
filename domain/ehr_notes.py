"""NOTE_SIGNED, read as strictly as every EHR feed event (domain/ehr.py): a clinical note
signed in the EHR, an amendment of one (`amendsNoteId`: the earlier version stays readable,
superseded), or one the provider withheld under a named exception.

Kept apart from domain/ehr.py so that event families are added side by side; the reader
it uses is domain/ehr.py's, seen through the `Fields` protocol (no import cycle).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from domain.notes import NoteKind, WithholdingException
from domain.scopes import SensitiveCategory

T = TypeVar("T")
NOTE_TEXT_MAX = 100_000


class Fields(Protocol):
    """What a parser reads one JSON object with (domain/ehr.py `_Fields`)."""

    def problem(self, key: str, message: str) -> None: ...
    def text(self, key: str, max_len: int = 200) -> str: ...
    def optional_text(
        self, key: str, max_len: int = 200, *, required: bool = False
    ) -> str | None: ...
    def ident(self, key: str) -> str: ...
    def optional_ident(self, key: str) -> str | None: ...
    def moment(self, key: str, *, required: bool = True) -> datetime | None: ...
    def choice(self, key: str, choices: Mapping[str, T], *, required: bool = True) -> T | None: ...
    def field(self, key: str) -> Any: ...


@dataclass(frozen=True)
class NoteSigned:
    note_id: str
    patient_id: str
    kind: NoteKind
    title: str
    text: str
    author_provider_id: str | None
    author_name: str | None
    appointment_id: str | None
    signed_at: datetime
    sensitive_category: SensitiveCategory | None
    amends_note_id: str | None
    withheld_exception: WithholdingException | None
    withheld_reason: str | None


KINDS = {k.name: k for k in NoteKind}
CATEGORIES = {c.name: c for c in SensitiveCategory}
EXCEPTIONS = {e.name: e for e in WithholdingException}


def note_signed(f: Fields, occurred_at: datetime) -> NoteSigned:
    command = NoteSigned(
        note_id=f.ident("noteId"),
        patient_id=f.ident("patientId"),
        kind=f.choice("kind", KINDS) or NoteKind.PROGRESS_NOTE,
        title=f.text("title"),
        text=f.text("text", NOTE_TEXT_MAX),
        author_provider_id=f.optional_ident("authorProviderId"),
        author_name=f.optional_text("authorName"),
        appointment_id=f.optional_ident("appointmentId"),
        signed_at=f.moment("signedAt", required=False) or occurred_at,
        sensitive_category=f.choice("sensitiveCategory", CATEGORIES, required=False),
        amends_note_id=f.optional_ident("amendsNoteId"),
        withheld_exception=f.choice("withheldException", EXCEPTIONS, required=False),
        withheld_reason=f.optional_text("withheldReason", 1000),
    )
    if command.author_provider_id is None and command.author_name is None:
        f.problem("authorProviderId", "is required (or authorName, for an author not on file)")
    if command.kind is NoteKind.AFTER_VISIT_SUMMARY and command.appointment_id is None:
        f.problem("appointmentId", "is required for an AFTER_VISIT_SUMMARY")
    if command.withheld_reason is not None and command.withheld_exception is None:
        f.problem("withheldException", "is required with withheldReason")
    if command.amends_note_id is not None and command.amends_note_id == command.note_id:
        f.problem("amendsNoteId", "must name an earlier note, not this one")
    return command
