"""Pre-visit questionnaires and consent forms: their definitions (in the spirit of FHIR
Questionnaire: items with a type, text, required flag, options and enable-when), the
checking of answers against them, and the signing of a consent.

Pure rules: every problem of a set of answers is found in one pass and raised together
(`InvalidAnswers`), so the patient fixes them all at once and nothing is saved meanwhile.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum

from domain.errors import DomainError

MAX_TEXT = 2000
MAX_NAME = 200


class FormKind(Enum):
    QUESTIONNAIRE = "questionnaire"
    CONSENT = "consent"


class ItemType(Enum):
    BOOLEAN = "boolean"
    STRING = "string"
    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    CHOICE = "choice"


class FormStatus(Enum):
    DUE = "DUE"  # nothing saved yet
    DRAFT = "DRAFT"  # answers saved, not submitted
    DONE = "DONE"  # submitted (a questionnaire) or signed (a consent)


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class EnableWhen:
    """The item is asked only when `question` was answered `answer`."""

    question: str
    answer: str


@dataclass(frozen=True)
class Item:
    link_id: str
    type: ItemType
    text: str
    required: bool = False
    options: tuple[Option, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    enable_when: EnableWhen | None = None


@dataclass(frozen=True)
class Form:
    id: str
    version: int
    kind: FormKind
    title: str
    required: bool  # check-in waits for it
    items: tuple[Item, ...] = ()
    consent_text: str | None = None

    @property
    def text_sha256(self) -> str:
        """What a signature binds to: the consent text of this version."""
        return hashlib.sha256((self.consent_text or "").encode()).hexdigest()


@dataclass(frozen=True)
class AnswerProblem:
    link_id: str
    message: str


class InvalidAnswers(DomainError):
    code = "INVALID_ANSWERS"
    default_message = "Some answers need attention."

    def __init__(self, problems: Sequence[AnswerProblem]) -> None:
        listed = "; ".join(f"{p.link_id}: {p.message}" for p in problems)
        super().__init__(f"Some answers need attention: {listed}", "answers")
        self.problems = list(problems)


class AppointmentNotFound(DomainError):
    code = "APPOINTMENT_NOT_FOUND"
    default_message = "This appointment does not exist."


class FormNotFound(DomainError):
    code = "FORM_NOT_FOUND"
    default_message = "This form is not asked for this appointment."


class AlreadySubmitted(DomainError):
    code = "ALREADY_SUBMITTED"
    default_message = "This form was submitted already; it cannot be changed."


class NotAConsent(DomainError):
    code = "NOT_A_CONSENT"
    default_message = "Only a consent form is signed."


class NotAQuestionnaire(DomainError):
    code = "NOT_A_QUESTIONNAIRE"
    default_message = "A consent form is signed, not answered."


class SignatureRequired(DomainError):
    code = "SIGNATURE_REQUIRED"
    default_message = "Type your full name and agree to sign."


class FormsDue(DomainError):
    code = "FORMS_DUE"

    def __init__(self, titles: Sequence[str]) -> None:
        super().__init__(
            "Complete these before checking in: " + ", ".join(titles) + ".", "appointmentId"
        )
        self.titles = list(titles)


class UnknownQuestions(DomainError):
    """checkIn's answers name questions this visit's forms do not ask."""

    code = "UNKNOWN_QUESTIONS"

    def __init__(self, question_ids: Sequence[str]) -> None:
        super().__init__(
            "These questions are not asked for this visit: "
            + ", ".join(question_ids)
            + ". Answer the visit's forms (Appointment.forms) instead.",
            "answers",
        )
        self.question_ids = list(question_ids)


class BadCheckInAnswers(DomainError):
    """checkIn's answers to asked questions that their items do not accept."""

    code = "INVALID_INPUT"

    def __init__(self, problems: Sequence[AnswerProblem]) -> None:
        listed = "; ".join(f"{p.link_id}: {p.message}" for p in problems)
        super().__init__(f"Some answers need attention: {listed}", "answers")
        self.problems = list(problems)


# -- answers ---------------------------------------------------------------------------
_INTEGER = re.compile(r"^-?\d{1,12}$")
_DECIMAL = re.compile(r"^-?\d{1,12}(\.\d{1,6})?$")


