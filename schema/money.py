"""Money as clients see it: integer cents, a currency, and a display string."""

from __future__ import annotations

import strawberry

from domain import money


@strawberry.type(description="An amount of money in integer cents; never a float.")
class Money:
    amount_cents: int
    currency: str
    formatted: str = strawberry.field(description='For display, e.g. "$1,234.50".')

    @classmethod
    def of(cls, value: money.Money) -> Money:
        return cls(
            amount_cents=value.amount_cents, currency=value.currency, formatted=value.formatted
        )

    @classmethod
    def cents(cls, amount_cents: int, currency: str) -> Money:
        return cls.of(money.Money(amount_cents, currency))
