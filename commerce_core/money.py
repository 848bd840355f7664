"""Money as integer minor units plus an ISO 4217 currency; never a float.

Telegram Stars (``XTR``) are included because Telegram prices digital goods in them.
"""

from __future__ import annotations

from dataclasses import dataclass

from commerce_core.errors import InvalidInput

#: currency -> number of minor-unit digits (ISO 4217 exponent)
CURRENCY_EXPONENTS: dict[str, int] = {
    "CNY": 2,
    "HKD": 2,
    "TWD": 2,
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "SGD": 2,
    "AUD": 2,
    "CAD": 2,
    "JPY": 0,
    "KRW": 0,
    "XTR": 0,
}
CURRENCY_SYMBOLS: dict[str, str] = {
    "CNY": "¥",
    "HKD": "HK$",
    "TWD": "NT$",
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "SGD": "S$",
    "AUD": "A$",
    "CAD": "C$",
    "JPY": "¥",
    "KRW": "₩",
    "XTR": "⭐",
}
#: no single price or total above this (in minor units): 10^11 fen is one billion yuan
MAX_AMOUNT = 10**11


def check_currency(currency: str) -> str:
    """Return ``currency`` if we support it, else raise :class:`InvalidInput`."""
    if currency not in CURRENCY_EXPONENTS:
        raise InvalidInput(f"unsupported currency {currency!r}", code="invalid_currency", currency=currency)
    return currency


def check_amount(amount: int, *, allow_zero: bool = True) -> int:
    """Validate an amount in minor units: an int, not negative, not absurd."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidInput("amount must be an integer number of minor units", code="invalid_amount")
    if amount < 0 or (amount == 0 and not allow_zero):
        raise InvalidInput(f"amount must be positive, got {amount}", code="invalid_amount", amount=amount)
    if amount > MAX_AMOUNT:
        raise InvalidInput("amount is too large", code="invalid_amount", amount=amount)
    return amount


@dataclass(frozen=True, slots=True)
class Money:
    """An amount of one currency in minor units (fen, cents)."""

    amount: int
    currency: str

    def __post_init__(self) -> None:
        check_currency(self.currency)
        check_amount(self.amount)

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def times(self, quantity: int) -> Money:
        return Money(self.amount * quantity, self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise InvalidInput(
                "cannot mix currencies", code="currency_mismatch", left=self.currency, right=other.currency
            )

    def format(self) -> str:
        """Human form, e.g. ``¥199.00``; language-neutral (symbol + digits)."""
        exponent = CURRENCY_EXPONENTS[self.currency]
        symbol = CURRENCY_SYMBOLS.get(self.currency, self.currency + " ")
        if exponent == 0:
            return f"{symbol}{self.amount}"
        whole, minor = divmod(self.amount, 10**exponent)
        return f"{symbol}{whole}.{minor:0{exponent}d}"
