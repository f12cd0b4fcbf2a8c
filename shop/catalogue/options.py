"""One catalogue option from what a person typed (an SKU, or words of its name), for the cart,
quick order, quotes and the desk's orders; and which options are no longer sold."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from shop.catalogue.compliance import variant_refusal
from shop.catalogue.models import Product, Variant
from shop.catalogue.search import MAX_QUERY_LENGTH, MAX_TERMS
from shop.core.limits import SKU_LENGTH
from shop.errors import NotEligible
from shop.extensions import db


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


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
    # One statement: the variant with its product, the product's statuses and the volume prices
    # joined (a few rows).
    return (
        db.session.scalars(
            select(Variant)
            .where(Variant.sku == sku)
            .options(
                joinedload(Variant.product).joinedload(Product.regulatory_statuses), joinedload(Variant.price_breaks)
            )
        )
        .unique()
        .one_or_none()
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
