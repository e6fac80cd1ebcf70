"""saveFormAnswers and signConsent (usecases/questionnaires.py): authorize on the
appointment's patient (the APPOINTMENTS area, audited as a write), run the use case, build
the payload. INVALID_ANSWERS carries every problem found."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.access import PatientGrant
from domain.questionnaires import AppointmentNotFound, FormState, InvalidAnswers
from domain.scopes import RecordArea
from persistence.uow import UnitOfWork
from resolvers.payloads import user_errors
from schema import questionnaires as s
from schema.base import BadInput, internal_id
from usecases import questionnaires as usecases

if TYPE_CHECKING:
    from schema.base import Info


def _appointment_id(global_id: str) -> str:
    try:
        return internal_id(global_id, "Appointment")
    except BadInput:
        raise AppointmentNotFound(field="appointmentId") from None


async def _act(info: Info, appointment_id: str) -> PatientGrant:
    """The APPOINTMENTS area of the appointment's patient, audited as a write; an unknown
    appointment is refused like a forbidden one."""
    owner = await usecases.appointment_owner(
        UnitOfWork(info.context.services.sessions), appointment_id
    )
    return info.context.act(owner or "", RecordArea.APPOINTMENTS, "FormResponse")


def _payload(state: FormState) -> s.FormPayload:
    return s.FormPayload(form=s.AppointmentForm.of(state))


def _invalid(exc: InvalidAnswers) -> s.FormPayload:
    problems = [s.AnswerProblem(link_id=p.link_id, message=p.message) for p in exc.problems]
    error = s.FormError(
        code=s.FormErrorCode.INVALID_ANSWERS,
        message=exc.message,
        field=exc.field,
        problems=problems,
    )
    return s.FormPayload(errors=[error])


@user_errors(s.FormPayload, s.FormError, s.FormErrorCode)
async def save_form_answers(info: Info, input: s.SaveFormAnswersInput) -> s.FormPayload:
    ctx = info.context
    appointment_id = _appointment_id(input.appointment_id)
    grant = await _act(info, appointment_id)
    command = usecases.AnswerForm(
        appointment_id,
        input.form_id,
        tuple((a.link_id, a.value) for a in input.answers),
        input.submit,
    )
    try:
        state = await usecases.answer_form(
            command, grant, UnitOfWork(ctx.services.sessions), ctx.now
        )
    except InvalidAnswers as exc:
        return _invalid(exc)
    return _payload(state)


@user_errors(s.FormPayload, s.FormError, s.FormErrorCode)
async def sign_consent(info: Info, input: s.SignConsentInput) -> s.FormPayload:
    ctx = info.context
    appointment_id = _appointment_id(input.appointment_id)
    grant = await _act(info, appointment_id)
    command = usecases.SignConsent(appointment_id, input.form_id, input.full_name, input.agree)
    state = await usecases.sign_consent(command, grant, UnitOfWork(ctx.services.sessions), ctx.now)
    return _payload(state)
