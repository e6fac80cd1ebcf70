"""Domain errors become payload errors here, in one place, for every mutation."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any, ParamSpec, TypeVar

from domain.errors import DomainError

P = TypeVar("P")
Params = ParamSpec("Params")


def user_errors(
    payload: Callable[..., P], error: Callable[..., Any], codes: type[Enum]
) -> Callable[[Callable[Params, Awaitable[P]]], Callable[Params, Awaitable[P]]]:
    """Decorate a mutation resolver: a `DomainError` it raises is answered as
    `payload(errors=[error(code=codes[exc.code], message=..., field=...)])`.

    Only expected failures are caught; anything else stays an unexpected error (logged, masked).
    A domain code missing from `codes` is a bug and fails loudly the same way.
    """

    def decorate(resolver: Callable[Params, Awaitable[P]]) -> Callable[Params, Awaitable[P]]:
        @functools.wraps(resolver)
        async def reporting(*args: Params.args, **kwargs: Params.kwargs) -> P:
            try:
                return await resolver(*args, **kwargs)
            except DomainError as exc:
                failure = error(code=codes[exc.code], message=exc.message, field=exc.field)
                return payload(errors=[failure])

        return reporting

    return decorate
