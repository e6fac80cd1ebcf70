"""updateProfile: the patient's own preferred name and pronouns (a proxy gets FORBIDDEN)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain import profile as rules
from persistence.uow import UnitOfWork
from resolvers.patients import patient as load_patient
from resolvers.payloads import user_errors
from schema import profile as s
from schema.base import BadInput, internal_id
from usecases import profile as usecases

if TYPE_CHECKING:
    from schema.base import Info


@user_errors(s.UpdateProfilePayload, s.ProfileError, s.ProfileErrorCode)
async def update_profile(info: Info, input: s.UpdateProfileInput) -> s.UpdateProfilePayload:
    ctx = info.context
    try:
        patient_id = internal_id(input.patient_id, "Patient")
    except BadInput:
        raise rules.InvalidId() from None
    grant = ctx.act_for_self(patient_id, "Patient")
    change = rules.check_profile(input.preferred_name, input.pronouns)
    await usecases.update_profile(change, grant, UnitOfWork(ctx.services.sessions))
    return s.UpdateProfilePayload(patient=await load_patient(info, grant.patient_id))
