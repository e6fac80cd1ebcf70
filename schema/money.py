"""Money as clients see it: integer cents, a currency, and a display string."""

from __future__ import annotations

import strawberry

from domain import money
from schema.construct import maker


@strawberry.type(description="An amount of money in integer cents; never a float.")
class Money:
    amount_cents: int
    currency: str

    @strawberry.field(description='For display, e.g. "$1,234.50".')
    def formatted(self) -> str:
        # Formatted when asked, not when made: four amounts a line item, which the
        # dashboard reads as cents alone.
        return money.formatted(self.amount_cents, self.currency)

    @classmethod
    def of(cls, value: money.Money) -> Money:
        return cents(value.amount_cents, value.currency)

    @classmethod
    def cents(cls, amount_cents: int, currency: str) -> Money:
        return cents(amount_cents, currency)


# `Money.cents` without its frame (no domain Money in between either).
cents = maker(Money, "amount_cents", "currency")
