"""Finding one product on sale: at its address (slug), or by an exact SKU or GTIN typed in the
search box."""

from __future__ import annotations

from functools import cache

from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from shop.catalogue.models import (
    Ingredient,
    Product,
    TreatmentArea,
    Variant,
    product_ingredients,
    product_treatment_areas,
)
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
    product = db.session.scalars(_product_at_slug(), {"slug": slug}).unique().one_or_none()
    if product is not None:
        for relation, statement in _tags_of_product().items():
            set_committed_value(product, relation, list(db.session.scalars(statement, {"product": product.id})))
    return product


@cache
def _product_at_slug() -> Select:
    """`product_by_slug`'s statement for the slug SLUG (a parameter): made once, as making it
    (and its cache key) costs about what running it does."""
    return (
        select(Product)
        .where(Product.slug == bindparam("slug"), Product.active)
        .options(
            joinedload(Product.brand),
            joinedload(Product.category),
            joinedload(Product.regulatory_statuses),
            joinedload(Product.images),
        )
    )


@cache
def _tags_of_product() -> dict[str, Select]:
    """The ingredients and the treatment areas of the product PRODUCT (a parameter), in the order
    their relationships keep: statements made once (a select-in load makes its statement, and
    its cache key, again on every page)."""
    product = bindparam("product")
    links = product_ingredients.c, product_treatment_areas.c
    return {
        "ingredients": select(Ingredient)
        .join(product_ingredients, links[0].ingredient_id == Ingredient.id)
        .where(links[0].product_id == product)
        .order_by(Ingredient.name),
        "treatment_areas": select(TreatmentArea)
        .join(product_treatment_areas, links[1].area_id == TreatmentArea.id)
        .where(links[1].product_id == product)
        .order_by(TreatmentArea.position),
    }
