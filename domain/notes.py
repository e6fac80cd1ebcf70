"""Clinical notes and after-visit summaries: their kinds, why a provider may withhold one,
and the patient's privacy choices about them. Who may read a note is domain/access.py's."""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from domain.errors import DomainError
from domain.scopes import SensitiveCategory


class NoteKind(Enum):
    PROGRESS_NOTE = "progress_note"
    VISIT_NOTE = "visit_note"
    AFTER_VISIT_SUMMARY = "after_visit_summary"
    DISCHARGE_SUMMARY = "discharge_summary"


class WithholdingException(Enum):
    """The named exceptions under which a provider may withhold a signed note from the
    patient (the information-blocking rule's: preventing harm, privacy, security,
    infeasibility). The patient is told that the note exists and which one applies."""

    PREVENTING_HARM = "preventing_harm"
    PRIVACY = "privacy"
    SECURITY = "security"
    INFEASIBILITY = "infeasibility"


class NoteStatus(Enum):
    CURRENT = "CURRENT"
    SUPERSEDED = "SUPERSEDED"  # an amendment replaced it; kept readable


# -- the patient's privacy choices ----------------------------------------------------
class NoteNotFound(DomainError):
    code = "NOTE_NOT_FOUND"
    default_message = "This note does not exist."


def opened_after(opened: Iterable[str], category: SensitiveCategory, open_: bool) -> list[str]:
    """The stored categories opened to a proxy after opening or closing one (declaration
    order, each once; values the policy no longer knows are dropped)."""
    chosen = {c for c in SensitiveCategory if c.value in set(opened)}
    chosen = chosen | {category} if open_ else chosen - {category}
    return [c.value for c in SensitiveCategory if c in chosen]
