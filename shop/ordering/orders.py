"""An order's life after it is placed: every status change goes through `move`, which checks
the transition table, refuses a step someone else already took, and writes the event row.
Cancelling releases the stock exactly once; unpaid card orders are cancelled when their time
runs out."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from shop import clock
from shop.accounts.models import User
from shop.catalogue import stock
from shop.core import events
from shop.core.db import hold, unit_of_work
from shop.core.formatting import money
from shop.errors import InvalidTransition, NotEligible, PaymentUnavailable
from shop.extensions import db
from shop.ordering import billing
from shop.ordering.history import OrderEvent
from shop.ordering.mail import email_order_cancelled
from shop.ordering.models import CancelCause, Order, OrderAction, OrderStatus
from shop.ordering.signals import order_lapsed_unpaid
from shop.payments import gateway as stripe_gateway
from shop.practices.models import Practice, of_own_practice


def order_by_number(number: str) -> Order | None:
    if not isinstance(number, str) or not number or len(number) > 20:
        return None
    return db.session.scalar(
        select(Order).where(Order.number == number).options(selectinload(Order.lines), selectinload(Order.events))
    )


def practice_order(user: User, number: str) -> Order:
    """An order of the user's own practice; anything else is NotFound (a 404, not a 403)."""
    return of_own_practice(user, order_by_number(number), "order")


def practice_orders(user: User):
    return select(Order).where(Order.practice_id == user.practice_id).order_by(Order.placed_at.desc(), Order.id.desc())


def move(order: Order, target: OrderStatus, actor: User | None, action: str, note: str = "", **values) -> None:
    """Change the order's status through the transition table, in the caller's unit of work."""
    events.advance(order, target, actor, action, note, **values)


def note_event(order: Order, actor: User | None, action: str, note: str) -> None:
    """An event that does not change the status (a payment attempt, a late payment...)."""
    events.record_note(order, actor, action, note)


def recorded(order: Order, action: str, mentioning: str) -> bool:
    """Whether the order already has an `action` event whose note mentions `mentioning` (a
    Stripe session id, say)."""
    found = db.session.scalar(
        select(OrderEvent.id).where(
            OrderEvent.order_id == order.id, OrderEvent.action == action, OrderEvent.note.contains(mentioning)
        )
    )
    return found is not None


def release_stock(order: Order, reason: str) -> bool:
    """Put the order's quantities back in stock, once: a second call does nothing."""
    now = clock.now()
    claimed = db.session.execute(
        update(Order)
        .where(Order.id == order.id, Order.stock_released_at.is_(None))
        .values(stock_released_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        return False
    # By variant, the order checkout reserves in, so a cancellation and a checkout of the same
    # products never wait on each other in a circle.
    for line in sorted(order.lines, key=lambda line: line.variant_id or 0):
        if line.variant_id is not None and line.to_ship:
            stock.release(line.variant_id, line.to_ship, order.number, reason)
    return True


def cancel(order: Order, actor: User | None, reason: str, cause: CancelCause) -> Order:
    """Cancel an order, release its stock once, and tell the clinician and the desk. Raises
    NotEligible without a reason, InvalidTransition when the order can no longer be cancelled
    (or was paid at Stripe a moment ago)."""
    reason = (reason or "").strip()
    if not reason:
        raise NotEligible("Give the reason for the cancellation; the clinician will see it.", field="reason")
    with unit_of_work():
        if order.status == OrderStatus.AWAITING_PAYMENT and order.stripe_session_id:
            _hold_unpaid(order)
            _close_payment_page(order)
        cancel_in_transaction(order, actor, reason, cause)
    return order


def _hold_unpaid(order: Order) -> None:
    """Lock the unpaid order's row until the commit (a no-op UPDATE), so that Stripe's own
    "page expired" event for the page closed next waits, and then finds it cancelled here,
    with this reason and by this person."""
    held = db.session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status == OrderStatus.AWAITING_PAYMENT)
        .values(status=Order.status)
        .execution_options(synchronize_session=False)
    )
    if held.rowcount != 1:
        raise InvalidTransition(f"Order {order.number} was changed a moment ago. Reload it to see where it stands.")


def _close_payment_page(order: Order) -> None:
    """Close the order's Stripe page first, so nobody can pay for it once it is cancelled.
    Stripe refuses when the page was already paid, or the bank is still confirming a payment
    made on it: then the order is not cancelled (raises InvalidTransition) and the verdict is
    recorded by the webhook or the clinician's return. When Stripe cannot be reached the
    cancellation goes ahead; a payment that still arrives is recorded against the cancelled
    order and the desk is alerted to refund it."""
    if stripe_gateway.expire_checkout_session(order.stripe_session_id):
        return
    try:
        session = stripe_gateway.retrieve_checkout_session(order.stripe_session_id)
    except PaymentUnavailable:
        return
    if session.is_paid:
        raise InvalidTransition(
            f"Order {order.number} was paid at Stripe a moment ago, so it was not cancelled; "
            "the payment shows on the order within a minute."
        )
    if session.status == "complete" and not recorded(order, "payment_failed", session.id):
        raise InvalidTransition(
            f"The bank is still confirming a payment for order {order.number}, so it was not cancelled. "
            "Its outcome shows on the order as soon as Stripe has it."
        )


