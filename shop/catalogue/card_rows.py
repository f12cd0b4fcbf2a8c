"""What a catalogue card reads of a product, as plain columns (shop.catalogue.cards makes the
cards of them)."""

from __future__ import annotations

from sqlalchemy import Select, and_, bindparam, select
from sqlalchemy.sql import Subquery

from shop.catalogue.images import ProductImage
from shop.catalogue.models import Brand, Category, Product, RegulatoryStatus


def card_columns(page: Subquery) -> Select:
    """The card of each product in `page` (a subquery of product ids, column ID), one row each:
    the product, its brand and category, whether it is cleared in the shop's market (parameter
    MARKET) and its main image."""
    main_image = (
        select(ProductImage.id)
        .where(ProductImage.product_id == Product.id)
        .order_by(ProductImage.position, ProductImage.id)
        .limit(1)
        .correlate(Product)
        .scalar_subquery()
    )
    market = bindparam("market")
    return (
        select(
            Product.id,
            Product.slug,
            Product.name,
            Product.summary,
            Product.status,
            Product.prescription_only,
            Brand.name.label("brand"),
            Category.name.label("category"),
            RegulatoryStatus.sale_permitted,
            ProductImage.id.label("image_id"),
            ProductImage.digest,
            ProductImage.card_width,
            ProductImage.card_height,
        )
        .join(page, page.c.id == Product.id)
        .join(Brand, Product.brand_id == Brand.id)
        .join(Category, Product.category_id == Category.id)
        .outerjoin(RegulatoryStatus, and_(RegulatoryStatus.product_id == Product.id, RegulatoryStatus.market == market))
        .outerjoin(ProductImage, ProductImage.id == main_image)
    )
