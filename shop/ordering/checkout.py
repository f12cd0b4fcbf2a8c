"""Placing an order from the cart.

One transaction reserves the stock of every line with a conditional UPDATE (so two clinicians
racing for the last boxes can never both get them), copies names, SKUs, prices, tax, the
ship-to address and the clinician's licence onto the order, numbers it, empties the cart and
queues the emails to the orders desk and the clinician. Anything wrong rolls all of it back
and the cart is kept.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import timedelta

from flask import current_app

from shop import clock
from shop.accounts.models import User
from shop.cart import services as carts
from shop.catalogue import stock
from shop.catalogue.compliance import variant_refusal
from shop.catalogue.models import Variant
from shop.core import events
from shop.core.db import hold, unit_of_work
from shop.core.pricing import Totals
from shop.errors import CreditLimitExceeded, NotEligible, OutOfStock, PriceChanged
from shop.extensions import db
from shop.ordering.credit import available_credit, payment_methods
from shop.ordering.mail import email_order_placed
from shop.ordering.models import Order, OrderChannel, OrderLine, OrderStatus, PaymentMethod
from shop.practices.models import Address, Practice
from shop.practices.terms import require_open

NUMBER_OFFSET = 100_000


def delivery_addresses(user: User) -> list[Address]:
    """The practice's addresses an order can be shipped to (no PO boxes)."""
    return [a for a in user.practice.addresses if not a.is_po_box] if user.practice else []


@dataclass(frozen=True)
class CheckoutRequest:
    address_id: int
    payment_method: PaymentMethod
    expected_total_cents: int
    po_number: str = ""
    note: str = ""


@dataclass(frozen=True)
class Keyed:
    """An order the orders desk keys in for a clinician: who keyed it, from what (a call, a fax,
    an email), and how long a card payment may take (the link is emailed, not paid at once)."""

    staff: User
    channel: OrderChannel
    pay_within: timedelta


@dataclass(frozen=True)
class PlacedOrder:
    """An order as it was just placed, read before its commit: enough to tell the clinician and
    to go on to payment without asking the database again (a hiccup right after the commit must
    never report a placed order as a failure)."""

    id: int
    number: str
    payment_method: PaymentMethod

    @classmethod
    def of(cls, order: Order) -> PlacedOrder:
        return cls(order.id, order.number, order.payment_method)


def place_order(user: User, request: CheckoutRequest, view: carts.CartView | None = None) -> PlacedOrder:
    """Turn the cart into an order (`view`: the cart as the checkout page just read it, in this
    transaction). Raises NotEligible, PriceChanged, OutOfStock or CreditLimitExceeded; on any of
    them nothing is reserved and the cart is unchanged."""
    with unit_of_work():
        return PlacedOrder.of(_place(user, request, view or carts.view_cart(user)))


@dataclass(frozen=True)
class OrderLineDraft:
    """A line about to be ordered, priced by its source (the cart, or an accepted quote).
    `variant` is None for a quoted item that is not in the catalogue (no stock to reserve)."""

    variant: Variant | None
    sku: str
    product_name: str
    variant_label: str
    pack_size: str
    quantity: int
    unit_price_cents: int
    line_total_cents: int


# What an order line copies from its draft, as it was when the order was placed.
LINE_COPIES = tuple(field.name for field in fields(OrderLineDraft) if field.name != "variant")


def delivery_address(user: User, address_id: int) -> Address:
    address = next((a for a in delivery_addresses(user) if a.id == address_id), None)
    if address is None:
        raise NotEligible("Choose one of your practice's delivery addresses (not a PO box).", field="address_id")
    return address


def _place(user: User, request: CheckoutRequest, view: carts.CartView) -> Order:
    if not user.is_verified(clock.today()):
        raise NotEligible("Your account is not verified to order.")
    require_open(user.practice)
    address = delivery_address(user, request.address_id)
    if view.is_empty:
        raise NotEligible("Your cart is empty.")
    if view.has_price_changes:
        raise PriceChanged("Some prices changed since you added the products. Review your cart, then check out again.")
    shortage = _shortage(view, user)
    if shortage:
        raise OutOfStock(shortage)
    if view.has_unavailable:
        raise NotEligible("Some products in your cart cannot be ordered as they are. Review your cart first.")
    if view.totals.total_cents != request.expected_total_cents:
        raise PriceChanged("The total changed while you were checking out. Review it and place the order again.")
    lines = [
        OrderLineDraft(
            variant=row.variant,
            sku=row.variant.sku,
            product_name=row.variant.product.name,
            variant_label=row.variant.label,
            pack_size=row.variant.pack_size,
            quantity=row.line.quantity,
            unit_price_cents=row.unit_price_cents,
            line_total_cents=row.line_total_cents,
        )
        for row in view.rows
    ]
    # Taken first, so a second click or another tab placing the same cart waits here and is
    # refused once this order is in, instead of ordering it twice.
    carts.take_lines(user, [row.line for row in view.rows])
    try:
        order = create_order(
            user, request, address, lines, view.totals, note=f"Paying {request.payment_method.label.lower()}."
        )
    except OutOfStock as error:
        raise OutOfStock(f"{error.message} Your cart is kept; lower the quantity or remove the line.") from None
    return order


