"""What every mutation payload's errors have in common; domain errors become payload errors
here, in one place, for every mutation; and the account-level mutations (no patient's record)
are audited here, done or refused."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from enum import Enum
from typing import Any, ParamSpec, Protocol, TypeVar, cast

import strawberry

from domain.errors import DomainError, DomainErrors
from domain.identity import OneCredentialPerRequest
from schema.base import Info


@strawberry.interface(
    description="An expected failure of a mutation. Each mutation family's error type adds a "
    "`code` of its own enum, so clients can switch on it."
)
class UserError:
    message: str = strawberry.field(description="For the user to read; no internals.")
    field: str | None = strawberry.field(description="The input field at fault, if one is.")


P = TypeVar("P")
Params = ParamSpec("Params")


class Answer(Protocol):
    @property
    def errors(self) -> Sequence[object]: ...


Reported = TypeVar("Reported", bound=Answer)


def user_errors(
    payload: Callable[..., P], error: Callable[..., Any], codes: type[Enum]
) -> Callable[[Callable[Params, Awaitable[P]]], Callable[Params, Awaitable[P]]]:
    """Decorate a mutation resolver: a `DomainError` it raises is answered as
    `payload(errors=[error(code=codes[exc.code], message=..., field=...)], **exc.payload)`;
    `DomainErrors` (several at once, e.g. every invalid field) as one error each.

    Only expected failures are caught; anything else stays an unexpected error (logged, masked).
    A domain code missing from `codes` is a bug and fails loudly the same way.
    """

    def decorate(resolver: Callable[Params, Awaitable[P]]) -> Callable[Params, Awaitable[P]]:
        @functools.wraps(resolver)
        async def reporting(*args: Params.args, **kwargs: Params.kwargs) -> P:
            try:
                return await resolver(*args, **kwargs)
            except DomainErrors as exc:
                return payload(
                    errors=[
                        error(code=codes[e.code], message=e.message, field=e.field)
                        for e in exc.errors
                    ]
                )
            except DomainError as exc:
                failure = error(code=codes[exc.code], message=exc.message, field=exc.field)
                return payload(errors=[failure], **exc.payload)

        return reporting

    return decorate


def _info(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Info:
    """The `info` of a decorated call: a keyword when strawberry calls a mutation field (a
    method: `self` comes first), else the first positional (a resolver called as `(info,
    input)` by a field's body)."""
    return cast("Info", kwargs["info"] if "info" in kwargs else args[0])


def account_action(
    resolver: Callable[Params, Awaitable[Reported]],
) -> Callable[Params, Awaitable[Reported]]:
    """Decorate an account-level mutation (outside `user_errors`): it is audited under its
    field name, as a write when it succeeds and as an attempt when it is refused (errors in
    its payload, not signed in, anything raised). See `Context.audit_account`."""

    @functools.wraps(resolver)
    async def audited(*args: Params.args, **kwargs: Params.kwargs) -> Reported:
        info = _info(args, kwargs)
        done = False
        try:
            payload = await resolver(*args, **kwargs)
            done = not payload.errors
            return payload
        finally:
            info.context.audit_account_action(info.field_name, done)

    return audited


def one_per_request(
    resolver: Callable[Params, Awaitable[Reported]],
) -> Callable[Params, Awaitable[Reported]]:
    """Decorate a mutation that checks a password or code (inside `user_errors`): only the
    first of an HTTP request runs; the others answer ONE_CREDENTIAL_PER_REQUEST unprocessed."""

    @functools.wraps(resolver)
    async def first_only(*args: Params.args, **kwargs: Params.kwargs) -> Reported:
        if not _info(args, kwargs).context.claim_credential_check():
            raise OneCredentialPerRequest()
        return await resolver(*args, **kwargs)

    return first_only
