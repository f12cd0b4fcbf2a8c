"""Orders: what a practice bought, copied at the moment it was placed (names, SKUs, prices,
tax, the ship-to address and the clinician's licence), its lines, and an event row for every
change. The status flow lives in one table here."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.accounts.models import User
from shop.core.db import UTCDateTime, enum_column
from shop.core.enums import LabelledEnum
from shop.core.limits import ITEM_NAME_LENGTH, PO_NUMBER_LENGTH, SKU_LENGTH
from shop.errors import InvalidTransition, ShopError
from shop.extensions import db
from shop.invoicing.models import Invoice
from shop.ordering.history import OrderEvent
from shop.practices.models import Practice


class OrderStatus(LabelledEnum):
    AWAITING_PAYMENT = "awaiting_payment", "Awaiting payment"
    PLACED = "placed", "Placed"
    PAID = "paid", "Paid"
    ON_HOLD = "on_hold", "On hold"
    PROCESSING = "processing", "Processing"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"
    REFUNDED = "refunded", "Refunded"


S = OrderStatus
# Which status may follow which. Card orders start awaiting payment, on-account orders start
# placed; a payment that does not match the order puts it on hold for the desk.
ORDER_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.AWAITING_PAYMENT: frozenset({S.PAID, S.ON_HOLD, S.CANCELLED}),
    S.PLACED: frozenset({S.PROCESSING, S.ON_HOLD, S.CANCELLED}),
    S.PAID: frozenset({S.PROCESSING, S.ON_HOLD, S.CANCELLED, S.REFUNDED}),
    S.ON_HOLD: frozenset({S.PAID, S.PLACED, S.PROCESSING, S.CANCELLED, S.REFUNDED}),
    S.PROCESSING: frozenset({S.SHIPPED, S.ON_HOLD, S.CANCELLED}),
    S.SHIPPED: frozenset({S.DELIVERED, S.REFUNDED}),
    S.DELIVERED: frozenset({S.REFUNDED}),
    S.CANCELLED: frozenset({S.REFUNDED}),
    S.REFUNDED: frozenset(),
}


# Orders whose goods are, or were, on their way to the practice, so a packing slip makes sense:
# not one still awaiting its card payment, nor one cancelled or refunded.
PACKABLE = frozenset({S.PLACED, S.PAID, S.PROCESSING, S.SHIPPED, S.DELIVERED, S.ON_HOLD})


# Orders whose goods are sold, so they have (or can have) an invoice.
INVOICEABLE = frozenset({S.PAID, S.PROCESSING, S.SHIPPED, S.DELIVERED})


# The road an order travels, as the clinician's order page draws it.
PROGRESS = {S.AWAITING_PAYMENT: 0, S.PLACED: 0, S.PAID: 1, S.PROCESSING: 1, S.SHIPPED: 2, S.DELIVERED: 3}


class OrderAction(StrEnum):
    """What the orders desk can do to an order."""

    CONFIRM = "confirm"
    SHIP = "ship"
    DELIVER = "deliver"
    RELEASE = "release"
    CANCEL = "cancel"
    REFUND = "refund"
    INVOICE = "invoice"


# The status each of the desk's steps leads to; the transition table says from where. Confirming
# and releasing both lead to processing: confirming from placed or paid, releasing from on hold.
STEP_TARGETS: dict[OrderAction, OrderStatus] = {
    OrderAction.CONFIRM: S.PROCESSING,
    OrderAction.SHIP: S.SHIPPED,
    OrderAction.DELIVER: S.DELIVERED,
    OrderAction.RELEASE: S.PROCESSING,
    OrderAction.CANCEL: S.CANCELLED,
    OrderAction.REFUND: S.REFUNDED,
}


class CancelCause(StrEnum):
    """Why an order is cancelled: the orders desk decided, or the shop did because the card
    payment never came (its time ran out, or Stripe closed the payment page)."""

    STAFF = "staff"
    PAYMENT_LAPSED = "payment_lapsed"
    STRIPE_EXPIRED = "stripe_expired"

    @property
    def lapsed_unpaid(self) -> bool:
        return self in (CancelCause.PAYMENT_LAPSED, CancelCause.STRIPE_EXPIRED)


class OrderChannel(LabelledEnum):
    """How the order reached the shop: placed on the web, or keyed in by the orders desk."""

    WEB = "web", "Web"
    PHONE = "phone", "Phone"
    FAX = "fax", "Fax"
    EMAIL = "email", "Email"


class PaymentMethod(LabelledEnum):
    CARD = "card", "Card (Stripe)"
    ACCOUNT = "account", "On account (invoice)"


class Order(db.Model):
    __tablename__ = "orders"
    audit_type = "order"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"), index=True)
    placed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    channel: Mapped[OrderChannel] = mapped_column(
        enum_column(OrderChannel, "order_channel"), default=OrderChannel.WEB, server_default="web"
    )
    # The member of the orders desk who keyed it in (None for an order placed on the web).
    keyed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[OrderStatus] = mapped_column(enum_column(OrderStatus, "order_status"), index=True)
    payment_method: Mapped[PaymentMethod] = mapped_column(enum_column(PaymentMethod, "payment_method"))
    currency: Mapped[str] = mapped_column(String(3))
    subtotal_cents: Mapped[int]
    shipping_cents: Mapped[int]
    tax_rate_bps: Mapped[int]
    tax_cents: Mapped[int]
    total_cents: Mapped[int]
    po_number: Mapped[str] = mapped_column(String(PO_NUMBER_LENGTH), default="", index=True)
    note: Mapped[str] = mapped_column(Text, default="")

    # Copied when the order is placed, so later edits never change the paperwork.
    practice_name: Mapped[str] = mapped_column(String(160))
    practice_phone: Mapped[str] = mapped_column(String(40))
    ship_to: Mapped[str] = mapped_column(Text)
    ship_to_country: Mapped[str] = mapped_column(String(2))
    clinician_name: Mapped[str] = mapped_column(String(120))
    clinician_email: Mapped[str] = mapped_column(String(254))
    profession: Mapped[str] = mapped_column(String(32))
    licence_number: Mapped[str] = mapped_column(String(40))
    licence_region: Mapped[str] = mapped_column(String(80))
    licence_expiry: Mapped[date] = mapped_column(Date)

    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # Card orders left unpaid after this moment are cancelled and their stock released.
    pay_by: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invoice_due_on: Mapped[date | None] = mapped_column(Date)
    invoice_settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stock_released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stripe_session_id: Mapped[str | None] = mapped_column(String(255), index=True)
    stripe_payment_intent: Mapped[str | None] = mapped_column(String(255))
    payment_attempt: Mapped[int] = mapped_column(default=0)
    payment_error: Mapped[str] = mapped_column(Text, default="")
    hold_reason: Mapped[str] = mapped_column(Text, default="")
    carrier: Mapped[str] = mapped_column(String(60), default="")
    tracking_number: Mapped[str] = mapped_column(String(80), default="")
    cancel_reason: Mapped[str] = mapped_column(Text, default="")

    practice: Mapped[Practice] = relationship()
    placed_by: Mapped[User] = relationship(foreign_keys=[placed_by_id])
    keyed_by: Mapped[User | None] = relationship(foreign_keys=[keyed_by_id])
    lines: Mapped[list[OrderLine]] = relationship(back_populates="order", order_by="OrderLine.id")
    invoice: Mapped[Invoice | None] = relationship(Invoice, uselist=False, viewonly=True)
    events: Mapped[list[OrderEvent]] = relationship(back_populates="order", order_by="OrderEvent.id")

    def can_become(self, target: OrderStatus) -> bool:
        return target in ORDER_TRANSITIONS[self.status]

    @property
    def described_as(self) -> str:
        return f"Order {self.number}"

    def new_event(self, **columns) -> OrderEvent:
        return OrderEvent(order_id=self.id, **columns)

    def available_actions(self) -> frozenset[OrderAction]:
        """The steps the orders desk can take now; its pages offer exactly these."""
        return frozenset(action for action in OrderAction if self.refusal(action) is None)

    def require(self, action: OrderAction) -> None:
        """Raise the refusal of `action`, if there is one (services guard with this)."""
        refused = self.refusal(action)
        if refused is not None:
            raise refused

    def refusal(self, action: OrderAction) -> ShopError | None:
        """Why the desk cannot take `action` now (the error to raise), or None when it can."""
        if action == OrderAction.INVOICE:
            return self._invoice_refusal()
        status = self.status
        target = STEP_TARGETS[action]
        if action == OrderAction.CONFIRM and (status == S.ON_HOLD or not self.can_become(target)):
            return InvalidTransition(
                f"Order {self.number} is {status.label.lower()}; only a placed or paid order can be confirmed."
            )
        if action == OrderAction.RELEASE and status != S.ON_HOLD:
            return InvalidTransition(f"Order {self.number} is {status.label.lower()}, not on hold.")
        if action == OrderAction.CANCEL and not self.can_become(target):
            return InvalidTransition(f"Order {self.number} is {status.label.lower()} and can no longer be cancelled.")
        if action == OrderAction.CANCEL and self.part_shipped:
            return InvalidTransition(
                f"Part of order {self.number} has shipped, so it can no longer be cancelled: ship the rest, "
                "or credit what the practice will not receive."
            )
        if not self.can_become(target) or (action == OrderAction.REFUND and not self.has_money_to_refund):
            return InvalidTransition(
                f"Order {self.number} is {status.label.lower()}, so it cannot become “{target.label.lower()}” now."
            )
        return None

    def _invoice_refusal(self) -> ShopError | None:
        """An order is invoiced once its goods are sold: on account once confirmed, by card once
        paid. It happens by itself; the desk issues one only for an order sold before invoices
        were kept."""
        if self.invoice is not None:
            return InvalidTransition(f"Order {self.number} has its invoice, {self.invoice.number}.")
        if self.invoice_settled_at is not None:
            return InvalidTransition(f"Order {self.number} was invoiced and paid before invoices were kept here.")
        if self.status not in INVOICEABLE or (self.payment_method == PaymentMethod.CARD and self.paid_at is None):
            return InvalidTransition(f"Order {self.number} is {self.status.label.lower()}; it has nothing to invoice.")
        return None

    @property
    def has_money_to_refund(self) -> bool:
        """Whether there is something to refund: a card payment taken, or the invoice of goods
        sent on account, which the transition table already implies, except for a cancelled
        order, which has something to refund only when a card payment was kept."""
        return self.status != S.CANCELLED or self.refund_due

    @property
    def progress_step(self) -> int | None:
        """How far along placed, paid (or confirmed), shipped, delivered the order is (0 to 3);
        None for an order that left that road (on hold, cancelled, refunded)."""
        return PROGRESS.get(self.status)

    @property
    def has_goods_to_pack(self) -> bool:
        """Whether the desk may print a packing slip for the order."""
        return self.status in PACKABLE

    @property
    def part_shipped(self) -> bool:
        return any(line.shipped_quantity for line in self.lines)

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def is_awaiting_card_payment(self) -> bool:
        return self.status == OrderStatus.AWAITING_PAYMENT and self.payment_method == PaymentMethod.CARD

    @property
    def refund_due(self) -> bool:
        """Cancelled with a card payment kept: paid before the cancellation, or after it."""
        return self.status == OrderStatus.CANCELLED and (
            self.paid_at is not None or any(event.action == "paid_after_cancellation" for event in self.events)
        )


class OrderLine(db.Model):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    variant_id: Mapped[int | None] = mapped_column(ForeignKey("variants.id"))
    sku: Mapped[str] = mapped_column(String(SKU_LENGTH))
    product_name: Mapped[str] = mapped_column(String(ITEM_NAME_LENGTH))
    variant_label: Mapped[str] = mapped_column(String(120))
    pack_size: Mapped[str] = mapped_column(String(120))
    quantity: Mapped[int]
    unit_price_cents: Mapped[int]
    line_total_cents: Mapped[int]
    tax_rate_bps: Mapped[int]
    # Packs of this line that have left the warehouse, each with its lot (shop.shipping).
    shipped_quantity: Mapped[int] = mapped_column(default=0, server_default="0")

    order: Mapped[Order] = relationship(back_populates="lines")

    @property
    def to_ship(self) -> int:
        return self.quantity - self.shipped_quantity
