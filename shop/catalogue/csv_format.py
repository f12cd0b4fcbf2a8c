"""The catalogue as a CSV file: one row per variant (a product without variants has one row with
the variant's columns empty), the product's own columns repeated on each of its rows. The
export writes it and the import reads the same columns, so exporting and importing again
changes nothing."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from shop.catalogue.models import Product, RegulatoryStatus, Variant
from shop.core.spreadsheet import amount
from shop.extensions import db

MARKETS = tuple(RegulatoryStatus.MARKET_NAMES)
PRODUCT_COLUMNS = (
    "product_slug",
    "product_name",
    "brand",
    "category",
    "status",
    "prescription_only",
    "summary",
    "description",
    "composition",
    "technique",
    "contraindications",
    "ingredients",
    "treatment_areas",
    *(f"{market}_{part}" for market in MARKETS for part in ("status", "note", "cleared")),
)
VARIANT_COLUMNS = (
    "sku",
    "gtin",
    "option",
    "pack_size",
    "lidocaine",
    "price",
    "volume_prices",
    "reorder_level",
    "variant_active",
    "stock",
)
COLUMNS = PRODUCT_COLUMNS + VARIANT_COLUMNS
REQUIRED = ("product_name", "brand", "category")
LIST_SEPARATOR = ";"


def yes_no(value: bool) -> str:
    return "yes" if value else "no"


def product_cells(product: Product) -> list:
    cells = [
        product.slug,
        product.name,
        product.brand.name,
        product.category.name,
        product.status.value,
        yes_no(product.prescription_only),
        product.summary,
        product.description,
        product.composition,
        product.technique,
        product.contraindications,
        LIST_SEPARATOR.join(sorted(i.name for i in product.ingredients)),
        LIST_SEPARATOR.join(sorted(a.name for a in product.treatment_areas)),
    ]
    for market in MARKETS:
        status = product.status_in(market)
        cells += [status.category.value, status.note, yes_no(status.sale_permitted)] if status else ["", "", ""]
    return cells


def export_rows(query=None) -> Iterator[list]:
    """Every product of `query` (all of them by default), a row per variant."""
    query = select(Product).order_by(Product.name, Product.id) if query is None else query
    query = query.options(
        selectinload(Product.brand),
        selectinload(Product.category),
        selectinload(Product.ingredients),
        selectinload(Product.treatment_areas),
        selectinload(Product.regulatory_statuses),
        selectinload(Product.variants).selectinload(Variant.price_breaks),
    )
    for product in db.session.scalars(query.execution_options(yield_per=500)):
        head = product_cells(product)
        if not product.variants:
            yield head + [""] * len(VARIANT_COLUMNS)
        for variant in product.variants:
            yield head + [
                variant.sku,
                variant.gtin or "",
                variant.label,
                variant.pack_size,
                yes_no(variant.contains_lidocaine),
                amount(variant.price_cents),
                LIST_SEPARATOR.join(f"{b.min_quantity}:{amount(b.unit_price_cents)}" for b in variant.price_breaks),
                variant.reorder_level,
                yes_no(variant.active),
                variant.stock_on_hand,
            ]
