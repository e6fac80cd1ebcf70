"""updateProfile: its input, payload and error codes (use case: usecases/profile.py)."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain import profile as rules
from resolvers import patients as patients_r
from resolvers import profile as r
from schema.base import BadInput, Info, internal_id
from schema.payloads import UserError, user_errors
from usecases import profile as uc

if TYPE_CHECKING:
    from schema.patient import Patient


@strawberry.enum(description="Why a profile change was refused (nothing was changed).")
class ProfileErrorCode(Enum):
    INVALID_ID = "INVALID_ID"
    INVALID_INPUT = "INVALID_INPUT"
    NOTHING_TO_CHANGE = "NOTHING_TO_CHANGE"


@strawberry.type
class ProfileError(UserError):
    code: ProfileErrorCode


@strawberry.input
class UpdateProfileInput:
    patient_id: strawberry.ID
    preferred_name: str | None = strawberry.field(
        default=None, description="Omitted: unchanged; empty: cleared."
    )
    pronouns: str | None = strawberry.field(
        default=None, description="Free text, e.g. she/her. Omitted: unchanged; empty: cleared."
    )

    def command(self) -> uc.UpdateProfile:
        try:
            patient_id = internal_id(self.patient_id, "Patient")
        except BadInput:
            raise rules.InvalidId() from None
        return uc.UpdateProfile(patient_id, self.preferred_name, self.pronouns)


@strawberry.type
class UpdateProfilePayload:
    patient: Annotated[Patient, strawberry.lazy("schema.patient")] | None = None
    errors: list[ProfileError] = strawberry.field(default_factory=list)


@strawberry.type
class ProfileMutations:
    @strawberry.mutation(
        description="Change the patient's preferred name and pronouns, at once. Self only (a "
        "proxy gets FORBIDDEN); the legal name stays as the clinic's records have it."
    )
    @user_errors(UpdateProfilePayload, ProfileError, ProfileErrorCode)
    async def update_profile(self, info: Info, input: UpdateProfileInput) -> UpdateProfilePayload:
        command = input.command()
        await r.update_profile(info.context, command)
        return UpdateProfilePayload(patient=await patients_r.patient(info, command.patient_id))
