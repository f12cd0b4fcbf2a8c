"""What the header search box offers while a person types: brands whose name starts with what
was typed, the products that match it best, and their SKUs that start with it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from shop.catalogue.models import Brand, Product, Variant
from shop.catalogue.search import MAX_QUERY_LENGTH, MAX_TERMS
from shop.catalogue.text_search import matches, terms
from shop.extensions import db

MOST = 8
BRANDS = 2
MIN_SKU_PREFIX = 2


@dataclass(frozen=True)
class Suggestion:
    label: str
    kind: str  # "Brand", "Product" or "SKU", read out after the label
    slug: str  # the product's, or the brand's for a brand


def suggestions(typed: str) -> list[Suggestion]:
    """At most MOST suggestions for `typed`, brands first, then each product's matching SKUs
    and the product itself, the best match first. Three statements whatever the catalogue's size."""
    query_words = terms(typed[:MAX_QUERY_LENGTH], MAX_TERMS)
    if not query_words:
        return []
    brands = [
        Suggestion(name, "Brand", slug)
        for name, slug in db.session.execute(
            select(Brand.name, Brand.slug)
            .where(Brand.slug.startswith("-".join(query_words), autoescape=True))
            .order_by(Brand.name)
            .limit(BRANDS)
        )
    ]
    matched = matches(query_words)
    # The engine ranks its rows (each a product on sale) and keeps the best; then their names.
    best = (
        select(matched.c.product_id, matched.c.rank)
        .order_by(matched.c.rank, matched.c.product_id)
        .limit(MOST - len(brands))
        .subquery("best")
    )
    products = db.session.execute(
        select(Product.id, Product.name, Product.slug)
        .join(best, best.c.product_id == Product.id)
        .order_by(best.c.rank, best.c.product_id)
    ).all()
    code = typed.strip().upper()
    skus: dict[int, list[str]] = {}
    if products and len(code) >= MIN_SKU_PREFIX:
        for product_id, sku in db.session.execute(
            select(Variant.product_id, Variant.sku)
            .where(Variant.product_id.in_([p.id for p in products]), Variant.active.is_(True))
            .order_by(Variant.position, Variant.id)
        ):
            if sku.startswith(code):
                skus.setdefault(product_id, []).append(sku)
    offered = list(brands)
    for product in products:
        offered += [Suggestion(sku, "SKU", product.slug) for sku in skus.get(product.id, [])]
        offered.append(Suggestion(product.name, "Product", product.slug))
    return offered[:MOST]
