"""Answering a pre-visit questionnaire (a draft, then submitted once), signing a consent,
and what check-in still waits for. The caller passes the grant for the APPOINTMENTS area of
the appointment's patient (`Context.act`: the patient or a proxy allowed to act on it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domain import questionnaires as rules
from domain.access import PatientGrant
from domain.clock import Clock
from domain.errors import DomainError
from persistence.questionnaires import QuestionnaireRepository
from persistence.uow import UnitOfWork


@dataclass(frozen=True)
class AnswerForm:
    appointment_id: str
    form_id: str
    answers: tuple[tuple[str, str], ...]
    submit: bool


@dataclass(frozen=True)
class SignConsent:
    appointment_id: str
    form_id: str
    full_name: str
    agreed: bool


async def _state(
    repo: QuestionnaireRepository, grant: PatientGrant, appointment_id: str, form_id: str
) -> rules.FormState:
    appt = await repo.appointment(appointment_id)
    if appt is None or appt.patient_id != grant.patient_id:
        raise rules.AppointmentNotFound(field="appointmentId")
    for state in await repo.form_states(grant, appt):
        if state.form.id == form_id:
            return state
    raise rules.FormNotFound(field="formId")


async def answer_form(
    command: AnswerForm, grant: PatientGrant, uow: UnitOfWork, clock: Clock
) -> rules.FormState:
    """Save the answers as a draft, or submit them (once): InvalidAnswers lists every
    problem and nothing is saved."""
    async with uow:
        repo = QuestionnaireRepository(uow.session)
        state = await _state(repo, grant, command.appointment_id, command.form_id)
        if state.form.kind is not rules.FormKind.QUESTIONNAIRE:
            raise rules.NotAQuestionnaire(field="formId")
        if state.status is rules.FormStatus.DONE:
            raise rules.AlreadySubmitted(field="formId")
        answers = rules.check_answers(state.form, command.answers, complete=command.submit)
        saved = await repo.save(
            grant=grant,
            appointment_id=command.appointment_id,
            form=state.form,
            answers=answers,
            done=command.submit,
            signature=None,
            now=clock.now(),
        )
        if not saved:  # submitted by someone else meanwhile
            raise rules.AlreadySubmitted(field="formId")
        result = await _state(repo, grant, command.appointment_id, command.form_id)
        await uow.commit()
        return result


async def sign_consent(
    command: SignConsent, grant: PatientGrant, uow: UnitOfWork, clock: Clock
) -> rules.FormState:
    """Sign a consent: the typed name, the time, the version and its text's hash, and who
    signed as what (the grant's relationship). Immutable afterwards."""
    async with uow:
        repo = QuestionnaireRepository(uow.session)
        state = await _state(repo, grant, command.appointment_id, command.form_id)
        signature = rules.sign(state.form, command.full_name, command.agreed)
        if state.status is rules.FormStatus.DONE:
            raise rules.AlreadySubmitted(field="formId")
        saved = await repo.save(
            grant=grant,
            appointment_id=command.appointment_id,
            form=state.form,
            answers={},
            done=True,
            signature=(signature.full_name, signature.text_sha256),
            now=clock.now(),
        )
        if not saved:
            raise rules.AlreadySubmitted(field="formId")
        result = await _state(repo, grant, command.appointment_id, command.form_id)
        await uow.commit()
        return result


async def forms_due(
    uow: UnitOfWork,
    grant: PatientGrant,
    appointment_id: str,
    answers: Sequence[tuple[str, str]] = (),
) -> DomainError | None:
    """Within the caller's unit of work, what check-in refuses for the visit's forms:
    answers to questions its forms do not ask (UNKNOWN_QUESTIONS, all listed) or do not
    accept, then the required forms not done yet, named (FORMS_DUE)."""
    repo = QuestionnaireRepository(uow.session)
    appt = await repo.appointment(appointment_id)
    if appt is None:
        return None
    states = await repo.form_states(grant, appt)
    return rules.check_in_answers_refusal(states, answers) or rules.missing_required(states)
