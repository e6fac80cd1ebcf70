"""The forms each appointment asks for, and where each stands: three statements a batch
(the latest definitions, the responses of every appointment, the versions answered)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from domain.questionnaires import FormState
from loaders.base import SessionLoader
from persistence import models as m
from persistence import questionnaires as q

# (grant, appointment id, visit type, department id)
FormsKey = tuple[PatientGrant, str, str, str]


class FormsByAppointmentLoader(SessionLoader[FormsKey, list[FormState]]):
    async def fetch(
        self, session: AsyncSession, keys: Sequence[FormsKey]
    ) -> dict[FormsKey, list[FormState]]:
        forms = await q.latest_forms(session)
        grants = list({key[0] for key in keys})
        answered = await q.responses(session, grants, list({key[1] for key in keys}))
        given = await q.versions(session, [(r.form_id, r.form_version) for r in answered])
        by_appointment: dict[tuple[str, str], list[m.FormResponse]] = defaultdict(list)
        for row in answered:
            by_appointment[(row.patient_id, row.appointment_id)].append(row)
        return {
            key: q.states(
                forms, key[2], key[3], by_appointment.get((key[0].patient_id, key[1]), []), given
            )
            for key in keys
        }
