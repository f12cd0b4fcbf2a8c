"""Finding products: text search, filters, sorting and paging for the catalogue listing."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import Select, and_, exists, false, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from shop.catalogue.images import ProductImage
from shop.catalogue.models import (
    Brand,
    Category,
    Ingredient,
    Product,
    RegulatoryStatus,
    TreatmentArea,
    Variant,
    product_ingredients,
    product_treatment_areas,
)
from shop.catalogue.text_search import matches, terms
from shop.core.limits import SKU_LENGTH
from shop.core.paging import CappedPagination
from shop.extensions import db

SORTS = {
    "relevance": "Best match",
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
        """The words searched for, folded as the index holds them ("Juvéderm" is "juvederm")."""
        return terms(self.q[:MAX_QUERY_LENGTH], MAX_TERMS)

    @property
    def is_filtered(self) -> bool:
        return bool(
            self.q.strip()
            or self.category
            or self.brand
            or self.ingredient
            or self.area
            or self.lidocaine
            or self.in_stock
        )


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
    # A card needs the product's brand, category, status in the shop's market and main image:
    # each at most one row, joined (so the page is one statement), then its options.
    main_image = (
        select(ProductImage.id)
        .where(ProductImage.product_id == Product.id)
        .order_by(ProductImage.position, ProductImage.id)
        .limit(1)
        .correlate(Product)
        .scalar_subquery()
    )
    query = (
        select(Product)
        .join(Brand, Product.brand_id == Brand.id)
        .join(Category, Product.category_id == Category.id)
        .outerjoin(
            RegulatoryStatus,
            and_(
                RegulatoryStatus.product_id == Product.id, RegulatoryStatus.market == current_app.config["SHOP_MARKET"]
            ),
        )
        .outerjoin(ProductImage, ProductImage.id == main_image)
        .where(
            Product.active,
            exists().where(Variant.product_id == Product.id, Variant.active.is_(True)),
        )
        .options(
            contains_eager(Product.brand),
            contains_eager(Product.category),
            contains_eager(Product.regulatory_statuses),  # the shop's market's only
            contains_eager(Product.images),  # the main image only
            selectinload(Product.variants),
        )
    )
    matched = None
    if f.terms:
        matched = matches(f.terms)
        query = query.join(matched, matched.c.product_id == Product.id)
    elif f.q.strip():
        query = query.where(false())  # only signs typed ("%", "_"): no product has those words
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
        "relevance": (matched.c.rank, Product.name) if matched is not None else (Product.name,),
        "price_asc": (min_price.asc(), Product.name),
        "price_desc": (min_price.desc(), Product.name),
        "brand": (Brand.name, Product.name),
        "newest": (Product.created_at.desc(), Product.name),
    }.get(f.sort, (Product.name,))
    return query.order_by(*order, Product.id)


def search_products(f: CatalogueFilter, page: int, per_page: int) -> CappedPagination:
    """One page of what the filter finds, with a count that stops a few pages ahead."""
    return CappedPagination(
        select=product_query(f),
        session=db.session,
        page=page,
        per_page=per_page,
        max_per_page=per_page,
        error_out=False,
    )


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
    """The product on sale at `slug`, with all a product page shows, in three statements: the
    product with its brand, category, statuses, ingredients and areas (a few rows each); its
    options with their volume prices; its images."""
    return (
        db.session.scalars(
            select(Product)
            .where(Product.slug == slug, Product.active)
            .options(
                joinedload(Product.brand),
                joinedload(Product.category),
                joinedload(Product.regulatory_statuses),
                joinedload(Product.ingredients),
                joinedload(Product.treatment_areas),
                selectinload(Product.variants).joinedload(Variant.price_breaks),
                selectinload(Product.images),
            )
        )
        .unique()
        .one_or_none()
    )
