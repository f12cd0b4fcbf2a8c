"""Finding products: text search, filters, sorting and paging for the catalogue listing."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from flask import current_app
from sqlalchemy import ColumnElement, Integer, Select, bindparam, exists, false, func, select

from shop.catalogue.card_rows import card_columns
from shop.catalogue.facets import chosen_id
from shop.catalogue.models import (
    Brand,
    Product,
    Variant,
    product_ingredients,
    product_treatment_areas,
)
from shop.catalogue.search_index import ProductSearch
from shop.catalogue.text_search import WORDS, matches, terms, words_value
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


def _tagged(product_column, tag_column, tag_id, key):
    """The product (`key`, its id) carries the tag (an ingredient, a treatment area) with this
    id: one probe of the link table's key per product."""
    return exists().where(product_column == key, tag_column == tag_id)


def _words_alone(f: CatalogueFilter) -> bool:
    return bool(f.terms) and f.sort == "relevance" and not f.has_filters


def _found(f: CatalogueFilter, *, counting: bool = False) -> tuple[Select, list[tuple[ColumnElement, bool]]]:
    """The ids of the active products with at least one option on sale that match every term and
    filter (joining only what the filters need), and their order as (expression, descending).
    Inactive variants count for nothing: not in search, filters or price. The words and the
    choices are parameters (`_values` gives them), so that one statement serves every filter of
    the same form (`_statements`). `counting`: the ids for a count, in no order, read from the
    search rows alone where no filter needs the products."""
    if _words_alone(f) and not counting:
        # Words alone: the engine's own ranking over its rows, each a product on sale, with no
        # other table read until the page's cards.
        matched = matches(None)
        return select(matched.c.product_id.label("id")), [(matched.c.rank, False), (matched.c.product_id, False)]
    # Products on sale are those with a search row (active, with an option on sale).
    if counting:
        key = ProductSearch.product_id
        query = select(key.label("id"))
        if f.brand:
            query = query.join(Product, Product.id == key)
    else:
        key = Product.id
        query = select(Product.id).join(ProductSearch, ProductSearch.product_id == Product.id)
    matched = None
    if f.terms:
        matched = matches(None, ranked=not counting)
        query = query.join(matched, matched.c.product_id == key)
    elif f.q.strip():
        query = query.where(false())  # only signs typed ("%", "_"): no product has those words
    # The panel's choices are known by slug, and kept with their ids (facets): the filters
    # compare ids, which the indexes hold.
    if f.category:
        # Sorted by price (or counted), the category's products are read from the search rows,
        # in price order.
        from_search_rows = counting or f.sort in ("price_asc", "price_desc")
        column = ProductSearch.category_id if from_search_rows else Product.category_id
        query = query.where(column == bindparam("category_id", type_=Integer))
    if f.brand:
        query = query.where(Product.brand_id == bindparam("brand_id", type_=Integer))
    if f.sort == "brand" and not counting:
        query = query.join(Brand, Product.brand_id == Brand.id)
    if f.ingredient:
        ingredient = bindparam("ingredient_id", type_=Integer)
        links = product_ingredients.c
        query = query.where(_tagged(links.product_id, links.ingredient_id, ingredient, key))
    if f.area:
        area = bindparam("area_id", type_=Integer)
        links = product_treatment_areas.c
        query = query.where(_tagged(links.product_id, links.area_id, area, key))
    if f.lidocaine:
        query = query.where(ProductSearch.lidocaine)
    if f.in_stock:
        query = query.where(
            exists().where(Variant.product_id == key, Variant.active.is_(True), Variant.stock_on_hand > 0)
        )
    if counting:
        return query, []
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


def _cards(found: Select, order: list[tuple[ColumnElement, bool]], *, paged: bool, total=False) -> Select:
    """The products `found` in `order` (a page of them if `paged`: parameters LIMIT and OFFSET),
    each with what its card shows (card_columns), joined onto the page's rows only (the options
    come with their prices: cards). With `total`, for an order that reads every match anyway (a
    ranking), only the first BOUND (a parameter past the page) are kept in order, and each row
    says how many of those there are: the count, which stops there ("200+"), costs nothing
    more, and the database sorts BOUND rows, not every match."""
    keys = [expression.label(f"key{n}") for n, (expression, _descending) in enumerate(order)]
    directions = [descending for _expression, descending in order]

    def ordered(columns):
        return [c.desc() if descending else c.asc() for c, descending in zip(columns, directions, strict=True)]

    inner = found.add_columns(*keys).order_by(*ordered(keys))
    if total:
        best = inner.limit(bindparam("bound", type_=Integer)).subquery("best")
        best_keys = [best.c[key.name] for key in keys]
        inner = select(best.c.id, *best_keys, func.count().over().label("total")).order_by(*ordered(best_keys))
    if paged:
        inner = inner.limit(bindparam("limit", type_=Integer)).offset(bindparam("offset", type_=Integer))
    page = inner.subquery("page")
    query = card_columns(page).add_columns(*([page.c.total] if total else []))
    return query.order_by(*ordered([page.c[key.name] for key in keys]))


