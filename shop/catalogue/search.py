"""Finding products: text search, filters, sorting and paging for the catalogue listing."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import selectinload

from shop.catalogue.compliance import variant_refusal
from shop.catalogue.models import (
    Brand,
    Category,
    Ingredient,
    Product,
    TreatmentArea,
    Variant,
    product_ingredients,
    product_treatment_areas,
)
from shop.core.limits import SKU_LENGTH
from shop.errors import NotEligible
from shop.extensions import db

SORTS = {
    "name": "Name (A to Z)",
    "price_asc": "Price (low to high)",
    "price_desc": "Price (high to low)",
    "brand": "Brand",
    "newest": "Newest first",
}
MAX_QUERY_LENGTH = 100
MAX_TERMS = 8


@dataclass(frozen=True)
class CatalogueFilter:
    q: str = ""
    category: str = ""
    brand: str = ""
    ingredient: str = ""
    area: str = ""
    lidocaine: bool = False
    in_stock: bool = False
    sort: str = "name"

    @property
    def terms(self) -> list[str]:
        return self.q[:MAX_QUERY_LENGTH].lower().split()[:MAX_TERMS]

    @property
    def is_filtered(self) -> bool:
        return bool(
            self.terms or self.category or self.brand or self.ingredient or self.area or self.lidocaine or self.in_stock
        )


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _ascii(term: str) -> str:
    """The term without accents ("juvéderm" -> "juvederm"), as slugs spell names."""
    return unicodedata.normalize("NFKD", term).encode("ascii", "ignore").decode("ascii")


def _term_matches(term: str):
    pattern = _like(term)
    sku_match = exists().where(
        Variant.product_id == Product.id,
        Variant.active.is_(True),
        func.lower(Variant.sku).like(pattern, escape="\\"),
    )
    matches = [
        func.lower(Product.name).like(pattern, escape="\\"),
        func.lower(Brand.name).like(pattern, escape="\\"),
        func.lower(Product.summary).like(pattern, escape="\\"),
        func.lower(Product.description).like(pattern, escape="\\"),
        func.lower(Product.composition).like(pattern, escape="\\"),
        sku_match,
    ]
    # Names carry accents (Juvéderm) that people rarely type; the slugs spell them in ASCII.
    folded = _ascii(term)
    if folded:
        matches += [Product.slug.like(_like(folded), escape="\\"), Brand.slug.like(_like(folded), escape="\\")]
    return or_(*matches)


def _tagged(link_column, tag, slug: str):
    """The product carries the tag (an ingredient, a treatment area) with this slug."""
    return exists().where(link_column.table.c.product_id == Product.id, link_column == tag.id, tag.slug == slug)


def product_query(f: CatalogueFilter) -> Select:
    """Active products with at least one option on sale, matching every term and filter, in
    the requested order. Inactive variants count for nothing: not in search, filters or price."""
    min_price = (
        select(func.min(Variant.price_cents))
        .where(Variant.product_id == Product.id, Variant.active.is_(True))
        .correlate(Product)
        .scalar_subquery()
    )
    query = (
        select(Product)
        .join(Brand, Product.brand_id == Brand.id)
        .join(Category, Product.category_id == Category.id)
        .where(
            Product.active,
            exists().where(Variant.product_id == Product.id, Variant.active.is_(True)),
        )
        .options(
            selectinload(Product.brand),
            selectinload(Product.category),
            selectinload(Product.variants),
            selectinload(Product.regulatory_statuses),
            selectinload(Product.images),
        )
    )
    for term in f.terms:
        query = query.where(_term_matches(term))
    if f.category:
        query = query.where(Category.slug == f.category)
    if f.brand:
        query = query.where(Brand.slug == f.brand)
    if f.ingredient:
        query = query.where(_tagged(product_ingredients.c.ingredient_id, Ingredient, f.ingredient))
    if f.area:
        query = query.where(_tagged(product_treatment_areas.c.area_id, TreatmentArea, f.area))
    if f.lidocaine:
        query = query.where(
            exists().where(
                and_(Variant.product_id == Product.id, Variant.active.is_(True), Variant.contains_lidocaine.is_(True))
            )
        )
    if f.in_stock:
        query = query.where(
            exists().where(and_(Variant.product_id == Product.id, Variant.active.is_(True), Variant.stock_on_hand > 0))
        )
    order = {
        "price_asc": (min_price.asc(), Product.name),
        "price_desc": (min_price.desc(), Product.name),
        "brand": (Brand.name, Product.name),
        "newest": (Product.created_at.desc(), Product.name),
    }.get(f.sort, (Product.name,))
    return query.order_by(*order, Product.id)


def search_products(f: CatalogueFilter, page: int, per_page: int):
    return db.paginate(product_query(f), page=page, per_page=per_page, error_out=False, max_per_page=per_page)


def facets() -> dict[str, list]:
    """The choices the filter panel offers."""
    return {
        "categories": list(db.session.scalars(select(Category).order_by(Category.position, Category.name))),
        "brands": list(db.session.scalars(select(Brand).order_by(Brand.name))),
        "ingredients": list(db.session.scalars(select(Ingredient).order_by(Ingredient.name))),
        "areas": list(db.session.scalars(select(TreatmentArea).order_by(TreatmentArea.position, TreatmentArea.name))),
    }


def product_by_slug(slug: str) -> Product | None:
    return db.session.scalar(
        select(Product)
        .where(Product.slug == slug, Product.active)
        .options(
            selectinload(Product.variants),
            selectinload(Product.ingredients),
            selectinload(Product.treatment_areas),
            selectinload(Product.regulatory_statuses),
            selectinload(Product.images),
        )
    )


def sellable_variants() -> list[Variant]:
    """Every variant on sale, by product name, for SKU pickers (quote request, quote builder)."""
    return list(
        db.session.scalars(
            select(Variant)
            .join(Product, Variant.product_id == Product.id)
            .where(Variant.active.is_(True), Product.active)
            .order_by(Product.name, Variant.position, Variant.id)
            .options(selectinload(Variant.product).selectinload(Product.regulatory_statuses))
        )
    )


def find_variant(sku: str) -> Variant | None:
    """The variant with this SKU (any case), active or not; None for no such SKU."""
    sku = (sku or "").strip().upper()
    if not sku or len(sku) > SKU_LENGTH or not sku.isprintable():
        return None  # no SKU is that long or holds control characters (PostgreSQL refuses NUL)
    return db.session.scalar(
        select(Variant)
        .where(Variant.sku == sku)
        .options(
            selectinload(Variant.product).selectinload(Product.regulatory_statuses), selectinload(Variant.price_breaks)
        )
    )


def no_such_sku(sku: str) -> str:
    """The message for an SKU the catalogue does not have, quoting what was typed (shortened)."""
    sku = (sku or "").strip()
    shown = sku if len(sku) <= SKU_LENGTH else sku[:SKU_LENGTH] + "…"
    return f"There is no product with the SKU {shown!r}."


def find_by_sku_or_name(typed: str, limit: int = 6) -> list[Variant]:
    """The variant with this SKU; otherwise the options on sale whose product and option names
    hold every word typed ("vital light lido"), at most `limit` of them, by name."""
    exact = find_variant(typed)
    if exact is not None:
        return [exact]
    words = (typed or "").lower().split()[:MAX_TERMS]
    if not words or len(typed) > MAX_QUERY_LENGTH:
        return []
    named = func.lower(Product.name + " " + Variant.label)
    query = (
        select(Variant)
        .join(Product, Variant.product_id == Product.id)
        .where(
            Variant.active.is_(True),
            Product.active,
            *(named.like(_like(word), escape="\\") for word in words),
        )
        .order_by(Product.name, Variant.position, Variant.id)
        .limit(limit)
        .options(selectinload(Variant.product).selectinload(Product.regulatory_statuses))
    )
    return list(db.session.scalars(query))


def no_longer_sold(variant_ids) -> set[int]:
    """Which of these variants are no longer sold (the variant, or its product, is not on sale),
    for the orders and quotes that name them."""
    wanted = {v for v in variant_ids if v is not None}
    if not wanted:
        return set()
    return set(
        db.session.scalars(
            select(Variant.id)
            .join(Product, Variant.product_id == Product.id)
            .where(Variant.id.in_(wanted), or_(Variant.active.is_(False), ~Product.active))
        )
    )


def option_named(buyer, typed: str, *, otherwise: str = "") -> Variant:
    """The catalogue option `typed` names for `buyer` (a clinician): its SKU, or words of its name
    that fit one option on sale. Raises NotEligible saying why not: nothing matches, several do
    (they are named, to choose from), or it is one the clinician could never order (not sold any
    more, not cleared in the shop's market, prescription-only). `otherwise` ends the message for
    a product the catalogue does not have."""
    matches = find_by_sku_or_name(typed)
    if not matches:
        shown = no_such_sku(typed).removesuffix(".")
        raise NotEligible(f"{shown}, nor one whose name has those words.{otherwise}")
    orderable = [v for v in matches if variant_refusal(v, buyer) is None]
    if len(matches) > 1 and orderable:
        matches = orderable
    if len(matches) > 1:
        named = "; ".join(f"{v.sku} ({v.product.name}, {v.label})" for v in matches[:5])
        more = " and more" if len(matches) > 5 else ""
        raise NotEligible(
            f"Several products match {typed.strip()!r}: {named}{more}. Choose one from the list or enter its SKU."
        )
    variant = matches[0]
    refusal = variant_refusal(variant, buyer)
    if refusal:
        raise NotEligible(refusal.about(variant))
    return variant
