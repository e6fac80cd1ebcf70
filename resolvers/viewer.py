"""The viewer: the signed-in account and the patient contexts it may act in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.errors import BrokenInvariant

if TYPE_CHECKING:
    from domain.access import PatientContext
    from persistence.queries.people import AccountRow
    from runtime.context import Context


def viewer_account_id(ctx: Context) -> str | None:
    """None when signed out; an invalid token is an UNAUTHENTICATED error, not a null."""
    if ctx.signed_out:
        return None
    return ctx.require_principal().account_id


async def account(ctx: Context, account_id: str) -> AccountRow:
    row = await ctx.loaders.account.get(account_id)
    if row is None:
        raise BrokenInvariant("row is None")
    return row


async def own_account(ctx: Context, account_id: str) -> AccountRow | None:
    """node(id) of an Account: the viewer's own only (any other is not found)."""
    if ctx.require_principal().account_id != account_id:
        return None
    return await account(ctx, account_id)


def patient_contexts(ctx: Context) -> list[PatientContext]:
    return ctx.patient_contexts
