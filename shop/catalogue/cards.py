"""What a catalogue card shows of a product, worked out once in Python for a page of cards, so that
the listing's template only lays it out: the badges, the buyer's price, the options on sale and
those the buyer can put in the cart now with what each costs them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shop.accounts.models import User
from shop.catalogue.compliance import Refusal, product_refusals, variant_refusal
from shop.catalogue.models import Product, Variant
from shop.catalogue.price_lists import PriceList


@dataclass(frozen=True, slots=True)
class Badge:
    kind: str  # the badge's style: info, warning, muted
    words: str


def badges(product: Product, refusals: Sequence[Refusal]) -> list[Badge]:
    """The badges by a product's name (card and product page): a lidocaine option, prescription
    only, a refusal that concerns everyone (not cleared here), else out of stock."""
    sellable = product.sellable_variants
    shown = []
    if any(v.contains_lidocaine for v in sellable):
        shown.append(Badge("info", "Lidocaine option"))
    if product.prescription_only:
        shown.append(Badge("warning", "Prescription-only"))
    refused = [Badge("muted", r.badge) for r in refusals if r.badge]
    if refused:
        shown += refused
    elif not any(v.stock_on_hand > 0 for v in sellable):
        shown.append(Badge("muted", "Out of stock"))
    return shown


@dataclass(frozen=True, slots=True)
class Card:
    product: Product
    badges: list[Badge]
    price_cents: int | None  # the buyer's lowest price for a pack (None: nothing on sale)
    list_price_cents: int | None  # the lowest list price, where the buyer pays another
    on_sale: int  # options on sale
    options: list[tuple[Variant, int]]  # what the buyer can add to the cart now, and its price


def cards(products: Sequence[Product], prices: PriceList, buyer: User | None) -> list[Card]:
    """The cards of `products` (their options loaded with `prices`: priced_options) for `buyer`
    (None: staff looking, who buy nothing)."""
    made = []
    for product in products:
        refusals = product_refusals(product, buyer)
        sellable = product.sellable_variants
        price = prices.from_price(product)
        listed = product.from_price_cents
        options = []
        if buyer is not None:
            options = [
                (v, prices.unit_price(v))
                for v in sellable
                if v.stock_on_hand > 0 and variant_refusal(v, buyer, refusals) is None
            ]
        made.append(
            Card(
                product=product,
                badges=badges(product, refusals),
                price_cents=price,
                list_price_cents=listed if price != listed else None,
                on_sale=len(sellable),
                options=options,
            )
        )
    return made
