"""updateProfile: input, payload and error codes."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from schema.payloads import UserError

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


@strawberry.type
class UpdateProfilePayload:
    patient: Annotated[Patient, strawberry.lazy("schema.patient")] | None = None
    errors: list[ProfileError] = strawberry.field(default_factory=list)
