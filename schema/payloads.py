"""What every mutation payload's errors have in common."""

from __future__ import annotations

import strawberry


@strawberry.interface(
    description="An expected failure of a mutation. Each mutation family's error type adds a "
    "`code` of its own enum, so clients can switch on it."
)
class UserError:
    message: str = strawberry.field(description="For the user to read; no internals.")
    field: str | None = strawberry.field(description="The input field at fault, if one is.")
