"""The catalogue: categories, brands, products with their ingredients and treatment areas,
the variants that are actually sold (SKU, pack, price in cents, stock), and each product's
regulatory status per market."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.core.db import UTCDateTime, enum_column
from shop.core.enums import LabelledEnum
from shop.core.limits import SKU_LENGTH
from shop.core.pricing import unit_price
from shop.extensions import db

if TYPE_CHECKING:  # mapped in shop.catalogue.images, which owns product photos
    from shop.catalogue.images import ProductImage

product_ingredients = Table(
    "product_ingredients",
    db.metadata,
    Column("product_id", Integer, ForeignKey("products.id", ondelete="CASCADE"), primary_key=True),
    Column("ingredient_id", Integer, ForeignKey("ingredients.id", ondelete="CASCADE"), primary_key=True),
)

product_treatment_areas = Table(
    "product_treatment_areas",
    db.metadata,
    Column("product_id", Integer, ForeignKey("products.id", ondelete="CASCADE"), primary_key=True),
    Column("area_id", Integer, ForeignKey("treatment_areas.id", ondelete="CASCADE"), primary_key=True),
)


class Category(db.Model):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)


class Brand(db.Model):
    __tablename__ = "brands"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    manufacturer: Mapped[str] = mapped_column(String(120), default="")


class Ingredient(db.Model):
    __tablename__ = "ingredients"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(80))


class TreatmentArea(db.Model):
    __tablename__ = "treatment_areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(default=0)


class ProductStatus(LabelledEnum):
    """A product is prepared as a draft, sold while active, and retired when it is no longer
    sold: a retired product leaves the catalogue but stays on the orders and quotes that name it."""

    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"


class Product(db.Model):
    __tablename__ = "products"
    # A category's products in name order, as its listing shows them.
    __table_args__ = (Index("ix_products_category_id_name", "category_id", "name"),)
    audit_type = "product"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(160), index=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    summary: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    composition: Mapped[str] = mapped_column(Text, default="")
    technique: Mapped[str] = mapped_column(Text, default="")
    contraindications: Mapped[str] = mapped_column(Text, default="")
    prescription_only: Mapped[bool] = mapped_column(default=False, index=True)
    status: Mapped[ProductStatus] = mapped_column(
        enum_column(ProductStatus, "product_status"), default=ProductStatus.ACTIVE, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    brand: Mapped[Brand] = relationship()
    category: Mapped[Category] = relationship()
    ingredients: Mapped[list[Ingredient]] = relationship(secondary=product_ingredients, order_by="Ingredient.name")
    treatment_areas: Mapped[list[TreatmentArea]] = relationship(
        secondary=product_treatment_areas, order_by="TreatmentArea.position"
    )
    variants: Mapped[list[Variant]] = relationship(back_populates="product", order_by="Variant.position, Variant.id")
    regulatory_statuses: Mapped[list[RegulatoryStatus]] = relationship(
        back_populates="product", order_by="RegulatoryStatus.market"
    )
    # The first is the main image, the one the catalogue card shows.
    images: Mapped[list[ProductImage]] = relationship(
        back_populates="product", order_by="ProductImage.position, ProductImage.id"
    )

    @property
    def main_image(self) -> ProductImage | None:
        return self.images[0] if self.images else None

    @hybrid_property
    def active(self) -> bool:
        """Whether the product is on sale (in the catalogue, in carts, on new quotes)."""
        return self.status == ProductStatus.ACTIVE

    @property
    def audit_label(self) -> str:
        return f"Product {self.name}"

    @property
    def sellable_variants(self) -> list[Variant]:
        return [v for v in self.variants if v.active]

    @property
    def has_lidocaine_option(self) -> bool:
        return any(v.contains_lidocaine for v in self.sellable_variants)

    @property
    def in_stock(self) -> bool:
        return any(v.stock_on_hand > 0 for v in self.sellable_variants)

    def status_in(self, market: str) -> RegulatoryStatus | None:
        return next((s for s in self.regulatory_statuses if s.market == market), None)

    def sale_permitted_in(self, market: str) -> bool:
        status = self.status_in(market)
        return status is not None and status.sale_permitted


MIN_BREAK_QUANTITY = 2  # a volume price is for several packs


class Variant(db.Model):
    """A sellable unit: one SKU with its pack, price and stock."""

    __tablename__ = "variants"
    __table_args__ = (
        # The few variants at or under their reorder level, for the low-stock list and count.
        Index(
            "ix_variants_low_stock",
            "product_id",
            postgresql_where=text("stock_on_hand <= reorder_level"),
            sqlite_where=text("stock_on_hand <= reorder_level"),
        ),
    )
    audit_type = "variant"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    # Stored in capitals (the catalogue's services write it so), so unique in any case.
    sku: Mapped[str] = mapped_column(String(SKU_LENGTH), unique=True)
    gtin: Mapped[str | None] = mapped_column(String(14), unique=True)
    label: Mapped[str] = mapped_column(String(120))
    pack_size: Mapped[str] = mapped_column(String(120))
    contains_lidocaine: Mapped[bool] = mapped_column(default=False)
    price_cents: Mapped[int]
    stock_on_hand: Mapped[int] = mapped_column(default=0)
    reorder_level: Mapped[int] = mapped_column(default=10)
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)

    product: Mapped[Product] = relationship(back_populates="variants")
    price_breaks: Mapped[list[PriceBreak]] = relationship(
        back_populates="variant", order_by="PriceBreak.min_quantity", cascade="all, delete-orphan"
    )

    LOW_STOCK = 10

    @property
    def audit_label(self) -> str:
        return f"Variant {self.sku} ({self.product.name})"

    @property
    def needs_reorder(self) -> bool:
        return self.stock_on_hand <= self.reorder_level

    def unit_price_for(self, quantity: int) -> int:
        """The price per pack when buying `quantity`: the volume break reached, if any (a single
        pack costs the price without reading the breaks, which a CHECK keeps from 2 packs on)."""
        if quantity < MIN_BREAK_QUANTITY:
            return self.price_cents
        return unit_price(self.price_cents, ((b.min_quantity, b.unit_price_cents) for b in self.price_breaks), quantity)

    @property
    def sellable(self) -> bool:
        return self.active and self.product.active

    @property
    def availability(self) -> str:
        if not self.active:
            return "Discontinued"
        if self.stock_on_hand <= 0:
            return "Out of stock"
        if self.stock_on_hand < self.LOW_STOCK:
            return "Low stock"
        return "In stock"


class PriceBreak(db.Model):
    """A volume price: from `min_quantity` packs on, each costs `unit_price_cents`."""

    __tablename__ = "price_breaks"
    __table_args__ = (
        UniqueConstraint("variant_id", "min_quantity", name="uq_price_breaks_variant_quantity"),
        CheckConstraint(f"min_quantity >= {MIN_BREAK_QUANTITY}", name="from_two_packs"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id", ondelete="CASCADE"), index=True)
    min_quantity: Mapped[int]
    unit_price_cents: Mapped[int]

    variant: Mapped[Variant] = relationship(back_populates="price_breaks")


class RegulatoryCategory(LabelledEnum):
    FDA_APPROVED = "fda_approved", "FDA-approved"
    CE_MARKED = "ce_marked", "CE-marked"
    NOT_APPROVED = "not_approved", "Not approved"
    NOT_MARKETED = "not_marketed", "Not marketed"


class RegulatoryStatus(db.Model):
    """What a product is, legally, in one market, and whether the shop may sell it there."""

    __tablename__ = "regulatory_statuses"
    __table_args__ = (UniqueConstraint("product_id", "market", name="uq_regulatory_statuses_product_market"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    market: Mapped[str] = mapped_column(String(8))
    category: Mapped[RegulatoryCategory] = mapped_column(enum_column(RegulatoryCategory, "regulatory_category"))
    note: Mapped[str] = mapped_column(Text, default="")  # the approved use and what limits it
    sale_permitted: Mapped[bool] = mapped_column(default=False)

    product: Mapped[Product] = relationship(back_populates="regulatory_statuses")

    MARKET_NAMES = {"US": "United States", "EU": "European Union", "UK": "United Kingdom"}

    @property
    def market_name(self) -> str:
        return self.MARKET_NAMES.get(self.market, self.market)
