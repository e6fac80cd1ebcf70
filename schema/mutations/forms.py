"""Answering pre-visit questionnaires and signing consent forms."""

from __future__ import annotations

import strawberry

from resolvers import form_actions as r
from schema import questionnaires as s
from schema.base import Info


@strawberry.type
class FormMutations:
    @strawberry.mutation(
        description="Answer a pre-visit questionnaire of an appointment: a draft, or submit "
        "once. Every problem is listed in one INVALID_ANSWERS error and nothing is saved."
    )
    async def save_form_answers(self, info: Info, input: s.SaveFormAnswersInput) -> s.FormPayload:
        return await r.save_form_answers(info, input)

    @strawberry.mutation(
        description="Sign a consent form of an appointment (the patient, or a proxy who may "
        "act on the appointment): the typed name, the time, the version and its text's hash "
        "are kept, and the signature never changes."
    )
    async def sign_consent(self, info: Info, input: s.SignConsentInput) -> s.FormPayload:
        return await r.sign_consent(info, input)
