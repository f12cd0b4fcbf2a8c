"""An order's history: an event row for every change (who, when, from which status to which,
and why), and how each kind of event reads on the order's page."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.core.events import EventColumns
from shop.extensions import db

if TYPE_CHECKING:
    from shop.ordering.models import Order


class OrderEvent(EventColumns, db.Model):
    """Who changed an order, when, from which status to which, and why."""

    __tablename__ = "order_events"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)

    order: Mapped[Order] = relationship(back_populates="events")


ORDER_EVENT_LABELS = {
    "placed": "Order placed",
    "paid": "Payment received",
    "payment_pending": "Payment being confirmed by the bank",
    "payment_failed": "Payment failed",
    "payment_unavailable": "Card payment could not be started",
    "payment_mismatch": "Payment does not match the order: on hold",
    "paid_after_cancellation": "Payment received after cancellation",
    "payment_unknown_session": "Payment through a Stripe page the shop did not make for this order",
    "confirmed": "Confirmed by the orders desk",
    "shipped": "Shipped",
    "delivered": "Delivered",
    "cancelled": "Cancelled",
    "hold_released": "Released from hold",
    "refunded": "Refunded",
    "invoice_settled": "Invoice paid",
    "invoiced": "Invoice issued",
    "credited": "Credit note issued",
    "payment_link_sent": "Payment link emailed",
}
