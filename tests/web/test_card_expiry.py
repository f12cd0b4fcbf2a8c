"""An unpaid card order ends: Stripe reports its session expired, or its time to pay
(ORDER_PAYMENT_MINUTES) runs out and `flask expire-orders` cancels it. Either way the stock
comes back exactly once and the clinician is told; a payment that arrives too late is flagged
to the desk."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from shop.accounts.models import User
from shop.core.mailer import deliver_due
from shop.extensions import db
from shop.ordering import orders
from shop.ordering.models import CancelCause, Order, OrderStatus
from shop.ordering.orders import cancel_unpaid_orders
from shop.payments import webhook
from tests.factories import CARD_STOCK, make_staff, place_card_order
from tests.helpers import order_events, post_event, run_out_the_clock, text
from tests.smtp import text_of


def _cancellation_mails(mailbox, placed) -> list:
    return [m for m in mailbox.to(placed.clinician.email) if m["Subject"].startswith("Your order was cancelled")]


def test_stripe_reporting_the_session_expired_cancels_the_order_releases_its_stock_and_tells_the_clinician(
    signed_in, stripe, client, mailbox, settled
):
    placed = place_card_order(signed_in, quantity=3)
    settled()
    assert placed.stock() == CARD_STOCK - 3

    reply = post_event(client, stripe, "checkout.session.expired", stripe.expire(placed.order.stripe_session_id))

    assert reply.status_code == 200
    order = placed.order
    assert order.status == OrderStatus.CANCELLED and order.stock_released_at is not None
    assert "expired" in order.cancel_reason
    assert placed.stock() == CARD_STOCK
    deliver_due()
    mails = _cancellation_mails(mailbox, placed)
    assert len(mails) == 1 and placed.number in mails[0]["Subject"] and "expired" in text_of(mails[0])


def test_expire_orders_cancels_a_card_order_left_unpaid_past_its_time_once(
    signed_in, stripe, app, cli, mailbox, settled, monkeypatch
):
    monkeypatch.setitem(app.config, "ORDER_PAYMENT_MINUTES", 45)
    placed = place_card_order(signed_in, quantity=4)
    settled()
    order = placed.order
    assert order.pay_by - order.placed_at == timedelta(minutes=45)

    early = cli("expire-orders")
    assert early.exit_code == 0 and "0 unpaid orders cancelled" in early.output
    assert placed.order.status == OrderStatus.AWAITING_PAYMENT and placed.stock() == CARD_STOCK - 4

    run_out_the_clock(placed.number)
    first = cli("expire-orders")
    second = cli("expire-orders")

    assert first.exit_code == 0 and "1 unpaid order cancelled" in first.output
    assert second.exit_code == 0 and "0 unpaid orders cancelled" in second.output
    assert placed.order.status == OrderStatus.CANCELLED
    assert placed.stock() == CARD_STOCK
    assert len(order_events(placed.number, "cancelled")) == 1
    # The Stripe page is closed too, so nobody can pay for the cancelled order.
    assert stripe.session(order.stripe_session_id)["status"] == "expired"
    deliver_due()
    mails = _cancellation_mails(mailbox, placed)
    assert len(mails) == 1 and "not completed in time" in text_of(mails[0])


@pytest.mark.parametrize("first", ["timer", "webhook"])
def test_the_timer_and_the_expired_webhook_together_release_the_stock_once(
    signed_in, stripe, client, cli, mailbox, settled, first
):
    placed = place_card_order(signed_in, quantity=2)
    settled()
    session_id = placed.order.stripe_session_id
    run_out_the_clock(placed.number)

    def timer():
        assert cli("expire-orders").exit_code == 0

    def webhook():
        assert post_event(client, stripe, "checkout.session.expired", stripe.expire(session_id)).status_code == 200

    for step in (timer, webhook) if first == "timer" else (webhook, timer):
        step()

    assert placed.order.status == OrderStatus.CANCELLED
    assert placed.stock() == CARD_STOCK
    assert len(order_events(placed.number, "cancelled")) == 1
    deliver_due()
    assert len(_cancellation_mails(mailbox, placed)) == 1


def test_expiry_from_many_threads_at_once_releases_the_stock_once(signed_in, stripe, app, mailbox, settled):
    placed = place_card_order(signed_in, quantity=2)
    still_in_time = place_card_order(signed_in, quantity=1)
    settled()
    run_out_the_clock(placed.number)
    expired = stripe.expire(placed.order.stripe_session_id)
    gate = threading.Barrier(8)
    outcomes: list = []

    def timer():
        with app.app_context():
            gate.wait()
            try:
                outcomes.append(("timer", cancel_unpaid_orders()))
            except Exception as error:  # noqa: BLE001 - reported by the assertion below
                outcomes.append(("timer", error))

    def webhook():
        client = app.test_client()
        payload = stripe.event("checkout.session.expired", expired)
        gate.wait()
        outcomes.append(("webhook", client.post("/stripe/webhook", data=payload, headers=stripe.signed(payload))))

    threads = [threading.Thread(target=timer) for _ in range(4)] + [threading.Thread(target=webhook) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(outcomes) == 8
    assert all(isinstance(result, int) for kind, result in outcomes if kind == "timer"), outcomes
    assert all(result.status_code == 200 for kind, result in outcomes if kind == "webhook")
    assert sum(result for kind, result in outcomes if kind == "timer") <= 1
    assert placed.order.status == OrderStatus.CANCELLED
    assert placed.stock() == CARD_STOCK
    assert len(order_events(placed.number, "cancelled")) == 1
    assert still_in_time.order.status == OrderStatus.AWAITING_PAYMENT
    assert still_in_time.stock() == CARD_STOCK - 1
    deliver_due()
    assert len(_cancellation_mails(mailbox, placed)) == 1
    assert _cancellation_mails(mailbox, still_in_time) == []


def test_the_expired_session_of_a_superseded_attempt_does_not_cancel_the_order(
    signed_in, stripe, client, mailbox, settled
):
    placed = place_card_order(signed_in, quantity=2)
    settled()
    old = placed.order.stripe_session_id
    stripe.expire(old)
    placed.browser.post(f"/orders/{placed.number}/pay")  # a new attempt, a new session
    new = placed.order.stripe_session_id
    assert new != old

    reply = post_event(client, stripe, "checkout.session.expired", stripe.session(old))

    assert reply.status_code == 200
    assert placed.order.status == OrderStatus.AWAITING_PAYMENT
    assert placed.stock() == CARD_STOCK - 2
    post_event(client, stripe, "checkout.session.completed", stripe.pay(new))
    assert placed.order.status == OrderStatus.PAID
    deliver_due()
    assert _cancellation_mails(mailbox, placed) == []


def test_a_page_paid_just_as_the_time_runs_out_is_not_cancelled_but_marked_paid(
    signed_in, stripe, client, cli, settled
):
    placed = place_card_order(signed_in, quantity=2)
    settled()
    # The clinician pays at the very moment the time to pay runs out, before Stripe's webhook.
    paid = stripe.pay(placed.order.stripe_session_id)
    run_out_the_clock(placed.number)

    assert "0 unpaid orders cancelled" in cli("expire-orders").output
    assert placed.order.status == OrderStatus.AWAITING_PAYMENT
    assert placed.stock() == CARD_STOCK - 2
    post_event(client, stripe, "checkout.session.completed", paid)
    assert placed.order.status == OrderStatus.PAID and placed.stock() == CARD_STOCK - 2
    assert order_events(placed.number, "cancelled") == []


def test_the_timer_closes_the_stripe_page_before_it_cancels(signed_in, stripe, cli, settled):
    placed = place_card_order(signed_in, quantity=2)
    settled()
    session_id = placed.order.stripe_session_id
    run_out_the_clock(placed.number)

    assert "1 unpaid order cancelled" in cli("expire-orders").output
    assert stripe.session(session_id)["status"] == "expired"
    assert placed.order.status == OrderStatus.CANCELLED and placed.stock() == CARD_STOCK


def test_a_payment_completed_after_the_timer_cancelled_the_order_alerts_the_desk_and_it_stays_cancelled(
    signed_in, stripe, client, cli, app, mailbox, settled
):
    placed = place_card_order(signed_in, quantity=2)
    settled()
    paid = stripe.pay(placed.order.stripe_session_id)
    run_out_the_clock(placed.number)
    # Stripe cannot be reached when the timer runs (closing the page and reading it, each
    # tried twice), so the order is cancelled without knowing it was paid a moment before.
    stripe.fail_next(500, times=4)
    assert "1 unpaid order cancelled" in cli("expire-orders").output

    late = post_event(client, stripe, "checkout.session.completed", paid)
    post_event(client, stripe, "checkout.session.completed", paid)  # Stripe tries again
    placed.browser.get(f"/orders/{placed.number}/return?session_id={paid['id']}")

    assert late.status_code == 200
    order = placed.order
    assert order.status == OrderStatus.CANCELLED and order.paid_at is None
    assert placed.stock() == CARD_STOCK
    assert len(order_events(placed.number, "paid_after_cancellation")) == 1
    deliver_due()
    alerts = [m for m in mailbox.to(app.config["ORDERS_DESK_EMAIL"]) if "NEEDS ATTENTION" in m["Subject"]]
    assert len(alerts) == 1 and placed.number in alerts[0]["Subject"] and "refund" in alerts[0]["Subject"]
    assert not any(m["Subject"].startswith("Payment received") for m in mailbox.to(placed.clinician.email))
    page = text(signed_in(make_staff()).get(f"/staff/orders/{placed.number}"))
    assert "Refund due: this order was cancelled and a card payment for it was received." in page
    assert "Mark refunded" in page


def test_a_payment_landing_as_the_order_is_cancelled_elsewhere_is_still_recorded_and_the_desk_alerted(
    signed_in, stripe, app, mailbox, settled
):
    placed = place_card_order(signed_in, quantity=2)
    settled()
    paid = stripe.pay(placed.order.stripe_session_id)
    # The webhook's request has read the order as awaiting payment...
    order = placed.order
    assert order.status == OrderStatus.AWAITING_PAYMENT

    # ...when the timer, in its own connection, cancels it (Stripe was out of its reach).
    def timer():
        with app.app_context():
            try:
                orders.cancel_in_transaction(
                    db.session.get(Order, order.id),
                    None,
                    "Payment was not completed in time.",
                    CancelCause.PAYMENT_LAPSED,
                )
                db.session.commit()
            finally:
                db.session.remove()

    thread = threading.Thread(target=timer)
    thread.start()
    thread.join(timeout=30)
    assert order.status == OrderStatus.AWAITING_PAYMENT  # what the webhook read is out of date

    outcome = webhook.handle_event(json.loads(stripe.event("checkout.session.completed", paid)))

    assert outcome == "applied"
    assert placed.order.status == OrderStatus.CANCELLED and placed.stock() == CARD_STOCK
    assert len(order_events(placed.number, "paid_after_cancellation")) == 1
    deliver_due()
    alerts = [m for m in mailbox.to(app.config["ORDERS_DESK_EMAIL"]) if "NEEDS ATTENTION" in m["Subject"]]
    assert len(alerts) == 1 and placed.number in alerts[0]["Subject"]


def test_an_order_whose_bank_is_still_confirming_the_payment_is_not_cancelled_until_the_bank_says_no(
    signed_in, stripe, client, cli, settled
):
    placed = place_card_order(signed_in, quantity=2)
    settled()
    session = stripe.pay(placed.order.stripe_session_id, pending=True)  # e.g. a bank debit
    post_event(client, stripe, "checkout.session.completed", session)
    run_out_the_clock(placed.number)

    assert "0 unpaid orders cancelled" in cli("expire-orders").output
    assert placed.order.status == OrderStatus.AWAITING_PAYMENT and placed.stock() == CARD_STOCK - 2

    post_event(
        client, stripe, "checkout.session.async_payment_failed", stripe.settle_async(session["id"], succeeded=False)
    )
    assert "1 unpaid order cancelled" in cli("expire-orders").output
    assert placed.order.status == OrderStatus.CANCELLED and placed.stock() == CARD_STOCK


def test_the_desk_cancelling_while_stripe_reports_the_page_expired_keeps_the_desks_reason(
    signed_in, stripe, client, app, settled
):
    placed = place_card_order(signed_in, quantity=2)
    settled()
    staff_id = make_staff().id
    session_id = placed.order.stripe_session_id
    stripe.delay_next(1.0)  # closing the page takes a moment...

    def desk():
        with app.app_context():
            try:
                order = db.session.scalar(select(Order).where(Order.number == placed.number))
                orders.cancel(order, db.session.get(User, staff_id), "The clinic closed.", CancelCause.STAFF)
            finally:
                db.session.remove()

    thread = threading.Thread(target=desk)
    thread.start()
    time.sleep(0.4)
    # ...and Stripe's "expired" event for the page being closed arrives meanwhile.
    reply = post_event(client, stripe, "checkout.session.expired", {**stripe.session(session_id), "status": "expired"})
    thread.join(timeout=30)

    assert reply.status_code == 200
    order = placed.order
    assert order.status == OrderStatus.CANCELLED and order.cancel_reason == "The clinic closed."
    [cancelled] = order_events(placed.number, "cancelled")
    assert cancelled.actor_id == staff_id
    assert placed.stock() == CARD_STOCK


def test_an_order_paid_in_time_is_left_alone_when_its_time_runs_out(signed_in, stripe, client, cli):
    placed = place_card_order(signed_in, quantity=2)
    post_event(client, stripe, "checkout.session.completed", stripe.pay(placed.order.stripe_session_id))
    run_out_the_clock(placed.number)

    result = cli("expire-orders")

    assert "0 unpaid orders cancelled" in result.output
    assert placed.order.status == OrderStatus.PAID
    assert placed.stock() == CARD_STOCK - 2


@pytest.mark.parametrize("first", ["checkout.session.expired", "checkout.session.completed"])
def test_contradictory_events_end_in_the_same_state_whatever_their_order(signed_in, stripe, client, mailbox, first):
    """Stripe says the page expired, and also that it was paid (the payment landed at the last
    second): an expired event is checked with Stripe before anything is cancelled, so the order
    ends paid either way, with its stock still taken and no cancellation mail."""
    placed = place_card_order(signed_in, quantity=2)
    session_id = placed.order.stripe_session_id
    expired = {**stripe.session(session_id), "status": "expired"}
    paid = stripe.pay(session_id)
    events = {"checkout.session.expired": expired, "checkout.session.completed": paid}
    second = next(kind for kind in events if kind != first)

    assert post_event(client, stripe, first, events[first]).status_code == 200
    assert post_event(client, stripe, second, events[second]).status_code == 200

    order = placed.order
    assert order.status == OrderStatus.PAID
    assert order_events(placed.number, "cancelled") == []
    assert placed.stock() == CARD_STOCK - 2
    deliver_due()
    assert _cancellation_mails(mailbox, placed) == []


def test_an_expired_event_that_cannot_be_checked_with_stripe_is_refused_for_stripe_to_send_again(
    signed_in, stripe, client
):
    placed = place_card_order(signed_in, quantity=2)
    expired = stripe.expire(placed.order.stripe_session_id)
    stripe.fail_next(status=500, times=2)  # the request and its one retry

    reply = post_event(client, stripe, "checkout.session.expired", expired)

    assert reply.status_code == 503
    assert placed.order.status == OrderStatus.AWAITING_PAYMENT
    assert post_event(client, stripe, "checkout.session.expired", expired).status_code == 200
    assert placed.order.status == OrderStatus.CANCELLED
