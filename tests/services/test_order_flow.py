"""An order's life after it is placed: the desk confirms, ships, delivers, cancels, releases,
refunds and settles it; each step is an event row with who and when; a step the status flow
does not allow is refused and changes nothing; cancelling restocks exactly once; unpaid card
orders are cancelled by `expire-orders` once their time is up."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from shop import clock
from shop.core.outbox import OutboxMessage
from shop.errors import InvalidTransition, NotEligible
from shop.extensions import db
from shop.ordering import orders
from shop.ordering.history import OrderEvent
from shop.ordering.models import ORDER_TRANSITIONS, CancelCause, Order, OrderStatus, PaymentMethod
from tests.factories import clinician_with_cart, make_staff, make_variant, place_order, ship_order
from tests.helpers import reload, row_count, stock_of


@pytest.fixture
def desk(ctx):
    return make_staff(full_name="Siobhan Daly")


def _events(order_id: int) -> list[tuple]:
    db.session.expire_all()
    rows = db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id))
    return [(e.action, e.from_status, e.to_status, e.actor_id) for e in rows]


def _order_on_account(sku: str = "VIT-1", quantity: int = 2) -> Order:
    user = clinician_with_cart((sku, quantity))
    return place_order(user)


def _card_order(sku: str = "VIT-1", quantity: int = 2) -> Order:
    user = clinician_with_cart((sku, quantity), on_account=False)
    return place_order(user, method=PaymentMethod.CARD)


def _mail_kinds() -> list[str]:
    return list(db.session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)))


# --- the normal flow ------------------------------------------------------------------------


def test_the_desk_takes_an_order_from_placed_to_delivered_and_each_step_records_who_and_when(ctx, desk):
    make_variant("VIT-1")
    order = _order_on_account()
    clinician_id = order.placed_by_id
    moments = []

    with time_machine.travel(clock.now(), tick=False) as traveller:
        for step in (
            lambda o: orders.confirm(o, desk),
            lambda o: ship_order(o, desk, "DHL Express", "JD014600003SE"),
            lambda o: orders.deliver(o, desk),
        ):
            traveller.shift(timedelta(hours=5))
            moments.append(clock.now())
            step(reload(Order, order.id))

    order = reload(Order, order.id)
    assert order.status == OrderStatus.DELIVERED
    assert (order.carrier, order.tracking_number) == ("DHL Express", "JD014600003SE")
    assert _events(order.id) == [
        ("placed", None, "placed", clinician_id),
        ("confirmed", "placed", "processing", desk.id),
        ("invoiced", "processing", "processing", desk.id),
        ("parcel_shipped", "processing", "processing", desk.id),
        ("shipped", "processing", "shipped", desk.id),
        ("delivered", "shipped", "delivered", desk.id),
    ]
    steps = [e for e in order.events if e.action not in ("invoiced", "parcel_shipped")]
    assert [e.created_at for e in steps[1:]] == moments
    assert "DHL Express" in steps[2].note and "JD014600003SE" in steps[2].note


def test_shipping_needs_both_the_carrier_and_the_tracking_number(ctx, desk):
    make_variant("VIT-1")
    order = _order_on_account()
    orders.confirm(order, desk)

    for carrier, tracking, field in (("", "JD01", "carrier"), ("DHL", "  ", "tracking_number")):
        with pytest.raises(NotEligible) as refused:
            ship_order(reload(Order, order.id), desk, carrier, tracking)
        assert refused.value.field == field
        db.session.rollback()

    order = reload(Order, order.id)
    assert order.status == OrderStatus.PROCESSING and order.tracking_number == ""
    assert [e[0] for e in _events(order.id)] == ["placed", "confirmed", "invoiced"]


def test_the_clinician_is_emailed_when_the_order_ships(ctx, desk):
    make_variant("VIT-1")
    order = _order_on_account()
    orders.confirm(order, desk)
    before = _mail_kinds()

    ship_order(reload(Order, order.id), desk, "An Post", "CE123456789IE")

    assert _mail_kinds()[len(before) :] == ["order.shipped"]


# --- refused steps --------------------------------------------------------------------------


STEPS = {
    "confirm": lambda order, desk: orders.confirm(order, desk),
    "ship": lambda order, desk: ship_order(order, desk, "DHL", "JD1"),
    "deliver": lambda order, desk: orders.deliver(order, desk),
    "cancel": lambda order, desk: orders.cancel(order, desk, "Asked by the clinician.", CancelCause.STAFF),
}


def _advance(order: Order, desk, *steps: str) -> Order:
    for step in steps:
        STEPS[step](reload(Order, order.id), desk)
    return reload(Order, order.id)


ILLEGAL = {
    "ship a placed order": ((), lambda o, d: ship_order(o, d, "DHL", "JD1")),
    "deliver a processing order": (("confirm",), lambda o, d: orders.deliver(o, d)),
    "deliver a placed order": ((), lambda o, d: orders.deliver(o, d)),
    "cancel a shipped order": (("confirm", "ship"), lambda o, d: orders.cancel(o, d, "Too late.", CancelCause.STAFF)),
    "cancel a delivered order": (
        ("confirm", "ship", "deliver"),
        lambda o, d: orders.cancel(o, d, "Too late.", CancelCause.STAFF),
    ),
    "cancel a cancelled order": (("cancel",), lambda o, d: orders.cancel(o, d, "Again.", CancelCause.STAFF)),
    "confirm twice": (("confirm",), lambda o, d: orders.confirm(o, d)),
    "confirm a cancelled order": (("cancel",), lambda o, d: orders.confirm(o, d)),
    "ship twice": (("confirm", "ship"), lambda o, d: ship_order(o, d, "UPS", "1Z999")),
    "release an order that is not on hold": ((), lambda o, d: orders.release_hold(o, d, "Checked.")),
    "refund an unpaid order on account": ((), lambda o, d: orders.mark_refunded(o, d, "CN-1")),
    "invoice a cancelled order": (("cancel",), lambda o, d: orders.issue_invoice(o, d)),
    "invoice an order that has its invoice": (("confirm",), lambda o, d: orders.issue_invoice(o, d)),
}


@pytest.mark.parametrize("case", ILLEGAL, ids=list(ILLEGAL))
def test_a_step_the_status_flow_does_not_allow_is_refused_and_changes_nothing(ctx, desk, case):
    setup, step = ILLEGAL[case]
    make_variant("VIT-1", stock=10)
    order = _advance(_order_on_account(), desk, *setup)
    before = (order.status, _events(order.id), stock_of("VIT-1"), _mail_kinds(), order.carrier, order.tracking_number)

    with pytest.raises(InvalidTransition) as refused:
        step(order, desk)
    db.session.rollback()

    assert order.number in refused.value.message
    order = reload(Order, order.id)
    after = (order.status, _events(order.id), stock_of("VIT-1"), _mail_kinds(), order.carrier, order.tracking_number)
    assert after == before


def test_confirming_a_card_order_before_it_is_paid_is_refused(ctx, desk):
    make_variant("VIT-1")
    order = _card_order()

    with pytest.raises(InvalidTransition):
        orders.confirm(order, desk)
    db.session.rollback()

    assert reload(Order, order.id).status == OrderStatus.AWAITING_PAYMENT


def test_confirming_an_order_on_account_invoices_it_once_and_notes_it(ctx, desk):
    make_variant("VIT-1", stock=10)
    order = _order_on_account(quantity=1)

    orders.confirm(order, desk)

    order = reload(Order, order.id)
    assert order.invoice is not None and order.invoice.total_cents == order.total_cents
    assert [(e.action, e.actor_id) for e in order.events] == [
        ("placed", order.placed_by_id),
        ("confirmed", desk.id),
        ("invoiced", desk.id),
    ]
    with pytest.raises(InvalidTransition):
        orders.issue_invoice(order, desk)
    db.session.rollback()


def test_the_transition_table_never_leads_out_of_refunded_and_never_back_to_placed_from_shipped():
    assert ORDER_TRANSITIONS[OrderStatus.REFUNDED] == frozenset()
    assert OrderStatus.PLACED not in ORDER_TRANSITIONS[OrderStatus.SHIPPED]
    assert OrderStatus.CANCELLED not in ORDER_TRANSITIONS[OrderStatus.SHIPPED]


# --- cancelling and restocking ---------------------------------------------------------------


def test_cancelling_needs_a_reason_the_clinician_will_read(ctx, desk):
    make_variant("VIT-1", stock=10)
    order = _order_on_account()

    with pytest.raises(NotEligible) as refused:
        orders.cancel(order, desk, "   ", CancelCause.STAFF)
    db.session.rollback()

    assert refused.value.field == "reason"
    assert reload(Order, order.id).status == OrderStatus.PLACED
    assert stock_of("VIT-1") == 8


def test_cancelling_puts_the_stock_back_exactly_once(ctx, desk):
    make_variant("VIT-1", stock=10)
    make_variant("HYD-1", stock=4)
    user = clinician_with_cart(("VIT-1", 3), ("HYD-1", 4))
    order = place_order(user)
    assert (stock_of("VIT-1"), stock_of("HYD-1")) == (7, 0)

    orders.cancel(order, desk, "The clinic closed for renovation.", CancelCause.STAFF)
    assert (stock_of("VIT-1"), stock_of("HYD-1")) == (10, 4)

    with pytest.raises(InvalidTransition):
        orders.cancel(reload(Order, order.id), desk, "Once more.", CancelCause.STAFF)
    db.session.rollback()
    assert orders.release_stock(reload(Order, order.id), "Cancelled") is False
    db.session.commit()

    order = reload(Order, order.id)
    assert (stock_of("VIT-1"), stock_of("HYD-1")) == (10, 4)
    assert order.status == OrderStatus.CANCELLED
    assert order.cancel_reason == "The clinic closed for renovation."
    assert order.stock_released_at is not None
    assert [(e.action, e.to_status, e.actor_id, e.note) for e in order.events][-1] == (
        "cancelled",
        "cancelled",
        desk.id,
        "The clinic closed for renovation.",
    )
    assert _mail_kinds()[-2:] == ["order.cancelled", "order.cancelled.desk"]


def test_cancelling_an_order_in_processing_restocks_it(ctx, desk):
    make_variant("VIT-1", stock=10)
    order = _advance(_order_on_account(), desk, "confirm")

    orders.cancel(order, desk, "Damaged in the warehouse.", CancelCause.STAFF)

    assert stock_of("VIT-1") == 10


def test_cancelling_an_unpaid_card_order_releases_its_stock(ctx, desk):
    make_variant("VIT-1", stock=10)
    order = _card_order(quantity=4)
    assert stock_of("VIT-1") == 6

    orders.cancel(order, desk, "The clinician asked us to cancel.", CancelCause.STAFF)

    assert stock_of("VIT-1") == 10
    assert reload(Order, order.id).status == OrderStatus.CANCELLED


def test_a_refund_after_shipping_does_not_put_shipped_goods_back_in_stock(ctx, desk):
    make_variant("VIT-1", stock=10)
    order = _advance(_card_order(), desk)
    orders.move(order, OrderStatus.PAID, None, "paid", "Paid by card.")
    db.session.commit()
    order = _advance(order, desk, "confirm", "ship")

    orders.mark_refunded(order, desk, "re_3PXYZ refunded in Stripe")

    assert reload(Order, order.id).status == OrderStatus.REFUNDED
    assert stock_of("VIT-1") == 8


def test_a_refund_of_a_paid_order_that_never_left_restocks_it_once(ctx, desk):
    make_variant("VIT-1", stock=10)
    order = _card_order()
    orders.move(order, OrderStatus.PAID, None, "paid", "Paid by card.")
    db.session.commit()

    with pytest.raises(NotEligible):
        orders.mark_refunded(reload(Order, order.id), desk, "")
    db.session.rollback()
    orders.mark_refunded(reload(Order, order.id), desk, "re_3PXYZ refunded in Stripe")

    assert stock_of("VIT-1") == 10
    assert _events(order.id)[-1] == ("refunded", "paid", "refunded", desk.id)


def test_a_held_order_is_released_to_processing_with_a_note_of_what_was_checked(ctx, desk):
    make_variant("VIT-1")
    order = _card_order()
    orders.move(order, OrderStatus.ON_HOLD, None, "payment_mismatch", "Paid 1.00 less.", hold_reason="Paid 1.00 less.")
    db.session.commit()

    with pytest.raises(InvalidTransition):
        orders.confirm(reload(Order, order.id), desk)
    db.session.rollback()
    with pytest.raises(NotEligible):
        orders.release_hold(reload(Order, order.id), desk, " ")
    db.session.rollback()
    orders.release_hold(reload(Order, order.id), desk, "Difference paid by bank transfer.")

    order = reload(Order, order.id)
    assert order.status == OrderStatus.PROCESSING and order.hold_reason == ""
    assert _events(order.id)[-1] == ("hold_released", "on_hold", "processing", desk.id)


# --- unpaid card orders run out of time ----------------------------------------------------------


def test_expire_orders_cancels_card_orders_unpaid_past_their_time_and_restocks_them_once(ctx, cli):
    make_variant("VIT-1", stock=10)
    late = _card_order(quantity=3)
    on_account = _order_on_account(quantity=2)
    assert stock_of("VIT-1") == 5
    minutes = ctx.config["ORDER_PAYMENT_MINUTES"]

    with time_machine.travel(late.placed_at + timedelta(minutes=minutes - 1), tick=False):
        early = _card_order(quantity=1)  # placed later, so still within its time
        result = cli("expire-orders")
        assert result.exit_code == 0 and "0 unpaid orders cancelled" in result.output
        assert stock_of("VIT-1") == 4

    with time_machine.travel(late.placed_at + timedelta(minutes=minutes, seconds=1), tick=False):
        first = cli("expire-orders")
        second = cli("expire-orders")

    assert "1 unpaid order cancelled" in first.output
    assert "0 unpaid orders cancelled" in second.output
    assert stock_of("VIT-1") == 7
    assert reload(Order, late.id).status == OrderStatus.CANCELLED
    assert reload(Order, late.id).cancel_reason == "Payment was not completed in time."
    assert reload(Order, early.id).status == OrderStatus.AWAITING_PAYMENT
    assert reload(Order, on_account.id).status == OrderStatus.PLACED
    cancelled = [e for e in reload(Order, late.id).events if e.action == "cancelled"]
    assert len(cancelled) == 1 and cancelled[0].actor_id is None
    assert row_count(OutboxMessage) > 0 and "order.cancelled" in _mail_kinds()


def test_an_order_paid_before_expiry_runs_is_not_cancelled(ctx, cli):
    make_variant("VIT-1", stock=10)
    order = _card_order()
    orders.move(order, OrderStatus.PAID, None, "paid", "Paid by card.")
    db.session.commit()

    with time_machine.travel(clock.now() + timedelta(days=1), tick=False):
        assert "0 unpaid orders cancelled" in cli("expire-orders").output

    assert reload(Order, order.id).status == OrderStatus.PAID
    assert stock_of("VIT-1") == 8
