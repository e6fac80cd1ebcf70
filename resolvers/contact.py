"""updateContactInfo, confirmEmailChange: self only, a proxy gets FORBIDDEN (use cases:
usecases/contact.py). Both answer the patient's id, for the payload's `patient`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from resolvers.accounts import ports
from usecases import contact as uc

if TYPE_CHECKING:
    from runtime.context import Context


async def update_contact_info(ctx: Context, command: uc.UpdateContactInfo) -> str | None:
    """The new email waiting for its code, if one was asked for."""
    grant = ctx.act_for_self(command.patient_id, "Patient")
    return await uc.update_contact_info(command, grant, ctx.require_principal(), ports(ctx))


async def confirm_email_change(ctx: Context, command: uc.ConfirmEmailChange) -> None:
    grant = ctx.act_for_self(command.patient_id, "Patient")
    await uc.confirm_email_change(command, grant, ports(ctx))
