"""A catalogue card: what the listing shows of a product, read as plain rows (a page of cards is a
few dozen values, which model instances would cost more to build than the rows do to fetch) and
worked out once in Python, so that the template only lays it out: the badges, the buyer's
price, the options on sale and those the buyer can put in the cart now with what each costs
them. The rules are the shop's one set: compliance for what may be sold to whom, the price list
for what it costs, `badges` for what the card and the product page say of it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Select, bindparam, select

from shop.accounts.models import User
from shop.catalogue.compliance import Refusal, option_refusal, refusals_of
from shop.catalogue.models import Product, ProductStatus, Variant
from shop.catalogue.price_lists import PriceList, prices_agreed, with_agreed_price
from shop.extensions import db


@dataclass(frozen=True, slots=True)
class Badge:
    kind: str  # the badge's style: info, warning, muted
    words: str


def badges(*, lidocaine: bool, prescription_only: bool, in_stock: bool, refusals: Sequence[Refusal]) -> list[Badge]:
    """The badges by a product's name (card and product page): a lidocaine option, prescription
    only, a refusal that concerns everyone (not cleared here), else out of stock; of the options
    on sale."""
    shown = []
    if lidocaine:
        shown.append(Badge("info", "Lidocaine option"))
    if prescription_only:
        shown.append(Badge("warning", "Prescription-only"))
    refused = [Badge("muted", r.badge) for r in refusals if r.badge]
    if refused:
        shown += refused
    elif not in_stock:
        shown.append(Badge("muted", "Out of stock"))
    return shown


def product_badges(product: Product, refusals: Sequence[Refusal]) -> list[Badge]:
    return badges(
        lidocaine=product.has_lidocaine_option,
        prescription_only=product.prescription_only,
        in_stock=product.in_stock,
        refusals=refusals,
    )


@dataclass(frozen=True, slots=True)
class CardImage:
    id: int
    digest: str
    card_width: int
    card_height: int


@dataclass(frozen=True, slots=True)
class Option:
    """An option on sale, as a card offers it."""

    id: int
    sku: str
    label: str
    price_cents: int  # its list price for a pack
    stock_on_hand: int
    contains_lidocaine: bool


@dataclass(frozen=True, slots=True)
class Card:
    id: int
    slug: str
    name: str
    summary: str
    brand: str
    category: str
    main_image: CardImage | None
    badges: list[Badge]
    price_cents: int | None  # the buyer's lowest price for a pack (None: nothing on sale)
    list_price_cents: int | None  # the lowest list price, where the buyer pays another
    on_sale: int  # options on sale
    orderable: list[tuple[Option, int]]  # what the buyer can add to the cart now, at their price


@lru_cache(maxsize=2)
def _options_statement(agreed: bool) -> Select:
    """The options on sale of the products PRODUCTS (a parameter, a list of ids) in their order,
    with the price the practice PRACTICE agreed for each if `agreed`: made once."""
    query = (
        select(
            Variant.product_id,
            Variant.id,
            Variant.sku,
            Variant.label,
            Variant.price_cents,
            Variant.stock_on_hand,
            Variant.contains_lidocaine,
        )
        .where(Variant.product_id.in_(bindparam("products", expanding=True)), Variant.active.is_(True))
        .order_by(Variant.product_id, Variant.position, Variant.id)
    )
    return with_agreed_price(query, Variant.id, bindparam("practice") if agreed else None)


def cards(rows: Sequence, buyer: User | None) -> list[Card]:
    """The cards of a page of products (`rows` of card_rows.card_columns) for `buyer` (None: staff
    looking, who buy nothing), their options read in one statement with the prices the buyer's
    practice agreed for them."""
    if not rows:
        return []
    practice = buyer.practice if buyer is not None else None
    options: dict[int, list[Option]] = {row.id: [] for row in rows}
    agreed = {}
    params = {"products": list(options), "practice": practice.id if practice is not None else None}
    for product_id, *values, price in db.session.execute(_options_statement(practice is not None), params):
        option = Option(*values)
        options[product_id].append(option)
        if price is not None:
            agreed[option.id] = price
    prices = prices_agreed(practice, agreed)
    return [_card(row, options[row.id], prices, buyer) for row in rows]


def _card(row, on_sale: list[Option], prices: PriceList, buyer: User | None) -> Card:
    refusals = refusals_of(row.prescription_only, bool(row.sale_permitted), buyer)
    priced = [(option, prices.price_of(option.id, option.price_cents)) for option in on_sale]
    price = min((price for _option, price in priced), default=None)
    listed = min((option.price_cents for option in on_sale), default=None)
    buys = buyer is not None and option_refusal(row.status == ProductStatus.ACTIVE, refusals) is None
    return Card(
        id=row.id,
        slug=row.slug,
        name=row.name,
        summary=row.summary,
        brand=row.brand,
        category=row.category,
        main_image=CardImage(row.image_id, row.digest, row.card_width, row.card_height) if row.image_id else None,
        badges=badges(
            lidocaine=any(o.contains_lidocaine for o in on_sale),
            prescription_only=row.prescription_only,
            in_stock=any(o.stock_on_hand > 0 for o in on_sale),
            refusals=refusals,
        ),
        price_cents=price,
        list_price_cents=listed if price != listed else None,
        on_sale=len(on_sale),
        orderable=[(option, price) for option, price in priced if buys and option.stock_on_hand > 0],
    )