def _shape(f: CatalogueFilter) -> CatalogueFilter:
    """What decides the form of a filter's statements, not their values: which filters are
    chosen, whether there are words (or only signs), the order."""
    q = "words" if f.terms else ("%" if f.q.strip() else "")
    chosen = {name: "?" if getattr(f, name) else "" for name in ("category", "brand", "ingredient", "area")}
    return CatalogueFilter(q=q, lidocaine=f.lidocaine, in_stock=f.in_stock, sort=f.sort, **chosen)


@dataclass(frozen=True)
class _Statements:
    cards: Select  # a page of cards (LIMIT, OFFSET)
    every_card: Select  # every card, in order
    count: Select  # how many were found, up to the parameter BOUND
    counted_in_page: bool  # `cards` says how many were found (its `total` column)


@lru_cache(maxsize=256)
def _statements(shape: CatalogueFilter, dialect: str) -> _Statements:
    """The statements of a filter's form, made once per form (and database): building a statement
    and its cache key costs more than running it, at a page of products."""
    found, order = _found(shape)
    words_alone = _words_alone(shape)
    counted = select(matches(None, ranked=False).c.product_id) if words_alone else _found(shape, counting=True)[0]
    bounded = counted.limit(bindparam("bound", type_=Integer)).subquery()
    return _Statements(
        cards=_cards(found, order, paged=True, total=words_alone),
        every_card=_cards(found, order, paged=False),
        count=select(func.count()).select_from(bounded),
        counted_in_page=words_alone,
    )


def _values(f: CatalogueFilter) -> dict:
    """The values of a filter's parameters: the words, the chosen ids (known by slug, kept with
    the panel's choices: facets), the shop's market."""
    values = {"market": current_app.config["SHOP_MARKET"]}
    if f.terms:
        values[WORDS] = words_value(f.terms)
    for name, kind in (
        ("category", "categories"),
        ("brand", "brands"),
        ("ingredient", "ingredients"),
        ("area", "areas"),
    ):
        if getattr(f, name):
            values[f"{name}_id"] = chosen_id(kind, getattr(f, name))
    return values


def _statements_for(f: CatalogueFilter) -> _Statements:
    return _statements(_shape(f), db.session.get_bind().dialect.name)


def product_query(f: CatalogueFilter) -> Select:
    """Every product the filter finds, in its order, as rows of card_columns."""
    return _statements_for(f).every_card.params(**_values(f))


class CatalogueResults(CappedPagination):
    """A page of products (rows of card_columns): their ids chosen and ordered first, then the
    page's cards read, in one statement; counted on the ids alone, or (`counted_in_page`, for a search by words, which
    ranks every match anyway) by the same statement; either count stops a few pages ahead."""

    found_total: int | None = None

    def _query_items(self) -> list:
        statements, values = self._query_args["statements"], self._query_args["values"]
        params = {**values, "limit": self.per_page, "offset": self._query_offset}
        if not statements.counted_in_page:
            return db.session.execute(statements.cards, params).all()
        rows = db.session.execute(statements.cards, {**params, "bound": self._count_bound() + 1}).all()
        self.found_total = rows[0].total if rows else None
        return rows

    def _query_count(self) -> int:
        if self.found_total is not None:
            return self._capped_at_bound(self.found_total)
        return super()._query_count()

    def _count_up_to(self, bound: int) -> int:
        statements, values = self._query_args["statements"], self._query_args["values"]
        return db.session.execute(statements.count, {**values, "bound": bound}).scalar_one()


def search_products(f: CatalogueFilter, page: int, per_page: int) -> CatalogueResults:
    """One page of what the filter finds, with a count that stops a few pages ahead."""
    statements = _statements_for(f)
    return CatalogueResults(
        statements=statements,
        values=_values(f),
        page=page,
        per_page=per_page,
        max_per_page=per_page,
        error_out=False,
    )