def create_order(
    user: User,
    request: CheckoutRequest,
    address: Address,
    lines: list[OrderLineDraft],
    totals: Totals,
    *,
    note: str,
    currency: str | None = None,
    keyed: Keyed | None = None,
) -> Order:
    """Check that the practice may order (not suspended), the payment method and credit, reserve the stock, write the order with its lines
    and first event, and queue the emails; all in the caller's transaction. Raises NotEligible,
    CreditLimitExceeded or OutOfStock."""
    require_open(user.practice)
    if request.payment_method not in payment_methods(user):
        raise NotEligible("Choose a payment method that is offered to your practice.", field="payment_method")
    if request.payment_method == PaymentMethod.ACCOUNT:
        # Two members of a practice ordering at the same moment must not both spend the last of
        # its credit: the practice row is locked before the balance is read.
        hold(Practice.credit_limit_cents, user.practice_id)
        if totals.total_cents > available_credit(user):
            by_card = "Pay by card, or call" if PaymentMethod.CARD in payment_methods(user) else "Call"
            raise CreditLimitExceeded(
                f"This order is above your practice's available credit on account. {by_card} the orders desk.",
                field="payment_method",
            )
    order = _new_order(user, request, address, totals, currency or current_app.config["SHOP_CURRENCY"], keyed)
    for line in lines:
        copied = {name: getattr(line, name) for name in LINE_COPIES}
        variant_id = line.variant.id if line.variant else None
        order.lines.append(OrderLine(**copied, variant_id=variant_id, tax_rate_bps=totals.tax_rate_bps))
    db.session.add(order)
    db.session.flush()
    # Numbers follow the row id, so they are unique without a lock and easy to read out.
    order.number = f"ORD-{NUMBER_OFFSET + order.id}"
    placed_by = keyed.staff if keyed else user
    events.record(order, placed_by, "placed", None, order.status.value, note, at=order.placed_at)
    email_order_placed(order)
    db.session.flush()
    # The stock last: its rows stay locked until the commit, which follows at once (the emails
    # are written by now). Short of stock, all of the above is rolled back.
    stock.reserve([(line.variant, line.quantity) for line in lines if line.variant is not None], order.number)
    return order


def blocking_message(view: carts.CartView, user: User) -> str:
    """Why this cart cannot be checked out as it is: the exact shortage when stock is all that is
    missing (another clinician took the last boxes), else a pointer to the flagged lines."""
    return _shortage(view, user) or "Some lines of your cart need your attention before you can check out."


def _shortage(view: carts.CartView, user: User) -> str | None:
    """The first line's shortage, when being short of stock is all that is wrong with the cart."""
    blocked = [row for row in view.rows if row.problems]
    if blocked and all(_only_short_of_stock(row, user) for row in blocked):
        return _short_message(blocked[0].variant, blocked[0].line.quantity)
    return None


def _only_short_of_stock(row: carts.CartRow, user: User) -> bool:
    return row.line.quantity > row.variant.stock_on_hand and variant_refusal(row.variant, user) is None


def _short_message(variant: Variant, quantity: int) -> str:
    left = max(variant.stock_on_hand, 0)
    have = f"only {left} {'is' if left == 1 else 'are'} left" if left else "none are left"
    return (
        f"You asked for {quantity} of {variant.product.name} ({variant.sku}) but {have}. "
        "Your cart is kept; lower the quantity or remove the line."
    )


def _new_order(
    user: User, request: CheckoutRequest, address: Address, totals: Totals, currency: str, keyed: Keyed | None
) -> Order:
    """The order's row as placed now: the totals, and copies of the practice, the ship-to
    address and the clinician's licence, so later edits never change the paperwork."""
    now = clock.now()
    application = user.application
    practice = user.practice
    card = request.payment_method == PaymentMethod.CARD
    order = Order(
        number=f"tmp-{uuid.uuid4().hex[:16]}",  # replaced below once the row has its id
        practice_id=practice.id,
        placed_by_id=user.id,
        status=OrderStatus.AWAITING_PAYMENT if card else OrderStatus.PLACED,
        payment_method=request.payment_method,
        currency=currency,
        subtotal_cents=totals.subtotal_cents,
        shipping_cents=totals.shipping_cents,
        tax_rate_bps=totals.tax_rate_bps,
        tax_cents=totals.tax_cents,
        total_cents=totals.total_cents,
        po_number=request.po_number.strip(),
        note=request.note.strip(),
        practice_name=practice.name,
        practice_phone=practice.phone,
        ship_to="\n".join([practice.name, *address.lines()]),
        ship_to_country=address.country,
        clinician_name=user.full_name,
        clinician_email=user.email,
        profession=application.profession.value,
        licence_number=application.licence_number,
        licence_region=application.licence_region,
        licence_expiry=application.licence_expiry,
        placed_at=now,
        pay_by=now + (keyed.pay_within if keyed else timedelta(minutes=current_app.config["ORDER_PAYMENT_MINUTES"]))
        if card
        else None,
        channel=keyed.channel if keyed else OrderChannel.WEB,
        keyed_by_id=keyed.staff.id if keyed else None,
        invoice_due_on=None if card else clock.today() + timedelta(days=practice.payment_terms_days),
    )
    return order