def hold_practice(order: Order) -> None:
    """For an invoiced order, take the practice's row first, as a checkout on account does before
    it reserves stock: a cancellation or refund (which releases stock, then credits the invoice
    under the practice's lock) and a colleague's checkout then queue instead of waiting on each
    other in a circle. An order with no invoice credits nothing and takes no such lock (so an
    unpaid card order, whose row is held while its Stripe page closes, never waits on it)."""
    if order.invoice is not None:
        hold(Practice.name, order.practice_id)


def cancel_in_transaction(order: Order, actor: User | None, reason: str, cause: CancelCause) -> None:
    """The cancellation itself, in the caller's transaction. When the shop cancels an unpaid
    card order because the payment never came, whoever cares (a quote it was accepted from) is
    told by the `order_lapsed_unpaid` signal; the desk cancelling means the deal is off."""
    order.require(OrderAction.CANCEL)
    lapsed = order.status == OrderStatus.AWAITING_PAYMENT and cause.lapsed_unpaid
    hold_practice(order)
    # A parcel packed a moment ago must be seen: packing holds the order's row too.
    hold(Order.carrier, order.id)
    for line in order.lines:
        db.session.refresh(line)
    order.require(OrderAction.CANCEL)
    move(order, OrderStatus.CANCELLED, actor, "cancelled", reason, cancel_reason=reason)
    release_stock(order, "Cancelled")
    _credited(order, actor, reason, refunded=False)
    reopened = [answer for _, answer in order_lapsed_unpaid.send(order)] if lapsed else []
    email_order_cancelled(order, reason, next((number for number in reopened if number), ""))


def confirm(order: Order, staff: User) -> Order:
    """The desk accepts a paid card order or an on-account order and starts picking it. A held
    order is released (with a note of what was checked), not confirmed."""
    order.require(OrderAction.CONFIRM)
    with unit_of_work():
        move(order, OrderStatus.PROCESSING, staff, "confirmed", "Confirmed by the orders desk.")
        invoice_if_sold(order, staff)
    return order


def mark_shipped(order: Order, staff: User, carrier: str, tracking_number: str) -> None:
    """The order has left in full: shipped, with the last parcel's carrier and tracking. In the
    caller's unit of work (shop.shipping's, once every pack has left with its lot)."""
    move(
        order,
        OrderStatus.SHIPPED,
        staff,
        "shipped",
        f"{carrier}, tracking {tracking_number}",
        carrier=carrier,
        tracking_number=tracking_number,
    )


def deliver(order: Order, staff: User) -> Order:
    order.require(OrderAction.DELIVER)
    with unit_of_work():
        move(order, OrderStatus.DELIVERED, staff, "delivered", "Delivery confirmed.")
    return order


def release_hold(order: Order, staff: User, note: str) -> Order:
    """The desk has checked a held order (e.g. an amount mismatch) and lets it go on."""
    order.require(OrderAction.RELEASE)
    note = (note or "").strip()
    if not note:
        raise NotEligible("Say what was checked.", field="note")
    with unit_of_work():
        move(order, OrderStatus.PROCESSING, staff, "hold_released", note, hold_reason="")
        invoice_if_sold(order, staff)
    return order


def mark_refunded(order: Order, staff: User, note: str) -> Order:
    note = (note or "").strip()
    if not note:
        raise NotEligible("Say how the refund was made (e.g. the Stripe refund id).", field="note")
    order.require(OrderAction.REFUND)
    # Goods that never left the warehouse go back into stock; shipped ones do not.
    restock = order.status in (OrderStatus.PAID, OrderStatus.ON_HOLD)
    with unit_of_work():
        hold_practice(order)
        move(order, OrderStatus.REFUNDED, staff, "refunded", note)
        if restock:
            release_stock(order, "Refunded before shipping")
        _credited(order, staff, note, refunded=True)
    return order


def issue_invoice(order: Order, staff: User) -> Order:
    """The desk invoices an order sold before invoices were kept (any other is invoiced by itself
    when confirmed or paid). Raises InvalidTransition."""
    order.require(OrderAction.INVOICE)
    with unit_of_work():
        invoice_if_sold(order, staff)
    return order


def invoice_if_sold(order: Order, actor: User | None) -> None:
    """Issue the order's invoice if its goods are now sold, noting it on the order."""
    if order.invoice is None and (invoice := billing.invoice_order(order, actor)) is not None:
        note_event(order, actor, "invoiced", f"Invoice {invoice.number} issued.")


def _credited(order: Order, actor: User | None, reason: str, *, refunded: bool) -> None:
    """Credit what is left on the order's invoice, if it has one, noting it on the order."""
    note = billing.credit_order(order, actor, reason, refunded=refunded)
    if note is not None:
        note_event(
            order, actor, "credited", f"Credit note {note.number} issued for {money(note.total_cents, note.currency)}."
        )


def cancel_unpaid_orders(now: datetime | None = None) -> int:
    """Cancel every card order still unpaid after its time ran out; returns how many."""
    now = now or clock.now()
    due = db.session.scalars(
        select(Order.id).where(Order.status == OrderStatus.AWAITING_PAYMENT, Order.pay_by < now)
    ).all()
    cancelled = 0
    for order_id in due:
        order = db.session.get(Order, order_id)
        try:
            cancel(order, None, "Payment was not completed in time.", CancelCause.PAYMENT_LAPSED)
        except InvalidTransition:
            continue  # paid or cancelled by someone else meanwhile
        cancelled += 1
    return cancelled
