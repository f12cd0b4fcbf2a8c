"""The catalogue desk's writes to variants: codes, pack, prices and volume prices, reorder level.

SKUs are kept in capitals and GTINs as 14 digits, so that neither can be entered twice in
another spelling; the database's unique constraints settle a race between two clerks. Each verb
is one unit of work with its audit entry.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import func, select
from stdnum import ean
from stdnum.exceptions import ValidationError

from shop.accounts.models import User
from shop.catalogue.editing import ChangedMeanwhile, require_desk
from shop.catalogue.models import PriceBreak, Product, Variant
from shop.core import audit
from shop.core.db import hold, unit_of_work
from shop.errors import CatalogueRefusal
from shop.extensions import db


@dataclass(frozen=True)
class VariantDetails:
    sku: str
    label: str
    pack_size: str
    price_cents: int
    gtin: str = ""
    contains_lidocaine: bool = False
    reorder_level: int = 10
    active: bool = True
    breaks: Sequence[tuple[int, int]] = field(default_factory=tuple)  # (from quantity, unit price)


def add_variant(staff: User, product: Product, details: VariantDetails) -> Variant:
    """A new variant of `product`, with no stock until goods are received."""
    require_desk(staff)
    sku, gtin = _checked_codes(details, None)
    with unit_of_work(conflict=_taken(sku)):
        variant = create_in_transaction(staff, product, replace(details, sku=sku, gtin=gtin or ""))
    return variant


def version_of(variant: Variant) -> str:
    return audit.version(_variant_snapshot(variant))


def update_variant(staff: User, variant: Variant, details: VariantDetails, seen: str = "") -> Variant:
    """Change a variant. A new price applies to carts at once (their lines are flagged, as the
    cart does for any change); quotes and orders keep the prices they were made with. `seen`:
    as for a product (editing.update_product)."""
    require_desk(staff)
    sku, gtin = _checked_codes(details, variant)
    with unit_of_work(conflict=_taken(sku)):
        hold(Variant.reorder_level, variant.id)
        db.session.refresh(variant)
        if seen and seen != version_of(variant):
            raise ChangedMeanwhile("variant")
        update_in_transaction(staff, variant, replace(details, sku=sku, gtin=gtin or ""))
    return variant


def create_in_transaction(
    staff: User, product: Product, details: VariantDetails, *, stock_on_hand: int = 0, note: str = ""
) -> Variant:
    """The variant as `details` (already checked) say, in the caller's transaction, audited."""
    position = max((v.position for v in product.variants), default=-1) + 1
    variant = Variant(product=product, sku=details.sku, stock_on_hand=stock_on_hand, position=position)
    db.session.add(variant)
    _apply_variant(variant, details)
    db.session.flush()
    audit.record(staff, "variant.created", variant, audit.changed({}, _variant_snapshot(variant)), note=note)
    return variant


def update_in_transaction(staff: User, variant: Variant, details: VariantDetails, *, note: str = "") -> None:
    before = _variant_snapshot(variant)
    _apply_variant(variant, details)
    changes = audit.changed(before, _variant_snapshot(variant))
    if changes:
        audit.record(staff, "variant.updated", variant, changes, note=note)


def _taken(sku: str) -> CatalogueRefusal:
    return CatalogueRefusal(f"SKU {sku} or this GTIN was just given to another variant.", field="sku")


def _checked_codes(details: VariantDetails, variant: Variant | None) -> tuple[str, str | None]:
    sku = normal_sku(details.sku)
    if not sku:
        raise CatalogueRefusal("Enter the SKU.", field="sku")
    if not re.fullmatch(r"[A-Z0-9][A-Z0-9._/-]*", sku):
        raise CatalogueRefusal("Use letters, digits and - . / _ only.", field="sku")
    other = db.session.scalar(select(Variant).where(func.upper(Variant.sku) == sku))
    if other is not None and other is not variant:
        raise CatalogueRefusal(f"SKU {sku} is taken by {other.product.name}.", field="sku")
    gtin = normal_gtin(details.gtin) if details.gtin.strip() else None
    if gtin is not None:
        other = db.session.scalar(select(Variant).where(Variant.gtin == gtin))
        if other is not None and other is not variant:
            raise CatalogueRefusal(f"This GTIN is taken by {other.sku} ({other.product.name}).", field="gtin")
    check_breaks(details.price_cents, details.breaks)
    return sku, gtin


def normal_sku(text: str) -> str:
    return text.strip().upper()


def normal_gtin(text: str) -> str:
    """A GTIN-8, -12, -13 or -14 as the 14 digits it stands for; refused when its length or
    check digit is wrong. Leading zeros a spreadsheet dropped do not matter: they do not count
    in the check digit."""
    compact = ean.compact(text)
    try:
        digits = ean.validate(compact.zfill(14) if compact.isdigit() and 8 <= len(compact) < 14 else compact)
    except ValidationError:
        raise CatalogueRefusal(
            "Not a valid GTIN: enter the 8, 12, 13 or 14 digits under the barcode; the last is a check digit.",
            field="gtin",
        ) from None
    return digits.zfill(14)


def check_breaks(price_cents: int, breaks: Sequence[tuple[int, int]]) -> None:
    """Volume prices: from 2 packs on, quantities rising, each price lower than the one before
    (the first lower than the pack price)."""
    previous_quantity, previous_price = 1, price_cents
    for quantity, price in breaks:
        if quantity <= previous_quantity:
            raise CatalogueRefusal(
                "List volume prices by rising quantity, from 2 packs on, each quantity once.", field="breaks"
            )
        if price >= previous_price:
            raise CatalogueRefusal(
                "Each volume price must be lower than the price before it (the first, lower than the pack price).",
                field="breaks",
            )
        previous_quantity, previous_price = quantity, price


def _apply_variant(variant: Variant, details: VariantDetails) -> None:
    if not details.label.strip():
        raise CatalogueRefusal("Name the option (for example “1 x 1 mL”).", field="label")
    variant.sku, variant.gtin = details.sku, details.gtin or None
    variant.label, variant.pack_size = details.label.strip(), details.pack_size.strip()
    variant.price_cents, variant.contains_lidocaine = details.price_cents, details.contains_lidocaine
    variant.reorder_level, variant.active = details.reorder_level, details.active
    current = {(b.min_quantity, b.unit_price_cents) for b in variant.price_breaks}
    if current != set(details.breaks):
        variant.price_breaks.clear()
        db.session.flush()  # the old breaks go before new ones take their quantities
        variant.price_breaks.extend(PriceBreak(min_quantity=q, unit_price_cents=p) for q, p in details.breaks)


def _variant_snapshot(variant: Variant) -> dict:
    return {
        "sku": variant.sku,
        "gtin": variant.gtin,
        "label": variant.label,
        "pack_size": variant.pack_size,
        "price_cents": variant.price_cents,
        "volume_prices": ", ".join(f"{q}+ at {p}" for q, p in sorted(_breaks_of(variant))),
        "contains_lidocaine": variant.contains_lidocaine,
        "reorder_level": variant.reorder_level,
        "active": variant.active,
    }


def _breaks_of(variant: Variant) -> list[tuple[int, int]]:
    return [(b.min_quantity, b.unit_price_cents) for b in variant.price_breaks]
