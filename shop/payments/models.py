"""Stripe webhook events as received, one row per event id, so each is applied once even when
Stripe delivers it twice at the same moment."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shop.core.db import UTCDateTime
from shop.extensions import db


class StripeEvent(db.Model):
    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(80))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    order_number: Mapped[str] = mapped_column(String(20), default="")
    outcome: Mapped[str] = mapped_column(Text, default="")
