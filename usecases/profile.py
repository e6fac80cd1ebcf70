"""updateProfile: preferred name and pronouns, by the patient only (domain/profile.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain import profile as rules
from domain.access import PatientGrant
from persistence.uow import UnitOfWork


@dataclass(frozen=True)
class UpdateProfile:
    patient_id: str
    preferred_name: str | None  # None: unchanged; "": cleared
    pronouns: str | None


async def update_profile(command: UpdateProfile, grant: PatientGrant, uow: UnitOfWork) -> None:
    """`grant`: the patient's own (self-only) grant."""
    change = rules.check_profile(command.preferred_name, command.pronouns)
    values: dict[str, Any] = {}
    if change.preferred_name is not None:
        values["preferred_name"] = change.preferred_name or None
    if change.pronouns is not None:
        values["pronouns"] = change.pronouns or None
    async with uow:
        await uow.contact.update(grant, values)
        await uow.commit()
