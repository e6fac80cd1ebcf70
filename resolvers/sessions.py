"""signOutSession, signOutEverywhere (rules: usecases/sessions.py; the list of sessions:
resolvers/viewer.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from persistence.uow import UnitOfWork
from resolvers.payloads import account_action, user_errors
from schema import auth as s
from schema.base import internal_id
from usecases import sessions as usecase

if TYPE_CHECKING:
    from schema.base import Info


@account_action
@user_errors(s.SignOutSessionPayload, s.SessionError, s.SessionErrorCode)
async def sign_out_session(info: Info, input: s.SignOutSessionInput) -> s.SignOutSessionPayload:
    ctx = info.context
    command = usecase.SignOutSession(internal_id(input.id, "AccountSession"))
    services = ctx.services
    await usecase.sign_out_session(
        command, ctx.require_principal(), UnitOfWork(services.sessions), services.clock
    )
    return s.SignOutSessionPayload(ok=True)


@account_action
@user_errors(s.SignOutEverywherePayload, s.SessionError, s.SessionErrorCode)
async def sign_out_everywhere(
    info: Info, input: s.SignOutEverywhereInput
) -> s.SignOutEverywherePayload:
    ctx = info.context
    command = usecase.SignOutEverywhere(ctx.session_id if input.keep_current else None)
    services = ctx.services
    ended = await usecase.sign_out_everywhere(
        command, ctx.require_principal(), UnitOfWork(services.sessions), services.clock
    )
    return s.SignOutEverywherePayload(ended=ended)
