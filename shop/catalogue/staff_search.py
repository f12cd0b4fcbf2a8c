"""The catalogue desk's product list: every product whatever its status, found by name, brand,
SKU or GTIN, filtered by category, brand, status, clearance in the shop's market,
prescription-only and low stock."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict

from shop.catalogue.models import Brand, Product, ProductStatus, RegulatoryStatus, Variant
from shop.core.db import contains, contains_as_written
from shop.forms import clean_text

YES_NO = ("yes", "no")


@dataclass(frozen=True)
class StaffFilter:
    q: str = ""
    category: int | None = None
    brand: int | None = None
    status: str = ""
    cleared: str = ""  # "yes" / "no": cleared for sale in the shop's market
    prescription: str = ""  # "yes" / "no"
    low_stock: bool = False

    @property
    def any(self) -> bool:
        return bool(
            self.q or self.category or self.brand or self.status or self.cleared or self.prescription or self.low_stock
        )

    def query_args(self) -> dict:
        args = {
            "q": self.q,
            "category": self.category,
            "brand": self.brand,
            "status": self.status,
            "cleared": self.cleared,
            "prescription": self.prescription,
            "low_stock": "1" if self.low_stock else "",
        }
        return {key: value for key, value in args.items() if value}


def _number(args: MultiDict, name: str) -> int | None:
    value = args.get(name, "")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


def filter_from_args(args: MultiDict) -> StaffFilter:
    """Whatever the query string says becomes a valid filter; nonsense is ignored."""
    status = args.get("status", "")
    return StaffFilter(
        q=clean_text(args.get("q", ""))[:100],
        category=_number(args, "category"),
        brand=_number(args, "brand"),
        status=status if status in {s.value for s in ProductStatus} else "",
        cleared=args.get("cleared", "") if args.get("cleared") in YES_NO else "",
        prescription=args.get("prescription", "") if args.get("prescription") in YES_NO else "",
        low_stock=args.get("low_stock") in ("1", "on", "yes"),
    )


def low_stock_condition():
    """A variant on sale whose stock is at or under its reorder level."""
    return (
        Variant.active.is_(True),
        Variant.stock_on_hand <= Variant.reorder_level,
    )


def staff_products(f: StaffFilter, market: str) -> Select:
    query = (
        select(Product)
        .join(Brand, Product.brand_id == Brand.id)
        .options(
            selectinload(Product.brand),
            selectinload(Product.category),
            selectinload(Product.variants),
            selectinload(Product.regulatory_statuses),
        )
    )
    for term in f.q.split()[:8]:
        codes = [contains_as_written(Variant.sku, term.upper())]  # SKUs are kept in capitals
        if term.isascii() and term.isdigit():
            codes.append(Variant.gtin.like(f"%{term}%"))
        query = query.where(
            or_(
                contains(Product.name, term),
                contains(Brand.name, term),
                # One pass over the variants, not one probe per product.
                Product.id.in_(select(Variant.product_id).where(or_(*codes))),
            )
        )
    if f.category:
        query = query.where(Product.category_id == f.category)
    if f.brand:
        query = query.where(Product.brand_id == f.brand)
    if f.status:
        query = query.where(Product.status == ProductStatus(f.status))
    if f.cleared:
        cleared = exists().where(
            RegulatoryStatus.product_id == Product.id,
            RegulatoryStatus.market == market,
            RegulatoryStatus.sale_permitted.is_(True),
        )
        query = query.where(cleared if f.cleared == "yes" else ~cleared)
    if f.prescription:
        query = query.where(Product.prescription_only.is_(f.prescription == "yes"))
    if f.low_stock:
        query = query.where(
            Product.status == ProductStatus.ACTIVE,
            exists().where(Variant.product_id == Product.id, *low_stock_condition()),
        )
    return query.order_by(Product.name, Product.id)


def low_stock_variants() -> Select:
    """Variants of products on sale that need reordering, the emptiest first."""
    return (
        select(Variant)
        .join(Product, Variant.product_id == Product.id)
        .where(Product.status == ProductStatus.ACTIVE, *low_stock_condition())
        .options(selectinload(Variant.product))
        .order_by(Variant.stock_on_hand, Variant.sku)
    )
