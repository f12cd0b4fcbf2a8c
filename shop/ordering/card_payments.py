"""Card payment through Stripe Checkout.

An order is marked paid only on Stripe's verdict: a signed webhook (shop.payments.webhook,
which sends each Checkout Session event here), or the Checkout Session read back from Stripe
when the clinician returns first. Both go through `apply_session`,
which is idempotent and state-based, so duplicate, simultaneous and out-of-order deliveries
all end in the same place. A payment whose amount or currency differs from the order puts it
on hold and alerts the orders desk.
"""

from __future__ import annotations

from contextlib import suppress

from shop import clock
from shop.accounts.models import User
from shop.core.db import unit_of_work
from shop.core.pricing import percent
from shop.errors import IdempotencyConflict, InvalidTransition, PaymentUnavailable
from shop.ordering.mail import alert_desk, email_payment_failed, email_payment_received
from shop.ordering.models import CancelCause, Order, OrderStatus
from shop.ordering.orders import cancel_in_transaction, invoice_if_sold, move, note_event, order_by_number, recorded
from shop.payments import gateway as stripe_gateway
from shop.payments.gateway import CheckoutSession, LineItem
from shop.payments.webhook import checkout_session_event
from shop.urls import external_url

SETTLED = frozenset(
    {OrderStatus.PAID, OrderStatus.PROCESSING, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.REFUNDED}
)


def line_items(order: Order) -> list[LineItem]:
    """What the Stripe page lists: every line, then shipping and tax, adding up to the total."""
    items = [
        LineItem(
            name=f"{line.product_name}, {line.variant_label} ({line.sku})",
            unit_amount=line.unit_price_cents,
            quantity=line.quantity,
        )
        for line in order.lines
    ]
    if order.shipping_cents:
        items.append(LineItem(name="Shipping", unit_amount=order.shipping_cents, quantity=1))
    if order.tax_cents:
        items.append(LineItem(name=f"Tax ({percent(order.tax_rate_bps)}%)", unit_amount=order.tax_cents, quantity=1))
    return items


def start_card_payment(order: Order, actor: User) -> str | None:
    """The Stripe page where the clinician pays for `order`; None if Stripe already has the money.

    Reuses an open session. A new session (with a new idempotency key) is made only when the
    previous one expired or its payment failed; a retry after Stripe failed keeps the key, so a
    session created by a request that timed out here is the one returned. Raises
    InvalidTransition while the bank is still confirming a payment, and PaymentUnavailable
    when Stripe cannot be reached; the order then stays awaiting payment with the error noted,
    and the clinician can try again."""
    if not order.is_awaiting_card_payment:
        raise InvalidTransition(f"Order {order.number} is not waiting for a card payment.")
    failure = None
    with unit_of_work():
        try:
            return _payment_page(order)
        except PaymentUnavailable as error:
            # Kept, with the attempt it was, so that trying again reuses its idempotency key.
            failure = error
            order.payment_error = error.message
            note_event(order, actor, "payment_unavailable", "Stripe could not be reached; the clinician can try again.")
    raise failure


def _payment_page(order: Order) -> str | None:
    if order.stripe_session_id:
        current = stripe_gateway.retrieve_checkout_session(order.stripe_session_id)
        if current.status == "open" and current.url:
            return current.url
        if current.is_paid:
            apply_session(current, source="the payment page")
            return None
        if current.status == "complete" and not recorded(order, "payment_failed", current.id):
            raise InvalidTransition(
                f"Your bank is still confirming the payment for order {order.number}. "
                "We will email you as soon as it does; there is no need to pay again."
            )
        # Expired, or its payment failed: the next attempt gets a session of its own.
        order.payment_attempt += 1
        order.stripe_session_id = None
    try:
        session = _new_session(order)
    except IdempotencyConflict:
        # That attempt's session was never shown to anyone; it expires on its own.
        order.payment_attempt += 1
        session = _new_session(order)
    order.stripe_session_id = session.id
    order.payment_error = ""
    return session.url


def _new_session(order: Order) -> CheckoutSession:
    return stripe_gateway.create_checkout_session(
        reference=order.number,
        currency=order.currency,
        items=line_items(order),
        customer_email=order.clinician_email,
        success_url=external_url("orders.payment_return", number=order.number) + "?session_id={CHECKOUT_SESSION_ID}",
        cancel_url=external_url("orders.detail", number=order.number),
        pay_by=order.pay_by,
        idempotency_key=f"{order.number}-checkout-{order.payment_attempt}",
    )


