"""updateProfile: preferred name and pronouns, by the patient only (domain/profile.py)."""

from __future__ import annotations

from typing import Any

from domain.access import PatientGrant
from domain.profile import ProfileChange
from persistence.uow import UnitOfWork


async def update_profile(change: ProfileChange, grant: PatientGrant, uow: UnitOfWork) -> None:
    """`grant`: the patient's own (self-only) grant."""
    values: dict[str, Any] = {}
    if change.preferred_name is not None:
        values["preferred_name"] = change.preferred_name or None
    if change.pronouns is not None:
        values["pronouns"] = change.pronouns or None
    async with uow:
        await uow.contact.update(grant, values)
        await uow.commit()
