"""All money arithmetic of carts and orders, in integer cents.

One place decides the unit price (volume breaks), shipping (flat rate, free above a
threshold), and tax (a rate in basis points on goods plus shipping, rounded half up once per
order, so lines never drift by a cent against the total).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask import current_app


@dataclass(frozen=True)
class PriceRules:
    shipping_flat_cents: int
    free_shipping_threshold_cents: int
    tax_rate_bps: int

    @classmethod
    def from_config(cls) -> PriceRules:
        config = current_app.config
        return cls(
            shipping_flat_cents=int(config["SHIPPING_FLAT_CENTS"]),
            free_shipping_threshold_cents=int(config["FREE_SHIPPING_THRESHOLD_CENTS"]),
            tax_rate_bps=percent_to_bps(config["TAX_RATE_PERCENT"]),
        )


@dataclass(frozen=True)
class Totals:
    subtotal_cents: int
    shipping_cents: int
    tax_rate_bps: int
    tax_cents: int
    total_cents: int


def percent_to_bps(percent: str | int | float | Decimal) -> int:
    """'23' or '8.875' (percent) to basis points (2300, 888 rounded half up)."""
    if isinstance(percent, bool):
        raise ValueError(f"not a percentage: {percent!r}")
    try:
        value = Decimal(str(percent).strip().removesuffix("%"))
    except InvalidOperation:
        raise ValueError(f"not a percentage: {percent!r}") from None
    if not value.is_finite():
        raise ValueError(f"not a percentage: {percent!r}")
    if value < 0 or value > 100:
        raise ValueError(f"a tax rate must be between 0 and 100 percent, not {percent}")
    return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def unit_price(base_price_cents: int, breaks: Iterable[tuple[int, int]], quantity: int) -> int:
    """The price per pack when buying `quantity`: the price of the highest volume break reached
    (`breaks` are (minimum quantity, unit price) pairs, in any order), else the base price."""
    reached = [(minimum, price) for minimum, price in breaks if quantity >= minimum]
    return max(reached)[1] if reached else base_price_cents


def percent(bps: int) -> str:
    """Basis points as a percentage for people: 2300 -> '23', 1005 -> '10.05'."""
    return f"{bps / 100:g}"


def line_total(unit_price_cents: int, quantity: int) -> int:
    return unit_price_cents * quantity


def shipping_for(subtotal_cents: int, rules: PriceRules) -> int:
    if subtotal_cents <= 0 or subtotal_cents >= rules.free_shipping_threshold_cents:
        return 0
    return rules.shipping_flat_cents


def tax_on(amount_cents: int, rate_bps: int) -> int:
    """Tax in cents, rounded half up (0.5 cent and more goes up)."""
    return int((Decimal(amount_cents) * rate_bps / 10_000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def totals(line_totals: list[int], rules: PriceRules) -> Totals:
    """A cart's totals: shipping by the rules (flat, or free from the threshold)."""
    subtotal = sum(line_totals)
    return totals_with_shipping(line_totals, shipping_for(subtotal, rules), rules.tax_rate_bps)


def totals_with_shipping(line_totals: list[int], shipping_cents: int, tax_rate_bps: int) -> Totals:
    """Totals with a given shipping charge and tax rate (a quote's, set by the desk)."""
    subtotal = sum(line_totals)
    tax = tax_on(subtotal + shipping_cents, tax_rate_bps)
    return Totals(
        subtotal_cents=subtotal,
        shipping_cents=shipping_cents,
        tax_rate_bps=tax_rate_bps,
        tax_cents=tax,
        total_cents=subtotal + shipping_cents + tax,
    )


def cents(amount: Decimal | None) -> int | None:
    """An amount typed in the currency's units (12.345) as minor units, rounded half up (1235)."""
    return None if amount is None else int((amount * 100).to_integral_value(ROUND_HALF_UP))


def discounted(price_cents: int, discount_bps: int) -> int:
    """A price less a discount in basis points, rounded half up to the cent (50% off 9.99 is 5.00)."""
    return portion(price_cents, 10_000 - discount_bps) if discount_bps else price_cents


def portion(amount_cents: int, rate_bps: int) -> int:
    """`rate_bps` basis points of an amount (a discount, say), rounded half up like tax."""
    return tax_on(amount_cents, rate_bps)