def confirm_return(order: Order, session_id: str) -> None:
    """The clinician came back from Stripe: ask Stripe how the payment went, if it is ours."""
    if not session_id or session_id != order.stripe_session_id or order.status != OrderStatus.AWAITING_PAYMENT:
        return
    session = stripe_gateway.retrieve_checkout_session(session_id)
    # InvalidTransition: the webhook recorded the verdict at the same moment.
    with suppress(InvalidTransition), unit_of_work():
        apply_session(session, source="the return from Stripe")


def apply_session(session: CheckoutSession, *, source: str) -> Order | None:
    """Record what a Checkout Session says about its order; the caller commits."""
    order = order_by_number(session.client_reference_id or "")
    if order is None:
        return None
    if session.is_paid:
        _paid(order, session, source)
    elif session.status == "expired":
        if order.status == OrderStatus.AWAITING_PAYMENT and order.stripe_session_id == session.id:
            cancel_in_transaction(
                order, None, "The payment page expired before the payment was made.", CancelCause.STRIPE_EXPIRED
            )
    elif (
        session.status == "complete"
        and order.status == OrderStatus.AWAITING_PAYMENT
        and not recorded(order, "payment_pending", session.id)
    ):
        note_event(order, None, "payment_pending", f"The bank is confirming the payment (session {session.id}).")
    return order


def _paid(order: Order, session: CheckoutSession, source: str) -> None:
    now = clock.now()
    if session.id != order.stripe_session_id or session.order_number != order.number:
        _unknown_payment(order, session)
        return
    if order.status in SETTLED or (order.status == OrderStatus.ON_HOLD and order.paid_at is not None):
        return  # the same payment, told again
    if order.status == OrderStatus.CANCELLED:
        if not recorded(order, "paid_after_cancellation", session.id):
            note_event(
                order, None, "paid_after_cancellation", f"Stripe session {session.id} was paid after cancellation."
            )
            alert_desk(order, "paid after it was cancelled; refund the payment")
        return
    if order.status != OrderStatus.AWAITING_PAYMENT:
        return
    paid = {"paid_at": now, "stripe_payment_intent": session.payment_intent, "stripe_session_id": session.id}
    if session.amount_total != order.total_cents or (session.currency or "") != order.currency.lower():
        problem = (
            f"Stripe reports {session.amount_total} {session.currency} for session {session.id}, "
            f"the order is {order.total_cents} {order.currency.lower()}"
        )
        move(order, OrderStatus.ON_HOLD, None, "payment_mismatch", problem, hold_reason=problem, **paid)
        alert_desk(order, "the payment does not match the order")
        return
    move(order, OrderStatus.PAID, None, "paid", f"Paid by card (session {session.id}, via {source}).", **paid)
    invoice_if_sold(order, None)
    email_payment_received(order)


def _unknown_payment(order: Order, session: CheckoutSession) -> None:
    """Money arrived for the order through a Checkout Session that is not the one the shop made
    for it (a second payment, or a session made elsewhere naming it): it never pays the order;
    it is recorded on it, once, and the orders desk is told to look at it in Stripe."""
    if recorded(order, "payment_unknown_session", session.id):
        return
    note_event(
        order,
        None,
        "payment_unknown_session",
        f"Stripe session {session.id} was paid ({session.amount_total} {session.currency}) naming this order, "
        "but it is not the order's payment page.",
    )
    alert_desk(order, "a payment came through a Stripe page the shop did not make for it; check it and refund it")


def _payment_failed(session: CheckoutSession) -> Order | None:
    order = order_by_number(session.client_reference_id or "")
    if order is None or order.status != OrderStatus.AWAITING_PAYMENT or order.stripe_session_id != session.id:
        return order
    order.payment_error = "Your bank did not confirm the payment. You can try again, or pick another way to pay."
    note_event(order, None, "payment_failed", f"Stripe session {session.id}: the payment failed.")
    email_payment_failed(order)
    return order


@checkout_session_event.connect
def _stripe_says(event_type: str, *, session: CheckoutSession) -> str | None:
    """A webhook event about a Checkout Session, applied to its order in the webhook's unit of
    work; returns the order's number, or None when the session is not one of the shop's.

    An "expired" event never cancels on its own word: events arrive late and out of order, so
    Stripe is asked how the session stands now (paid after all, say), and contradictory events
    end in the same state whatever their order. Raises PaymentUnavailable when Stripe cannot be
    asked: the webhook then answers 503 and Stripe delivers the event again."""
    if event_type == "checkout.session.expired":
        session = stripe_gateway.retrieve_checkout_session(session.id)
    if event_type == "checkout.session.async_payment_failed":
        order = _payment_failed(session)
    else:
        order = apply_session(session, source="the Stripe webhook")
    return order.number if order else None
