"""The catalogue desk's writes: products, their market clearances and their variants.

Each verb is one unit of work that writes its own audit entry (before -> after). A refusal is a
`CatalogueRefusal` naming the form field it is about, so the page shows it next to that field.
Variants are edited in `variant_editing`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from shop import clock
from shop.accounts.models import User
from shop.catalogue.models import (
    Brand,
    Category,
    Ingredient,
    Product,
    ProductStatus,
    RegulatoryCategory,
    RegulatoryStatus,
    TreatmentArea,
)
from shop.core import audit
from shop.core.db import hold, unit_of_work
from shop.errors import CatalogueRefusal, NotEligible
from shop.extensions import db

CLEARED_CATEGORIES = frozenset({RegulatoryCategory.FDA_APPROVED, RegulatoryCategory.CE_MARKED})
MARKETS = tuple(RegulatoryStatus.MARKET_NAMES)

# Which status may follow which: a draft goes on sale or is dropped; a retired product may be
# sold again; nothing that has been on sale goes back to being a draft.
NEXT_STATUSES = {
    ProductStatus.DRAFT: (ProductStatus.ACTIVE, ProductStatus.RETIRED),
    ProductStatus.ACTIVE: (ProductStatus.RETIRED,),
    ProductStatus.RETIRED: (ProductStatus.ACTIVE,),
}


@dataclass(frozen=True)
class Clearance:
    """What a product is in one market, and whether the shop may sell it there."""

    market: str
    category: RegulatoryCategory | None  # None: nothing is recorded for that market
    note: str = ""
    sale_permitted: bool = False


@dataclass(frozen=True)
class ProductDetails:
    name: str
    brand_id: int
    category_id: int
    summary: str = ""
    description: str = ""
    composition: str = ""
    technique: str = ""
    contraindications: str = ""
    prescription_only: bool = False
    ingredient_ids: Sequence[int] = ()
    area_ids: Sequence[int] = ()
    clearances: Sequence[Clearance] = ()


def require_desk(staff: User) -> None:
    if not staff.is_staff:
        raise NotEligible("Only the catalogue desk can change the catalogue.")


# --- products ---------------------------------------------------------------------------------


def create_product(staff: User, details: ProductDetails) -> Product:
    """A new product, as a draft: nobody sees it in the catalogue until it is made active."""
    require_desk(staff)
    with (
        unit_of_work(conflict=CatalogueRefusal("Another product was just saved with this name.", field="name")),
        db.session.no_autoflush,
    ):
        product = Product(slug=_free_slug(details.name), status=ProductStatus.DRAFT, created_at=clock.now())
        db.session.add(product)
        apply_details(product, details)
        db.session.flush()
        audit.record(staff, "product.created", product, audit.changed({}, snapshot(product)))
    return product


def version_of(product: Product) -> str:
    return audit.version({**snapshot(product), "status": product.status})


def update_product(staff: User, product: Product, details: ProductDetails, seen: str = "") -> Product:
    """Save the desk's edit. `seen` is the version the form was drawn from: if someone saved the
    product since, nothing is saved and CatalogueRefusal says so (a second save overwrites)."""
    require_desk(staff)
    with unit_of_work():
        hold(Product.prescription_only, product.id)
        db.session.refresh(product)
        if seen and seen != version_of(product):
            raise ChangedMeanwhile("product")
        before = snapshot(product)
        apply_details(product, details)
        changes = audit.changed(before, snapshot(product))
        if changes:
            audit.record(staff, "product.updated", product, changes)
    return product


class ChangedMeanwhile(CatalogueRefusal):
    """Someone saved the record after the form was opened."""

    def __init__(self, what: str):
        super().__init__(
            f"Someone saved this {what} while you were editing it, so your changes are not saved yet. "
            "Check the values below and save again to replace theirs with yours."
        )


def set_status(staff: User, product: Product, status: ProductStatus) -> Product:
    """Put a product on sale, retire it, or sell a retired one again."""
    require_desk(staff)
    if status not in NEXT_STATUSES[product.status]:
        raise CatalogueRefusal(f"A {product.status.label.lower()} product cannot become {status.label.lower()}.")
    if status == ProductStatus.ACTIVE and not any(v.active for v in product.variants):
        raise CatalogueRefusal("Add an active variant before putting the product on sale.")
    before = product.status
    with unit_of_work():
        product.status = status
        audit.record(staff, "product.status_changed", product, {"status": (before, status)})
    return product


def apply_details(product: Product, details: ProductDetails) -> None:
    """Write `details` on the product (in the caller's transaction); CatalogueRefusal when a
    brand or category is missing."""
    name = details.name.strip()
    if not name:
        raise CatalogueRefusal("Enter the product's name.", field="name")
    session = db.session
    brand, category = session.get(Brand, details.brand_id), session.get(Category, details.category_id)
    if brand is None:
        raise CatalogueRefusal("Choose a brand.", field="brand_id")
    if category is None:
        raise CatalogueRefusal("Choose a category.", field="category_id")
    product.name, product.brand, product.category = name, brand, category
    product.summary, product.description = details.summary, details.description
    product.composition, product.technique = details.composition, details.technique
    product.contraindications, product.prescription_only = details.contraindications, details.prescription_only
    product.ingredients = _rows(Ingredient, details.ingredient_ids)
    product.treatment_areas = _rows(TreatmentArea, details.area_ids)
    _apply_clearances(product, details.clearances)


def _rows(model, ids: Sequence[int]) -> list:
    wanted = set(ids)
    return list(db.session.scalars(select(model).where(model.id.in_(wanted)))) if wanted else []


def _apply_clearances(product: Product, clearances: Sequence[Clearance]) -> None:
    for clearance in clearances:
        if clearance.market not in MARKETS:
            continue
        status = product.status_in(clearance.market)
        if clearance.category is None:
            if clearance.sale_permitted:
                raise CatalogueRefusal(
                    "A product can be cleared for sale only where its status is recorded.",
                    field=f"{clearance.market.lower()}_category",
                )
            if status is not None:
                product.regulatory_statuses.remove(status)
                db.session.delete(status)
            continue
        if clearance.sale_permitted and clearance.category not in CLEARED_CATEGORIES:
            raise CatalogueRefusal(
                f"Only an FDA-approved or CE-marked product can be cleared for sale "
                f"({clearance.category.label.lower()} in {RegulatoryStatus.MARKET_NAMES[clearance.market]}).",
                field=f"{clearance.market.lower()}_sale_permitted",
            )
        if status is None:
            status = RegulatoryStatus(market=clearance.market)
            product.regulatory_statuses.append(status)
        status.category, status.note, status.sale_permitted = (
            clearance.category,
            clearance.note,
            clearance.sale_permitted,
        )


def snapshot(product: Product) -> dict:
    """What the audit log compares: every field a clerk edits, as plain values."""
    snapshot = {
        "name": product.name,
        "brand": product.brand.name if product.brand else None,
        "category": product.category.name if product.category else None,
        "summary": product.summary,
        "description": product.description,
        "composition": product.composition,
        "technique": product.technique,
        "contraindications": product.contraindications,
        "prescription_only": product.prescription_only,
        "ingredients": ", ".join(sorted(i.name for i in product.ingredients)),
        "treatment_areas": ", ".join(sorted(a.name for a in product.treatment_areas)),
    }
    for market in MARKETS:
        status = product.status_in(market)
        snapshot[f"{market} status"] = (
            f"{status.category.label}{', cleared for sale' if status.sale_permitted else ''}"
            + (f": {status.note}" if status.note else "")
            if status
            else None
        )
    return snapshot


def _free_slug(name: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", _ascii(name).lower())[:100].strip("-") or "product"
    taken = set(db.session.scalars(select(Product.slug).where(Product.slug.like(f"{base}%"))))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
