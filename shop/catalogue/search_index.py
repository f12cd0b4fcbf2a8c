"""The catalogue's search index: one row of folded words per product (its name, codes, brand and
the rest of its text) that each database's own full-text engine indexes (SQLite FTS5; PostgreSQL
tsvectors in a narrow table a trigger writes from the rows, with GIN), and the vocabulary of product and brand names that typo suggestions are
drawn from (FTS5 trigrams, pg_trgm).

The rows are written in the transaction that changes the product, after each flush, whatever
changed it (the catalogue's services, the CSV import, the demo data): a product is never found
by words it no longer has, nor missed by words it has just been given."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import Connection, Index, Integer, String, Text, delete, event, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

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
from shop.core.db import ENGINE_OBJECTS
from shop.extensions import db

WORD = re.compile(r"[^\W_]+")
MIN_VOCABULARY_WORD = 3  # shorter words are never misspelt in a way worth suggesting
BATCH = 500
# What the search engines add in each database, outside the models (made by the migration).
FTS_TABLES = ("product_search_fts", "search_words_fts")  # SQLite
DOCUMENT_TABLES = ("product_search_documents",)  # PostgreSQL
ENGINE_OBJECTS.update(FTS_TABLES, DOCUMENT_TABLES, {"ix_search_words_trigram"})
# A variant's changes that change what finds its product, or how it sorts (not its stock).
VARIANT_WORDS = ("sku", "gtin", "label", "pack_size", "active", "product_id", "price_cents", "contains_lidocaine")
# Renaming these renames what finds their products: a brand or category (by the product's column),
# an ingredient or treatment area (by the link table's columns: product, tag).
NAMED = {Brand: Product.brand_id, Category: Product.category_id}
TAGS = {
    Ingredient: (product_ingredients.c.product_id, product_ingredients.c.ingredient_id),
    TreatmentArea: (product_treatment_areas.c.product_id, product_treatment_areas.c.area_id),
}
NAME_WORDS = ("name", "manufacturer")


class ProductSearch(db.Model):
    """A product on sale (active, with an option on sale; the others have no row), and what finds it, as folded words ("Juvéderm" is "juvederm"), by weight: its name and
    codes (SKUs, GTINs) first, then its brand, then the rest; and the lowest price and whether
    there is a lidocaine option among its options on sale."""

    __tablename__ = "product_search"
    __table_args__ = (Index("ix_product_search_category_id_min_price_cents", "category_id", "min_price_cents"),)

    product_id: Mapped[int] = mapped_column(db.ForeignKey("products.id", ondelete="CASCADE"), primary_key=True)
    # What the listing's filters and sorts ask of the options on sale, read from this row (first,
    # so that reading them never reads the text).
    min_price_cents: Mapped[int | None]
    lidocaine: Mapped[bool] = mapped_column(default=False)
    category_id: Mapped[int | None]  # the product's, so a category is read in price order
    name: Mapped[str] = mapped_column(Text)
    codes: Mapped[str] = mapped_column(Text)
    brand: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)


class SearchWord(db.Model):
    """A word of a product or brand name, folded (the key) and as written (what a "Did you
    mean" shows)."""

    __tablename__ = "search_words"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    word: Mapped[str] = mapped_column(String(80), unique=True)
    display: Mapped[str] = mapped_column(String(80))


def fold(text: str) -> str:
    """Lower case without accents: what people type for what is written."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def words(text: str) -> list[str]:
    """The folded words of `text`: letters and digits, split at anything else ("RSB-VIT-1" is
    "rsb", "vit", "1"), the way both databases' engines then read them."""
    return WORD.findall(fold(text))


def _text(*parts: str | None) -> str:
    return " ".join(word for part in parts for word in words(part or ""))


def reindex(connection: Connection, product_ids: Iterable[int]) -> None:
    """Write the search rows (and name words) of these products afresh."""
    ids = sorted(set(product_ids))
    for start in range(0, len(ids), BATCH):
        _reindex_batch(connection, ids[start : start + BATCH])


def _reindex_batch(connection: Connection, ids: list[int]) -> None:
    products = connection.execute(
        select(
            Product.id,
            Product.name,
            Product.summary,
            Product.description,
            Product.composition,
            Brand.name,
            Brand.manufacturer,
            Category.name,
            Product.category_id,
            Product.active,
        )
        .join(Brand, Product.brand_id == Brand.id)
        .join(Category, Product.category_id == Category.id)
        .where(Product.id.in_(ids))
    ).all()
    codes, options, tags, prices = defaultdict(list), defaultdict(list), defaultdict(list), defaultdict(list)
    lidocaine = set()
    for product_id, sku, gtin, label, pack, price, with_lidocaine in connection.execute(
        select(
            Variant.product_id,
            Variant.sku,
            Variant.gtin,
            Variant.label,
            Variant.pack_size,
            Variant.price_cents,
            Variant.contains_lidocaine,
        ).where(Variant.product_id.in_(ids), Variant.active.is_(True))
    ):
        codes[product_id] += [sku, gtin]
        options[product_id] += [label, pack]
        prices[product_id].append(price)
        if with_lidocaine:
            lidocaine.add(product_id)
    for tag, (product_column, tag_column) in TAGS.items():
        for product_id, name in connection.execute(
            select(product_column, tag.name).join(tag, tag_column == tag.id).where(product_column.in_(ids))
        ):
            tags[product_id].append(name)
    connection.execute(delete(ProductSearch).where(ProductSearch.product_id.in_(ids)))
    rows = [
        {
            "product_id": pid,
            "name": _text(name),
            "codes": _text(*codes[pid]),
            "brand": _text(brand, manufacturer),
            "body": _text(summary, description, composition, category, *options[pid], *tags[pid]),
            "min_price_cents": min(prices[pid], default=None),
            "lidocaine": pid in lidocaine,
            "category_id": category_id,
        }
        for pid, name, summary, description, composition, brand, manufacturer, category, category_id, active in products
        if active and prices[pid]  # on sale: every row is a product a search may show
    ]
    if rows:
        connection.execute(ProductSearch.__table__.insert(), rows)
    _remember_words(connection, [(row[1], row[5]) for row in products if row[-1]])


def _remember_words(connection: Connection, names: list[tuple[str, str]]) -> None:
    """Add the words of these product and brand names to the vocabulary."""
    found: dict[str, str] = {}
    for written in (text for pair in names for text in pair):
        for display in WORD.findall(written or ""):
            key = fold(display)
            if len(key) >= MIN_VOCABULARY_WORD and not key.isdigit() and len(key) <= 80:
                found.setdefault(key, display)
    if not found:
        return
    insert = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
    statement = insert(SearchWord).on_conflict_do_nothing(index_elements=["word"])
    connection.execute(statement, [{"word": w, "display": d} for w, d in sorted(found.items())])


def rebuild(connection: Connection) -> int:
    """Index every product afresh (after a bulk load that bypassed the ORM); returns how many."""
    ids = list(connection.scalars(select(Product.id)))
    reindex(connection, ids)
    return len(ids)


def _changed(state, names: Iterable[str]) -> bool:
    return any(state.attrs[name].history.has_changes() for name in names)


def _renamed(state) -> bool:
    return _changed(state, [name for name in NAME_WORDS if name in state.attrs])


def _touched_products(session: Session) -> set[int]:
    """The products whose words this flush changed."""
    ids: set[int] = set()
    by_column: dict = defaultdict(set)
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        state = db.inspect(obj)
        is_new_or_gone = obj in session.new or obj in session.deleted
        if isinstance(obj, Product) and (is_new_or_gone or session.is_modified(obj)):
            ids.add(obj.id)
        elif isinstance(obj, Variant) and (is_new_or_gone or _changed(state, VARIANT_WORDS)):
            ids.add(obj.product_id)
            ids.update(state.attrs.product_id.history.deleted or ())
        elif (type(obj) in NAMED or type(obj) in TAGS) and not is_new_or_gone and _renamed(state):
            by_column[type(obj)].add(obj.id)
    return ids | _products_named_by(session, by_column)


def _products_named_by(session: Session, by_column: dict) -> set[int]:
    """The products of renamed brands and categories, and those tagged with renamed tags."""
    ids: set[int] = set()
    connection = session.connection()
    for kind, kind_ids in by_column.items():
        if kind in NAMED:
            ids.update(connection.scalars(select(Product.id).where(NAMED[kind].in_(kind_ids))))
        else:
            product_column, tag_column = TAGS[kind]
            ids.update(connection.scalars(select(product_column).where(tag_column.in_(kind_ids))))
    return ids


@event.listens_for(Session, "after_flush")
def _keep_the_index(session: Session, _context) -> None:
    ids = {i for i in _touched_products(session) if i is not None}
    if ids:
        reindex(session.connection(), ids)
