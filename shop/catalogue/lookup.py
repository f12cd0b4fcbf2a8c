"""Finding one product on sale: at its address (slug), or by an exact SKU or GTIN typed in the
search box."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from shop.catalogue.models import Product, Variant
from shop.core.limits import SKU_LENGTH
from shop.extensions import db


def looks_like_a_code(typed: str) -> bool:
    """Whether a search could be an SKU or a GTIN: one word with a digit in it (names rarely
    are, and a search that is not costs no look-up)."""
    typed = typed.strip()
    return bool(typed) and not any(c.isspace() for c in typed) and any(c.isdigit() for c in typed)


def product_with_code(code: str) -> Product | None:
    """The product on sale with an option whose SKU or GTIN is exactly `code` (any case; a GTIN
    with or without its leading zeros), for a search that goes straight to it."""
    code = code.strip().upper()
    if not code or len(code) > SKU_LENGTH or not code.isprintable():
        return None
    codes = Variant.sku == code
    if code.isdigit() and 8 <= len(code) <= 14:
        codes = or_(codes, Variant.gtin.in_({code, code.zfill(14), code.lstrip("0").zfill(13)}))
    return db.session.scalar(
        select(Product)
        .join(Variant, Variant.product_id == Product.id)
        .where(codes, Variant.active.is_(True), Product.active)
        .limit(1)
    )


def product_by_slug(slug: str) -> Product | None:
    """The product on sale at `slug` with what its page shows, its options aside (they come with
    the prices agreed for them: price_lists.priced_options): the product with its brand,
    category, statuses and images joined (a few rows), then its ingredients, then its areas."""
    return (
        db.session.scalars(
            select(Product)
            .where(Product.slug == slug, Product.active)
            .options(
                joinedload(Product.brand),
                joinedload(Product.category),
                joinedload(Product.regulatory_statuses),
                joinedload(Product.images),
                selectinload(Product.ingredients),
                selectinload(Product.treatment_areas),
            )
        )
        .unique()
        .one_or_none()
    )
