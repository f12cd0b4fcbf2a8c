"""A shipment (one parcel of an order: carrier, tracking, who packed it, when) and its lines
(which order line, which lot, how many packs). A line copies the lot number and expiry, as an
order line copies the price: what the clinic was told stays what it was.

Shipment lines are what a recall reads: they are indexed by lot, and carry the practice and the
order, so "who received lot X" is one indexed look-up however many orders there are.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from shop.accounts.models import User
from shop.core.db import UTCDateTime
from shop.extensions import db
from shop.lots.models import LOT_NUMBER_LENGTH, Lot
from shop.ordering.models import Order, OrderLine


class Shipment(db.Model):
    __tablename__ = "shipments"
    __table_args__ = (UniqueConstraint("order_id", "sequence", name="uq_shipments_order_sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"), index=True)
    sequence: Mapped[int]  # 1 for the order's first parcel, 2 for the next...
    carrier: Mapped[str] = mapped_column(String(60))
    tracking_number: Mapped[str] = mapped_column(String(80))
    shipped_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    shipped_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    # The order's parcels, for its pages and documents (Order knows nothing of shipping).
    order: Mapped[Order] = relationship(backref=backref("shipments", order_by="Shipment.sequence", viewonly=True))
    shipped_by: Mapped[User | None] = relationship()
    lines: Mapped[list[ShipmentLine]] = relationship(back_populates="shipment", order_by="ShipmentLine.id")

    @property
    def reference(self) -> str:
        return f"{self.order.number}/{self.sequence}"


class ShipmentLine(db.Model):
    __tablename__ = "shipment_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="ships_some_packs"),
        # The recall look-up: every line of a lot, newest first.
        Index("ix_shipment_lines_lot_shipped", "lot_id", "shipment_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"))
    quantity: Mapped[int]
    lot_number: Mapped[str] = mapped_column(String(LOT_NUMBER_LENGTH))
    expires_on: Mapped[date] = mapped_column(Date)

    shipment: Mapped[Shipment] = relationship(back_populates="lines")
    order_line: Mapped[OrderLine] = relationship()
    lot: Mapped[Lot] = relationship()
