"""Stripe's webhook events, each applied exactly once.

The events arrive signature-checked (shop.payments.gateway.parse_webhook); each is recorded in
`stripe_events` by its id, so one delivered twice, even at the same moment, is applied once.
What a Checkout Session event means for an order is ordering's business: it is told through
the `checkout_session_event` signal, in the same unit of work as the event's row.
"""

from __future__ import annotations

from contextlib import suppress

from blinker import Namespace
from sqlalchemy.exc import IntegrityError

from shop import clock
from shop.core.db import unit_of_work
from shop.errors import EventAlreadyReceived, EventRaced, InvalidTransition
from shop.extensions import db
from shop.payments import gateway
from shop.payments.models import StripeEvent

# Sent with the event's type as the sender and its Checkout Session as `session`; a receiver
# returns the number of the order it applied the event to, or None when it is not one of its.
checkout_session_event = Namespace().signal("stripe-checkout-session-event")

HANDLED_EVENTS = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "checkout.session.expired",
    }
)
RACE_ATTEMPTS = 3


def handle_event(event: dict) -> str:
    """Apply one verified webhook event exactly once; returns what happened, for the log.

    When someone else changes the order at the same moment (the clinician's return, the desk
    or the timer cancelling it), the event is rolled back and applied again to the order as it
    now stands, so a payment that lands on a just-cancelled order is still recorded and the
    desk alerted. Raises EventRaced if that keeps happening: Stripe then delivers it again."""
    for _ in range(RACE_ATTEMPTS):
        with suppress(InvalidTransition):
            return _apply_event(event)
    raise EventRaced(f"Stripe event {event['id']} kept racing other changes of its order.")


def _apply_event(event: dict) -> str:
    if db.session.get(StripeEvent, event["id"]) is not None:
        return "duplicate"
    try:
        with unit_of_work():
            row = StripeEvent(id=event["id"][:255], type=event["type"][:80], received_at=clock.now())
            db.session.add(row)
            try:
                db.session.flush()  # the same event delivered twice at this moment stops here
            except IntegrityError:
                raise EventAlreadyReceived(event["id"]) from None
            row.outcome, row.order_number = _apply(event)
            return row.outcome
    except EventAlreadyReceived:
        return "duplicate"


def _apply(event: dict) -> tuple[str, str]:
    """What the event meant: (outcome, the number of the order it was applied to)."""
    session = gateway.session_in_event(event) if event["type"] in HANDLED_EVENTS else None
    if session is None:
        return "ignored", ""
    numbers = [number for _, number in checkout_session_event.send(event["type"], session=session) if number]
    return ("applied", numbers[0]) if numbers else ("unknown order", "")
