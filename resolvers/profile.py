"""updateProfile: the patient's own preferred name and pronouns (a proxy gets FORBIDDEN;
use case: usecases/profile.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from persistence.uow import UnitOfWork
from usecases import profile as uc

if TYPE_CHECKING:
    from runtime.context import Context


async def update_profile(ctx: Context, command: uc.UpdateProfile) -> None:
    grant = ctx.act_for_self(command.patient_id, "Patient")
    await uc.update_profile(command, grant, UnitOfWork(ctx.services.sessions))