def enabled(item: Item, answers: Mapping[str, str]) -> bool:
    return item.enable_when is None or answers.get(item.enable_when.question) == (
        item.enable_when.answer
    )


def _value_problem(item: Item, value: str) -> str | None:
    """What is wrong with one non-empty answer of an item, or None."""
    kind = item.type
    if kind is ItemType.BOOLEAN and value not in ("true", "false"):
        return "must be true or false"
    if kind is ItemType.CHOICE and value not in {o.value for o in item.options}:
        return "must be one of " + ", ".join(o.value for o in item.options)
    if kind is ItemType.DATE:
        try:
            date.fromisoformat(value)
        except ValueError:
            return "must be a date (YYYY-MM-DD)"
    if kind in (ItemType.INTEGER, ItemType.DECIMAL):
        pattern = _INTEGER if kind is ItemType.INTEGER else _DECIMAL
        if not pattern.match(value):
            return "must be a whole number" if kind is ItemType.INTEGER else "must be a number"
        number = float(value)
        if item.minimum is not None and number < item.minimum:
            return f"must be at least {item.minimum:g}"
        if item.maximum is not None and number > item.maximum:
            return f"must be at most {item.maximum:g}"
    if len(value) > MAX_TEXT:
        return f"must be at most {MAX_TEXT} characters"
    return None


def check_answers(
    form: Form, answers: Sequence[tuple[str, str]], *, complete: bool
) -> dict[str, str]:
    """The answers (trimmed, empty ones dropped) or InvalidAnswers listing every problem.

    `complete`: a submission, so every enabled required item must be answered; a draft may
    leave items out but what it holds must still be valid."""
    items = {item.link_id: item for item in form.items}
    problems: list[AnswerProblem] = []
    given: dict[str, str] = {}
    for link_id, raw in answers:
        if link_id not in items:
            problems.append(AnswerProblem(link_id, "is not a question of this form"))
        elif link_id in given:
            problems.append(AnswerProblem(link_id, "is answered twice"))
        elif raw.strip():
            given[link_id] = raw.strip()
    for item in form.items:
        value = given.get(item.link_id)
        if not enabled(item, given):
            if value is not None:
                problems.append(AnswerProblem(item.link_id, "is not asked given the answers"))
            continue
        if value is None:
            if complete and item.required:
                problems.append(AnswerProblem(item.link_id, "is required"))
            continue
        problem = _value_problem(item, value)
        if problem is not None:
            problems.append(AnswerProblem(item.link_id, problem))
    if problems:
        raise InvalidAnswers(problems)
    return given


def check_in_answers_refusal(
    states: Sequence[FormState], answers: Sequence[tuple[str, str]]
) -> DomainError | None:
    """checkIn's free-form answers must answer questions the visit's forms ask (an item's
    linkId), each as that item accepts it; every unknown question is listed at once."""
    asked = {item.link_id: item for state in states for item in state.form.items}
    unknown = [question for question, _ in answers if question not in asked]
    if unknown:
        return UnknownQuestions(unknown)
    problems = [
        AnswerProblem(question, problem)
        for question, value in answers
        if value and (problem := _value_problem(asked[question], value)) is not None
    ]
    return BadCheckInAnswers(problems) if problems else None


@dataclass(frozen=True)
class Signature:
    full_name: str
    text_sha256: str
    version: int


def sign(form: Form, full_name: str, agreed: bool) -> Signature:
    if form.kind is not FormKind.CONSENT:
        raise NotAConsent(field="formId")
    name = " ".join(full_name.split())
    if not agreed or not name or len(name) > MAX_NAME:
        raise SignatureRequired(field="fullName")
    return Signature(name, form.text_sha256, form.version)


@dataclass(frozen=True)
class FormState:
    form: Form
    status: FormStatus
    answers: dict[str, str] = field(default_factory=dict)
    submitted_at: datetime | None = None
    signed_name: str | None = None
    acting_as: str | None = None  # the relationship of who answered or signed


def missing_required(states: Sequence[FormState]) -> FormsDue | None:
    """Check-in waits for every required form to be done; names the ones that are not."""
    due = [s.form.title for s in states if s.form.required and s.status is not FormStatus.DONE]
    return FormsDue(due) if due else None
