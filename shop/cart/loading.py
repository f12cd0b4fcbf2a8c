"""A cart's lines as the cart page and the checkout read them: each with its option's product,
market statuses and volume prices, and the price the practice agreed for it, in one statement."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from shop.accounts.models import User
from shop.cart.models import CartLine
from shop.catalogue.models import Product, Variant
from shop.catalogue.price_lists import PriceList, prices_agreed, with_agreed_price
from shop.extensions import db


def priced_lines(user: User) -> tuple[list[CartLine], PriceList]:
    """The user's cart lines, oldest first, and the prices the user pays for them."""
    practice = user.practice if user.is_clinician else None
    option = joinedload(CartLine.variant)
    query = with_agreed_price(
        select(CartLine)
        .where(CartLine.user_id == user.id)
        .order_by(CartLine.added_at, CartLine.id)
        .options(
            option.joinedload(Variant.product).joinedload(Product.regulatory_statuses),
            option.joinedload(Variant.price_breaks),
        ),
        CartLine.variant_id,
        practice.id if practice is not None else None,
    )
    rows = db.session.execute(query).unique().all()
    agreed = {line.variant_id: price for line, price in rows if price is not None}
    return [line for line, _price in rows], prices_agreed(practice, agreed)
