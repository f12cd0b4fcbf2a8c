"""The cart: one line per variant per clinician, kept in the database so it survives logout
and another browser. `seen_unit_price_cents` is the price the clinician last saw for the line,
so a later price change is flagged instead of silently charged."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.catalogue.models import Variant
from shop.core.db import UTCDateTime
from shop.extensions import db


class CartLine(db.Model):
    __tablename__ = "cart_lines"
    __table_args__ = (UniqueConstraint("user_id", "variant_id", name="uq_cart_lines_user_variant"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id"))
    quantity: Mapped[int]
    seen_unit_price_cents: Mapped[int]
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)

    variant: Mapped[Variant] = relationship()


class QuickOrderReport(db.Model):
    """What a quick order did, line by line, kept so that the cart can show it after a redirect
    (reloading that page shows the report again and adds nothing). A clinician keeps only the
    latest one."""

    __tablename__ = "quick_order_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # [[line number, the line as written, added?, message], ...]
    lines: Mapped[list] = mapped_column(JSON)
