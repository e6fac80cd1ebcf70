"""The viewer: account and patient contexts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.errors import BrokenInvariant
from schema import patient as patient_s
from schema import people as people_s
from schema import viewer as s

if TYPE_CHECKING:
    from schema.base import Info


def viewer(info: Info) -> s.Viewer | None:
    """Null when signed out; an invalid token is an UNAUTHENTICATED error, not a null."""
    ctx = info.context
    if ctx.signed_out:
        return None
    return s.Viewer(account_id=ctx.require_principal().account_id)


async def account(info: Info, account_id: str) -> people_s.Account:
    row = await info.context.loaders.account.get(account_id)
    if row is None:
        raise BrokenInvariant("row is None")
    return people_s.Account.from_row(row)


def patient_contexts(info: Info) -> list[patient_s.PatientContext]:
    return [patient_s.PatientContext.from_facts(c) for c in info.context.patient_contexts]
