"""An appointment's forms, and saveFormAnswers / signConsent (usecases/questionnaires.py):
authorize on the appointment's patient (the APPOINTMENTS area, audited as a write) and run
the use case. Answers domain values (`FormState`); schema/questionnaires.py converts them."""

from __future__ import annotations

from domain.access import PatientGrant
from domain.clock import FixedClock
from domain.questionnaires import FormState
from domain.scopes import RecordArea
from persistence.uow import UnitOfWork
from runtime.context import Context
from usecases import appointments as appointments_uc
from usecases import questionnaires as uc


# -- reads -----------------------------------------------------------------------------------
async def appointment_forms(
    ctx: Context, grant: PatientGrant, appointment_id: str, visit_type: str, department_id: str
) -> list[FormState]:
    key = (grant, appointment_id, visit_type, department_id)
    return list(await ctx.loaders.appointment_forms.get(key) or [])


# -- writes ----------------------------------------------------------------------------------
async def save_form_answers(ctx: Context, command: uc.AnswerForm) -> FormState:
    grant = await _act(ctx, command.appointment_id)
    return await uc.answer_form(command, grant, _uow(ctx), FixedClock(ctx.now))


async def sign_consent(ctx: Context, command: uc.SignConsent) -> FormState:
    grant = await _act(ctx, command.appointment_id)
    return await uc.sign_consent(command, grant, _uow(ctx), FixedClock(ctx.now))


def _uow(ctx: Context) -> UnitOfWork:
    return UnitOfWork(ctx.services.sessions)


async def _act(ctx: Context, appointment_id: str) -> PatientGrant:
    """The APPOINTMENTS area of the appointment's patient, audited as a write; an unknown
    appointment is refused like a forbidden one."""
    owner = await appointments_uc.appointment_owner(_uow(ctx), appointment_id)
    return ctx.act(owner or "", RecordArea.APPOINTMENTS, "FormResponse")
