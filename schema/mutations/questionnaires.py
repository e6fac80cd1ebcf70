"""Answering pre-visit questionnaires and signing consent forms: inputs (decoded into
usecases/questionnaires.py commands), the payload, its error codes and the mutation fields."""

from __future__ import annotations

from enum import Enum

import strawberry

from domain.questionnaires import AppointmentNotFound, FormState, InvalidAnswers
from resolvers import questionnaires as r
from schema.base import BadInput, Info, internal_id
from schema.payloads import UserError, user_errors
from schema.questionnaires import AppointmentForm
from usecases import questionnaires as uc


@strawberry.enum
class FormErrorCode(Enum):
    INVALID_ID = "INVALID_ID"
    APPOINTMENT_NOT_FOUND = "APPOINTMENT_NOT_FOUND"
    FORM_NOT_FOUND = "FORM_NOT_FOUND"
    INVALID_ANSWERS = "INVALID_ANSWERS"
    ALREADY_SUBMITTED = "ALREADY_SUBMITTED"
    NOT_A_CONSENT = "NOT_A_CONSENT"
    NOT_A_QUESTIONNAIRE = "NOT_A_QUESTIONNAIRE"
    SIGNATURE_REQUIRED = "SIGNATURE_REQUIRED"


@strawberry.type(description="One answer that needs attention.")
class AnswerProblem:
    link_id: str
    message: str


@strawberry.type
class FormError(UserError):
    code: FormErrorCode
    problems: list[AnswerProblem] = strawberry.field(
        default_factory=list, description="INVALID_ANSWERS: every problem found, at once."
    )


@strawberry.input
class FormAnswerInput:
    link_id: str
    value: str


@strawberry.input
class SaveFormAnswersInput:
    appointment_id: strawberry.ID
    form_id: str
    answers: list[FormAnswerInput]
    submit: bool = strawberry.field(
        default=False,
        description="False: save a draft (what is given must be valid). True: submit, once; "
        "every required item must then be answered.",
    )

    def command(self) -> uc.AnswerForm:
        return uc.AnswerForm(
            _appointment_id(self.appointment_id),
            self.form_id,
            tuple((a.link_id, a.value) for a in self.answers),
            self.submit,
        )


@strawberry.input
class SignConsentInput:
    appointment_id: strawberry.ID
    form_id: str
    full_name: str = strawberry.field(description="The signer's full name, typed.")
    agree: bool

    def command(self) -> uc.SignConsent:
        return uc.SignConsent(
            _appointment_id(self.appointment_id), self.form_id, self.full_name, self.agree
        )


@strawberry.type
class FormPayload:
    form: AppointmentForm | None = None
    errors: list[FormError] = strawberry.field(default_factory=list)


@strawberry.type
class QuestionnaireMutations:
    @strawberry.mutation(
        description="Answer a pre-visit questionnaire of an appointment: a draft, or submit "
        "once. Every problem is listed in one INVALID_ANSWERS error and nothing is saved."
    )
    @user_errors(FormPayload, FormError, FormErrorCode)
    async def save_form_answers(self, info: Info, input: SaveFormAnswersInput) -> FormPayload:
        try:
            state = await r.save_form_answers(info.context, input.command())
        except InvalidAnswers as exc:
            return _invalid(exc)
        return _payload(state)

    @strawberry.mutation(
        description="Sign a consent form of an appointment (the patient, or a proxy who may "
        "act on the appointment): the typed name, the time, the version and its text's hash "
        "are kept, and the signature never changes."
    )
    @user_errors(FormPayload, FormError, FormErrorCode)
    async def sign_consent(self, info: Info, input: SignConsentInput) -> FormPayload:
        return _payload(await r.sign_consent(info.context, input.command()))


def _appointment_id(global_id: str) -> str:
    try:
        return internal_id(global_id, "Appointment")
    except BadInput:
        raise AppointmentNotFound(field="appointmentId") from None


def _payload(state: FormState) -> FormPayload:
    return FormPayload(form=AppointmentForm.of(state))


def _invalid(exc: InvalidAnswers) -> FormPayload:
    """INVALID_ANSWERS carries every problem found."""
    problems = [AnswerProblem(link_id=p.link_id, message=p.message) for p in exc.problems]
    error = FormError(
        code=FormErrorCode.INVALID_ANSWERS,
        message=exc.message,
        field=exc.field,
        problems=problems,
    )
    return FormPayload(errors=[error])
