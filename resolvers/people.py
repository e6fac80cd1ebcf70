"""Providers, departments and accounts: public reference data, still behind sign-in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from schema import people as s

if TYPE_CHECKING:
    from schema.base import Info


async def provider(info: Info, provider_id: str | None) -> s.Provider | None:
    if provider_id is None:
        return None
    row = await info.context.loaders.provider.get(provider_id)
    return s.Provider.from_row(row) if row else None


async def department(info: Info, department_id: str | None) -> s.Department | None:
    if department_id is None:
        return None
    row = await info.context.loaders.department.get(department_id)
    return s.Department.from_row(row) if row else None


async def entered_by(info: Info, account_id: str, patient_id: str) -> s.EnteredBy | None:
    """The account that entered a row of `patient_id`'s record (batched: one statement)."""
    row = await info.context.loaders.account.get(account_id)
    if row is None:
        return None
    return s.EnteredBy(name=row.display_name, is_patient=row.patient_id == patient_id)
