"""What the orders desk can do next comes from the order itself (`Order.available_actions`,
derived from the one transition table): the desk's page offers exactly those steps in every
state an order can be in, and every other step is refused with a message and changes nothing."""

from __future__ import annotations

import re

import pytest

from shop import clock
from shop.extensions import db
from shop.ordering import orders
from shop.ordering.models import Order, OrderAction, OrderStatus, PaymentMethod
from tests.factories import clinician_with_cart, make_staff, make_variant, place_order, ship_order
from tests.helpers import flashes, reload

A = OrderAction
FIELDS = {
    A.CONFIRM: {},
    A.SHIP: {"carrier": "DHL", "tracking_number": "JD014600001"},
    A.DELIVER: {},
    A.RELEASE: {"note": "Checked the payment in Stripe."},
    A.CANCEL: {"reason": "The clinic asked us to cancel."},
    A.REFUND: {"note": "Refund re_1 / credit note CN-1."},
    A.INVOICE: {},
}


def _paid(order: Order) -> None:
    orders.move(order, OrderStatus.PAID, None, "paid", "Paid by card.", paid_at=clock.now())
    orders.invoice_if_sold(order, None)


def _sold_before_invoices(order: Order) -> None:
    """Confirmed before the shop kept invoices: being prepared, with none."""
    orders.move(order, OrderStatus.PROCESSING, None, "confirmed", "Confirmed by the orders desk.")


def _held(order: Order) -> None:
    problem = "Paid 1.00 less."
    orders.move(order, OrderStatus.ON_HOLD, None, "payment_mismatch", problem, hold_reason=problem, paid_at=clock.now())


def _paid_after_cancellation(order: Order) -> None:
    orders.note_event(order, None, "paid_after_cancellation", "Stripe session cs_1 was paid after cancellation.")


# How each order got where it is (the desk's own steps, or Stripe's verdict), and what the desk
# may do with it there.
STATES = {
    "placed on account": (PaymentMethod.ACCOUNT, [], {A.CONFIRM, A.CANCEL}),
    "being prepared": (PaymentMethod.ACCOUNT, [A.CONFIRM], {A.SHIP, A.CANCEL}),
    "shipped on account": (PaymentMethod.ACCOUNT, [A.CONFIRM, A.SHIP], {A.DELIVER, A.REFUND}),
    "delivered and invoiced": (PaymentMethod.ACCOUNT, [A.CONFIRM, A.SHIP, A.DELIVER], {A.REFUND}),
    "sold before invoices were kept": (PaymentMethod.ACCOUNT, [_sold_before_invoices], {A.SHIP, A.CANCEL, A.INVOICE}),
    "cancelled on account": (PaymentMethod.ACCOUNT, [A.CANCEL], set()),
    "awaiting a card payment": (PaymentMethod.CARD, [], {A.CANCEL}),
    "paid by card": (PaymentMethod.CARD, [_paid], {A.CONFIRM, A.CANCEL, A.REFUND}),
    "held for a payment that does not match": (PaymentMethod.CARD, [_held], {A.RELEASE, A.CANCEL, A.REFUND}),
    "paid, then cancelled": (PaymentMethod.CARD, [_paid, A.CANCEL], {A.REFUND}),
    "cancelled, then paid at Stripe": (PaymentMethod.CARD, [A.CANCEL, _paid_after_cancellation], {A.REFUND}),
    "refunded": (PaymentMethod.CARD, [_paid, A.REFUND], set()),
}


def _offered(html: str, number: str) -> set[OrderAction]:
    """The steps the page posts, and packing, which opens its own page."""
    posted = {OrderAction(name) for name in re.findall(rf'action="/staff/orders/{number}/(\w+)"', html)}
    return posted | ({A.SHIP} if f'href="/staff/orders/{number}/ship"' in html else set())


def _state(order_id: int) -> tuple:
    order = reload(Order, order_id)
    return order.status, order.invoice.number if order.invoice else None, order.carrier, len(order.events)


@pytest.fixture
def desk(signed_in):
    member = make_staff(full_name="Siobhan Daly")
    return signed_in(member), member


@pytest.mark.parametrize("state", STATES, ids=list(STATES))
def test_the_desk_is_offered_exactly_the_steps_the_order_allows_and_the_others_are_refused(desk, state):
    method, steps, allowed = STATES[state]
    browser, staff = desk
    make_variant("VIT-1", stock=20)
    order = place_order(clinician_with_cart(("VIT-1", 2), on_account=method == PaymentMethod.ACCOUNT), method=method)
    for step in steps:
        if callable(step):
            step(reload(Order, order.id))
            db.session.commit()
        elif step == A.SHIP:  # packing has its own page (tests/web/test_packing.py)
            ship_order(reload(Order, order.id), staff)
        else:
            assert browser.post(f"/staff/orders/{order.number}/{step}", FIELDS[step]).status_code == 303
    order = reload(Order, order.id)

    assert order.available_actions() == allowed
    assert _offered(browser.get(f"/staff/orders/{order.number}").get_data(as_text=True), order.number) == allowed

    for action in set(OrderAction) - allowed:
        before = _state(order.id)
        browser.post(f"/staff/orders/{order.number}/{action}", FIELDS[action])
        shown = flashes(browser.get(f"/staff/orders/{order.number}"))
        assert [kind for kind, _ in shown if kind in ("error", "success")] == ["error"], (action, shown)
        assert _state(order.id) == before, action


def test_a_refund_of_an_order_sent_on_account_is_a_credit_that_frees_the_practices_credit(desk):
    browser, staff = desk
    make_variant("VIT-1", price_cents=10_000, stock=20)
    user = clinician_with_cart(("VIT-1", 2), on_account=True)
    order = place_order(user)
    orders.confirm(order, staff)
    ship_order(reload(Order, order.id), staff, "DHL", "JD1")

    shown = flashes(browser.get(f"/staff/orders/{order.number}"))
    page = browser.get(f"/staff/orders/{order.number}").get_data(as_text=True)
    assert shown == [] and "How the money was returned" in page

    browser.post(f"/staff/orders/{order.number}/refund", {"note": "Credit note CN-7."})

    assert reload(Order, order.id).status == OrderStatus.REFUNDED
    assert A.INVOICE not in reload(Order, order.id).available_actions()
