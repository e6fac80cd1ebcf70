"""Money is integer cents and a currency; never a float."""

from __future__ import annotations

from dataclasses import dataclass

_SYMBOLS = {"USD": "$"}


@dataclass(frozen=True)
class Money:
    amount_cents: int
    currency: str = "USD"

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount_cents + other.amount_cents, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount_cents - other.amount_cents, self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")

    @property
    def formatted(self) -> str:
        return formatted(self.amount_cents, self.currency)


def formatted(amount_cents: int, currency: str) -> str:
    """For display, e.g. "$1,234.50", "-$5.00", "EUR 3.10"."""
    sign = "-" if amount_cents < 0 else ""
    whole, cents = divmod(abs(amount_cents), 100)
    symbol = _SYMBOLS.get(currency, currency + " ")
    return f"{sign}{symbol}{whole:,}.{cents:02d}"


def amount_due(patient_cents: int, paid_cents: int, currency: str = "USD") -> Money:
    """A statement's amount due: patient responsibility of its lines minus payments."""
    return Money(patient_cents - paid_cents, currency)
