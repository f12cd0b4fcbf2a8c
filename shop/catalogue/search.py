"""Finding products: text search, filters, sorting and paging for the catalogue listing."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import ColumnElement, Select, and_, exists, false, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from shop.catalogue.facets import chosen_id
from shop.catalogue.images import ProductImage
from shop.catalogue.models import (
    Brand,
    Category,
    Product,
    RegulatoryStatus,
    Variant,
    product_ingredients,
    product_treatment_areas,
)
from shop.catalogue.search_index import ProductSearch
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
    def has_filters(self) -> bool:
        """Whether anything but words narrows the search."""
        return bool(self.category or self.brand or self.ingredient or self.area or self.lidocaine or self.in_stock)

    @property
    def is_filtered(self) -> bool:
        return bool(self.q.strip()) or self.has_filters


def _tagged(product_column, tag_column, tag_id: int | None):
    """The product carries the tag (an ingredient, a treatment area) with this id: one probe of
    the link table's key per product."""
    return exists().where(product_column == Product.id, tag_column == tag_id)


def _words_alone(f: CatalogueFilter) -> bool:
    return bool(f.terms) and f.sort == "relevance" and not f.has_filters


def _found(f: CatalogueFilter) -> tuple[Select, list[tuple[ColumnElement, bool]]]:
    """The ids of the active products with at least one option on sale that match every term and
    filter (joining only what the filters need), and their order as (expression, descending).
    Inactive variants count for nothing: not in search, filters or price."""
    if _words_alone(f):
        # Words alone: the engine's own ranking over its rows, each a product on sale, with no
        # other table read until the page's cards.
        matched = matches(f.terms)
        return select(matched.c.product_id.label("id")), [(matched.c.rank, False), (matched.c.product_id, False)]
    # Products on sale are those with a search row (active, with an option on sale).
    query = select(Product.id).join(ProductSearch, ProductSearch.product_id == Product.id)
    matched = None
    if f.terms:
        matched = matches(f.terms)
        query = query.join(matched, matched.c.product_id == Product.id)
    elif f.q.strip():
        query = query.where(false())  # only signs typed ("%", "_"): no product has those words
    # The panel's choices are known by slug, and kept with their ids (facets): the filters
    # compare ids, which the indexes hold.
    if f.category:
        # Sorted by price, the category's products are read in that order from the search rows.
        by_price = f.sort in ("price_asc", "price_desc")
        column = ProductSearch.category_id if by_price else Product.category_id
        query = query.where(column == chosen_id("categories", f.category))
    if f.brand:
        query = query.where(Product.brand_id == chosen_id("brands", f.brand))
    if f.sort == "brand":
        query = query.join(Brand, Product.brand_id == Brand.id)
    if f.ingredient:
        ingredient = chosen_id("ingredients", f.ingredient)
        query = query.where(_tagged(product_ingredients.c.product_id, product_ingredients.c.ingredient_id, ingredient))
    if f.area:
        area = chosen_id("areas", f.area)
        query = query.where(_tagged(product_treatment_areas.c.product_id, product_treatment_areas.c.area_id, area))
    if f.lidocaine:
        query = query.where(ProductSearch.lidocaine)
    if f.in_stock:
        query = query.where(
            exists().where(Variant.product_id == Product.id, Variant.active.is_(True), Variant.stock_on_hand > 0)
        )
    min_price = ProductSearch.min_price_cents
    name = (Product.name, False)
    order = {
        "relevance": [(matched.c.rank, False), name] if matched is not None else [name],
        "price_asc": [(min_price, False), name],
        "price_desc": [(min_price, True), name],
        "brand": [(Brand.name, False), name],
        "newest": [(Product.created_at, True), name],
    }.get(f.sort, [name])
    return query, [*order, (Product.id, False)]


def _cards(
    found: Select, order: list[tuple[ColumnElement, bool]], limit: int | None, offset: int = 0, *, total=False
) -> Select:
    """The products `found` in `order` (a page of them with `limit`), each with what its card
    shows: brand, category, status in the shop's market and main image, each at most one row,
    joined onto the page's rows only (the options come with their prices: priced_options).
    With `total`, each row also says how many were found (for an order that reads them all
    anyway, the count costs nothing more)."""
    keys = [expression.label(f"key{n}") for n, (expression, _descending) in enumerate(order)]
    directions = [descending for _expression, descending in order]
    counted = [func.count().over().label("total")] if total else []
    inner = found.add_columns(*keys, *counted).order_by(
        *(key.desc() if descending else key.asc() for key, descending in zip(keys, directions, strict=True))
    )
    if limit is not None:
        inner = inner.limit(limit).offset(offset)
    page = inner.subquery("page")
    main_image = (
        select(ProductImage.id)
        .where(ProductImage.product_id == Product.id)
        .order_by(ProductImage.position, ProductImage.id)
        .limit(1)
        .correlate(Product)
        .scalar_subquery()
    )
    market = current_app.config["SHOP_MARKET"]
    return (
        select(Product, *([page.c.total] if total else []))
        .join(page, page.c.id == Product.id)
        .join(Brand, Product.brand_id == Brand.id)
        .join(Category, Product.category_id == Category.id)
        .outerjoin(RegulatoryStatus, and_(RegulatoryStatus.product_id == Product.id, RegulatoryStatus.market == market))
        .outerjoin(ProductImage, ProductImage.id == main_image)
        .options(
            contains_eager(Product.brand),
            contains_eager(Product.category),
            contains_eager(Product.regulatory_statuses),  # the shop's market's only
            contains_eager(Product.images),  # the main image only
        )
        .order_by(
            *(page.c[key.name].desc() if d else page.c[key.name].asc() for key, d in zip(keys, directions, strict=True))
        )
    )


def product_query(f: CatalogueFilter) -> Select:
    """Every product the filter finds, in its order, ready for their cards."""
    found, order = _found(f)
    return _cards(found, order, None)


class CatalogueResults(CappedPagination):
    """A page of products: their ids chosen and ordered first, then the page's cards loaded, in
    one statement; counted on the ids alone, or (`counted_in_page`, for a search by words, which
    ranks every match anyway) by the same statement."""

    found_total: int | None = None

    def _query_items(self) -> list:
        args = self._query_args
        in_page = args.get("counted_in_page", False)
        cards = _cards(args["select"], args["order"], self.per_page, self._query_offset, total=in_page)
        if not in_page:
            return list(args["session"].scalars(cards).unique())
        rows = args["session"].execute(cards).unique().all()
        self.found_total = rows[0][1] if rows else None
        return [row[0] for row in rows]

    def _query_count(self) -> int:
        if self.found_total is not None:
            return self.found_total
        return super()._query_count()


def search_products(f: CatalogueFilter, page: int, per_page: int) -> CatalogueResults:
    """One page of what the filter finds, with a count that stops a few pages ahead."""
    found, order = _found(f)
    words_alone = _words_alone(f)
    return CatalogueResults(
        select=found,
        count_select=select(matches(f.terms, ranked=False).c.product_id) if words_alone else found,
        counted_in_page=words_alone,
        order=order,
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
