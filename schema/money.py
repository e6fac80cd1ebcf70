"""Money as clients see it: integer cents, a currency, and a display string."""

from __future__ import annotations

import strawberry

from domain import money
from schema.construct import maker


@strawberry.type(description="An amount of money in integer cents; never a float.")
class Money:
    amount_cents: int
    currency: str
    formatted: str = strawberry.field(description='For display, e.g. "$1,234.50".')

    @classmethod
    def of(cls, value: money.Money) -> Money:
        return cls.cents(value.amount_cents, value.currency)

    @classmethod
    def cents(cls, amount_cents: int, currency: str) -> Money:
        # No domain Money in between (four amounts a line item).
        return _money(amount_cents, currency, money.formatted(amount_cents, currency))


_money = maker(Money, "amount_cents", "currency", "formatted")
