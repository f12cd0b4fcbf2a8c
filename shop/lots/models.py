"""A lot of one variant: its number and expiry as printed on the pack, what is on the shelf, and
whether it may be sold. Every change to a lot is an event row.

Only available lots count in the variant's stock (`Variant.stock_on_hand`, kept by the stock
ledger): a lot leaves the stock when it is quarantined, recalled or expires, and comes back
when a quarantine is released. Expiry is a calendar date in the shop's time zone; a pack may
be used on its expiry date and not after.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.catalogue.models import Variant
from shop.core.db import UTCDateTime, enum_column
from shop.core.enums import LabelledEnum
from shop.core.events import EventColumns
from shop.extensions import db

LOT_NUMBER_LENGTH = 20  # GS1 AI (10) holds at most 20 characters


class LotStatus(LabelledEnum):
    AVAILABLE = "available", "Available"
    QUARANTINED = "quarantined", "Quarantined"
    EXPIRED = "expired", "Expired"
    RECALLED = "recalled", "Recalled"


LOT_TRANSITIONS: dict[LotStatus, frozenset[LotStatus]] = {
    LotStatus.AVAILABLE: frozenset({LotStatus.QUARANTINED, LotStatus.EXPIRED, LotStatus.RECALLED}),
    LotStatus.QUARANTINED: frozenset({LotStatus.AVAILABLE, LotStatus.RECALLED}),
    LotStatus.EXPIRED: frozenset({LotStatus.RECALLED}),
    LotStatus.RECALLED: frozenset(),
}


class Lot(db.Model):
    __tablename__ = "lots"
    __table_args__ = (
        UniqueConstraint("variant_id", "lot_number", name="uq_lots_variant_lot_number"),
        CheckConstraint("on_hand >= 0", name="lot_on_hand_not_negative"),
        # First expiry first out: a variant's lots in the order they are to leave.
        Index("ix_lots_variant_expiry", "variant_id", "expires_on"),
        Index("ix_lots_lot_number", "lot_number"),
    )
    audit_type = "lot"

    id: Mapped[int] = mapped_column(primary_key=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id"))
    lot_number: Mapped[str] = mapped_column(String(LOT_NUMBER_LENGTH))
    expires_on: Mapped[date] = mapped_column(Date)
    status: Mapped[LotStatus] = mapped_column(enum_column(LotStatus, "lot_status"), default=LotStatus.AVAILABLE)
    on_hand: Mapped[int] = mapped_column(default=0)  # packs of this lot on the shelf
    received: Mapped[int] = mapped_column(default=0)  # packs of this lot ever received
    supplier_reference: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    variant: Mapped[Variant] = relationship()
    events: Mapped[list[LotEvent]] = relationship(back_populates="lot", order_by="LotEvent.id")

    def can_become(self, target: LotStatus) -> bool:
        return target in LOT_TRANSITIONS[self.status]

    @property
    def described_as(self) -> str:
        return f"Lot {self.lot_number} of {self.variant.sku}"

    @property
    def audit_label(self) -> str:
        return self.described_as

    def new_event(self, **columns) -> LotEvent:
        return LotEvent(lot_id=self.id, **columns)

    def is_expired(self, today: date) -> bool:
        return self.expires_on < today

    def sellable(self, today: date) -> bool:
        """Counted in the stock: available and not past its expiry."""
        return self.status == LotStatus.AVAILABLE and not self.is_expired(today)

    def why_not_shippable(self, today: date, min_shelf_life_days: int) -> str | None:
        """Why packs of this lot may not leave the warehouse today, or None if they may."""
        if self.status != LotStatus.AVAILABLE:
            return f"Lot {self.lot_number} is {self.status.label.lower()}."
        if self.is_expired(today):
            return f"Lot {self.lot_number} expired on {self.expires_on:%d %b %Y}."
        if self.expires_on < today + timedelta(days=min_shelf_life_days):
            return (
                f"Lot {self.lot_number} expires on {self.expires_on:%d %b %Y}, within the "
                f"{min_shelf_life_days} days of shelf life a clinic is promised."
            )
        return None


class LotEvent(EventColumns, db.Model):
    __tablename__ = "lot_events"

    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)

    lot: Mapped[Lot] = relationship(back_populates="events")
