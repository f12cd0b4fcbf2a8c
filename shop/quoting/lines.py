"""The lines of a quote and what they cost: a catalogue product at its list price for the
quantity (volume breaks), or a custom item at the price staff give it; a typed unit price or a
percentage discount on the list price; and the version's totals, tax on goods and shipping."""

from __future__ import annotations

from shop.catalogue.models import Variant
from shop.catalogue.options import find_variant
from shop.catalogue.price_lists import PriceList
from shop.core.formatting import money
from shop.core.limits import ITEM_NAME_LENGTH
from shop.core.pricing import discounted, line_total, totals_with_shipping
from shop.errors import NotEligible
from shop.extensions import db
from shop.quoting.models import QuoteLine, QuoteRequestLine, QuoteVersion


def catalogue_line(
    variant: Variant, quantity: int, prices: PriceList, unit_price_cents: int | None = None, position: int = 0
) -> QuoteLine:
    """A catalogue product at the practice's price for `quantity` (its agreed price or discount,
    shop.catalogue.price_lists), which is the line's list price, or at the unit price staff typed."""
    price = prices.unit_price(variant, quantity)
    unit = price if unit_price_cents is None else unit_price_cents
    return QuoteLine(
        position=position,
        variant_id=variant.id,
        sku=variant.sku,
        product_name=variant.product.name,
        description=variant.label,
        quantity=quantity,
        list_price_cents=price,
        unit_price_cents=unit,
        line_total_cents=line_total(unit, quantity),
    )


def custom_line(name: str, quantity: int, unit_price_cents: int, position: int = 0) -> QuoteLine:
    """An item that is not in the catalogue, at the price staff give it (its list price too)."""
    return QuoteLine(
        position=position,
        sku="",
        product_name=name[:ITEM_NAME_LENGTH],
        quantity=quantity,
        list_price_cents=unit_price_cents,
        unit_price_cents=unit_price_cents,
        line_total_cents=line_total(unit_price_cents, quantity),
    )


def line_from_request(request: QuoteRequestLine, prices: PriceList) -> QuoteLine:
    """What the clinician asked for, as v1 starts: catalogue items at the practice's price,
    anything else at 0 until staff price it."""
    variant = find_variant(request.sku) if request.sku else None
    if variant is not None:
        return catalogue_line(variant, request.quantity, prices)
    return custom_line(request.description, request.quantity, 0)


# What a revision copies of each line of the version it revises.
COPIED = (
    "position",
    "variant_id",
    "sku",
    "product_name",
    "description",
    "quantity",
    "list_price_cents",
    "discount_bps",
    "unit_price_cents",
    "line_total_cents",
)


def copy_line(line: QuoteLine) -> QuoteLine:
    return QuoteLine(**{name: getattr(line, name) for name in COPIED})


# Larger deals are split into several quotes (and amounts stay within the database's integers).
MAX_QUOTE_TOTAL_CENTS = 1_000_000_000


def recalculate(version: QuoteVersion) -> None:
    """Totals of a version from its lines, shipping and tax rate (tax on goods and shipping).
    Raises NotEligible when the total would pass MAX_QUOTE_TOTAL_CENTS."""
    result = totals_with_shipping(
        [line.line_total_cents for line in version.lines], version.shipping_cents, version.tax_rate_bps
    )
    version.subtotal_cents, version.tax_cents, version.total_cents = (
        result.subtotal_cents,
        result.tax_cents,
        result.total_cents,
    )
    if version.total_cents > MAX_QUOTE_TOTAL_CENTS:
        raise NotEligible(
            f"A quote can total at most {money(MAX_QUOTE_TOTAL_CENTS, version.currency)}; "
            "split a larger order into several quotes."
        )


def priced_unit(list_price_cents: int, unit_price_cents: int | None, discount_bps: int) -> int:
    """A discount applies to the list price and the discounted price is rounded half up to the
    cent (50% off 9.99 is 5.00); without one, the unit price staff typed stands."""
    if discount_bps:
        return discounted(list_price_cents, discount_bps)
    return list_price_cents if unit_price_cents is None else unit_price_cents


def reprice(line: QuoteLine, quantity: int, typed: int | None, discount_bps: int, prices: PriceList) -> None:
    """A line's new quantity, typed unit price (None: keep the list price) and discount.

    A catalogue line whose quantity changes takes the practice's price of the new quantity
    (volume breaks) and, unless staff typed another price, its unit price follows. A custom line has no
    catalogue price: the price staff type for it is its list price."""
    variant = db.session.get(Variant, line.variant_id) if line.variant_id is not None else None
    if variant is not None:
        if quantity != line.quantity:
            untouched = line.unit_price_cents == line.list_price_cents and typed in (None, line.unit_price_cents)
            line.list_price_cents = prices.unit_price(variant, quantity)
            typed = None if untouched else typed
    elif typed is not None and (not discount_bps or line.list_price_cents == 0):
        line.list_price_cents = typed
    line.quantity = quantity
    line.discount_bps = discount_bps
    line.unit_price_cents = priced_unit(line.list_price_cents, typed, discount_bps)
    line.line_total_cents = line_total(line.unit_price_cents, line.quantity)
