"""A recall (a product, the lots recalled, the manufacturer's reference and reason), its event
trail, and one notice per practice that received a recalled lot: when it was told, how often,
and who acknowledged it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.accounts.models import User
from shop.catalogue.models import Product
from shop.core.db import UTCDateTime, enum_column
from shop.core.enums import LabelledEnum
from shop.core.events import EventColumns
from shop.extensions import db
from shop.lots.models import Lot
from shop.practices.models import Practice


class RecallStatus(LabelledEnum):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


RECALL_TRANSITIONS = {RecallStatus.OPEN: frozenset({RecallStatus.CLOSED}), RecallStatus.CLOSED: frozenset()}


class Recall(db.Model):
    __tablename__ = "recalls"
    audit_type = "recall"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    status: Mapped[RecallStatus] = mapped_column(enum_column(RecallStatus, "recall_status"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    manufacturer_reference: Mapped[str] = mapped_column(String(80))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closing_note: Mapped[str] = mapped_column(Text, default="")

    product: Mapped[Product] = relationship()
    opened_by: Mapped[User] = relationship()
    lots: Mapped[list[Lot]] = relationship(secondary="recall_lots", order_by="Lot.lot_number")
    notices: Mapped[list[RecallNotice]] = relationship(back_populates="recall", order_by="RecallNotice.id")
    events: Mapped[list[RecallEvent]] = relationship(order_by="RecallEvent.id")

    @property
    def number(self) -> str:
        return f"RCL-{self.id:06d}"

    @property
    def described_as(self) -> str:
        return f"Recall {self.number}"

    @property
    def audit_label(self) -> str:
        return f"Recall {self.number} ({self.product.name})"

    @property
    def lot_numbers(self) -> str:
        return ", ".join(lot.lot_number for lot in self.lots)

    def can_become(self, target: RecallStatus) -> bool:
        return target in RECALL_TRANSITIONS[self.status]

    def new_event(self, **columns) -> RecallEvent:
        return RecallEvent(recall_id=self.id, **columns)


class RecallLot(db.Model):
    __tablename__ = "recall_lots"

    recall_id: Mapped[int] = mapped_column(ForeignKey("recalls.id"), primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), primary_key=True, index=True)


class RecallEvent(EventColumns, db.Model):
    __tablename__ = "recall_events"

    recall_id: Mapped[int] = mapped_column(ForeignKey("recalls.id"), index=True)


class RecallNotice(db.Model):
    """What one practice was told about one recall, and its answer."""

    __tablename__ = "recall_notices"
    __table_args__ = (UniqueConstraint("recall_id", "practice_id", name="uq_recall_notices_recall_practice"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recall_id: Mapped[int] = mapped_column(ForeignKey("recalls.id"))
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"), index=True)
    first_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    times_notified: Mapped[int] = mapped_column(default=0)
    notified_to: Mapped[str] = mapped_column(Text, default="")  # the addresses of the last notice
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    recall: Mapped[Recall] = relationship(back_populates="notices")
    practice: Mapped[Practice] = relationship()
    acknowledged_by: Mapped[User | None] = relationship()

    @property
    def state(self) -> str:
        if self.acknowledged_at is not None:
            return "Acknowledged"
        return "Not yet acknowledged" if self.first_notified_at is not None else "Not yet notified"
