"""Providers, departments and the accounts that entered things: reference data, no PHI, still
behind sign-in. Answers rows; schema/people.py converts them."""

from __future__ import annotations

from typing import Any

from domain.paging import Page, PageOf
from loaders import people
from persistence.queries.people import AccountRow, DepartmentRow, ProviderRow
from runtime.context import Context


async def provider(ctx: Context, provider_id: str | None) -> ProviderRow | None:
    if provider_id is None:
        return None
    return await ctx.loaders.provider.get(provider_id)


async def department(ctx: Context, department_id: str | None) -> DepartmentRow | None:
    if department_id is None:
        return None
    return await ctx.loaders.department.get(department_id)


async def account(ctx: Context, account_id: str) -> AccountRow | None:
    """The account that entered a row of a patient's record (batched: one statement)."""
    return await ctx.loaders.account.get(account_id)


async def providers(
    ctx: Context, search: str | None, first: int, after: tuple[Any, ...] | None
) -> PageOf:
    """The provider directory, by name; `search` narrows it."""
    ctx.require_principal()
    return await people.provider_directory(ctx.loaders.session, search, Page(first, after))
