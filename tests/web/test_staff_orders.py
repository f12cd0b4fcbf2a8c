"""The orders desk in the back office: the list with its status filter and search, one order
with everything needed to pick and invoice it, and the buttons that move it along its status
flow; refused steps change nothing, and no input breaks the page."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from shop import clock
from shop.access import Desk
from shop.core import mailer
from shop.core.paging import CappedPagination
from shop.extensions import db
from shop.invoicing import receipts
from shop.ordering import orders
from shop.ordering.history import OrderEvent
from shop.ordering.models import Order, OrderStatus, PaymentMethod
from shop.ordering.staff_views import found_by
from tests.factories import (
    CARD_STOCK,
    clinician_with_cart,
    fill_cart,
    make_staff,
    make_variant,
    place_card_order,
    place_order,
)
from tests.helpers import field_error, flashes, post_checkout, reload, stock_of, text
from tests.smtp import text_of

ROW = re.compile(r'<a href="/staff/orders/(ORD-\d+)">')


@pytest.fixture
def desk(signed_in):
    member = make_staff(full_name="Siobhan Daly")
    return signed_in(member), member


def _listed(response) -> list[str]:
    return ROW.findall(response.get_data(as_text=True))


def _state(order_id: int) -> tuple:
    order = reload(Order, order_id)
    events = db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id))
    return (
        order.status,
        order.carrier,
        order.tracking_number,
        order.cancel_reason,
        order.invoice.number if order.invoice else None,
        [(e.action, e.actor_id) for e in events],
        stock_of("VIT-1"),
    )


def _act(browser, number: str, action: str, **fields):
    """Take a step from the order's page; shipping packs the whole order from its product's lot,
    as the packing page offers it."""
    if action == "ship":
        fields = {**_picks(number), **fields}
    response = browser.post(f"/staff/orders/{number}/{action}", fields)
    assert response.status_code == 303, response.status_code
    return flashes(browser.get(f"/staff/orders/{number}"))


def _picks(number: str) -> dict[str, str]:
    order = orders.order_by_number(number)
    picks = {}
    for line in order.lines:
        picks[f"pick-{line.id}-0-lot"] = f"{line.sku}-L1"
        picks[f"pick-{line.id}-0-qty"] = str(line.to_ship)
    return picks


def _order(practice_name: str | None = None, po_number: str = "", method=PaymentMethod.ACCOUNT, quantity=2):
    user = clinician_with_cart(
        ("VIT-1", quantity), on_account=method == PaymentMethod.ACCOUNT, practice_name=practice_name
    )
    return place_order(user, method=method, po_number=po_number)


# --- the list ---------------------------------------------------------------------------------


def test_the_list_shows_every_order_newest_first_with_practice_payment_total_and_status(desk):
    make_variant("VIT-1", stock=50)
    first = _order("Harbour Skin Clinic", po_number="PO-H1")
    second = _order("Bayview Aesthetics", method=PaymentMethod.CARD)
    browser, _ = desk

    page = browser.get("/staff/orders")

    assert _listed(page) == [second.number, first.number]
    shown = text(page)
    for expected in ("Harbour Skin Clinic", "PO PO-H1", "Bayview Aesthetics", "On account (invoice)", "Card (Stripe)"):
        assert expected in shown
    assert "Awaiting payment" in shown and "Placed" in shown and "$264.45" in shown


def test_the_status_filter_shows_only_orders_in_that_status(desk):
    make_variant("VIT-1", stock=50)
    placed = _order()
    confirmed = _order()
    card = _order(method=PaymentMethod.CARD)
    browser, staff = desk
    orders.confirm(confirmed, staff)

    assert _listed(browser.get("/staff/orders?status=placed")) == [placed.number]
    assert _listed(browser.get("/staff/orders?status=processing")) == [confirmed.number]
    assert _listed(browser.get("/staff/orders?status=awaiting_payment")) == [card.number]
    assert "No order matches these filters." in text(browser.get("/staff/orders?status=shipped"))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("harbour", ["harbour"]),
        ("HARBOUR SKIN", ["harbour"]),
        ("PO-2026-77", ["bayview"]),
        ("po-2026-77", ["bayview"]),
        ("po-2026", []),  # a PO number is looked for whole, through its index
        ("Skin Clin", ["harbour"]),
        ("nothing like it", []),
        ("%", []),
        ("_", []),
    ],
)
def test_search_finds_orders_by_practice_or_po_number(desk, query, expected):
    make_variant("VIT-1", stock=50)
    made = {
        "harbour": _order("Harbour Skin Clinic"),
        "bayview": _order("Bayview Aesthetics", po_number="PO-2026-77"),
    }
    browser, _ = desk

    found = _listed(browser.get("/staff/orders", query_string={"q": query}))

    assert found == [made[name].number for name in expected]


def test_search_finds_orders_by_the_ordering_clinicians_name_or_email(desk):
    make_variant("VIT-1", stock=50)
    wanted = place_order(clinician_with_cart(("VIT-1", 1), full_name="Dr Maeve Byrne", email="maeve@harbour.example"))
    other = place_order(clinician_with_cart(("VIT-1", 1), full_name="Dr Sean Walsh", email="sean@bayview.example"))
    browser, _ = desk
    clinician = wanted.placed_by

    assert _listed(browser.get("/staff/orders", query_string={"q": clinician.email.upper()})) == [wanted.number]
    assert _listed(browser.get("/staff/orders", query_string={"q": clinician.full_name})) == [wanted.number]
    assert other.placed_by.email != clinician.email


def test_the_count_stops_a_few_pages_ahead(desk, app, monkeypatch):
    monkeypatch.setitem(app.config, "STAFF_PAGE_SIZE", 2)
    monkeypatch.setattr(CappedPagination, "COUNT_FLOOR", 3)
    monkeypatch.setattr(CappedPagination, "PAGES_AHEAD", 0)
    make_variant("VIT-1", stock=50)
    for _ in range(5):
        _order()
    browser, _ = desk
    assert "3+ shown" in text(browser.get("/staff/orders"))
    assert "5 shown" in text(browser.get("/staff/orders?page=3"))


def test_a_page_past_the_last_says_so_instead_of_claiming_there_are_no_orders(desk):
    make_variant("VIT-1", stock=50)
    _order()
    browser, _ = desk

    page = text(browser.get("/staff/orders?page=40"))

    assert "No orders on this page" in page and "No order has been placed yet" not in page


def test_search_finds_an_order_by_its_number_and_combines_with_the_status_filter(desk):
    make_variant("VIT-1", stock=50)
    wanted = _order()
    _order()
    browser, _ = desk

    assert _listed(browser.get("/staff/orders", query_string={"q": wanted.number})) == [wanted.number]
    assert _listed(browser.get("/staff/orders", query_string={"q": wanted.number.lower()})) == [wanted.number]
    digits = wanted.number.removeprefix("ORD-")
    assert _listed(browser.get("/staff/orders", query_string={"q": f" {digits} "})) == [wanted.number]
    assert _listed(browser.get("/staff/orders", query_string={"q": wanted.number, "status": "shipped"})) == []


@pytest.mark.parametrize(
    "query",
    [
        {"status": "bogus"},
        {"status": "'; DROP TABLE orders; --"},
        {"q": "x" * 5_000},
        {"q": "\x00\x01"},
        {"q": "ORD-\\"},
        {"page": "abc"},
        {"page": "-5"},
        {"page": "99999999999999999999999"},
    ],
)
def test_odd_filters_never_break_the_list(desk, query):
    make_variant("VIT-1", stock=50)
    _order()
    browser, _ = desk

    assert browser.get("/staff/orders", query_string=query).status_code == 200


# --- one order --------------------------------------------------------------------------------


def test_the_order_page_shows_everything_needed_to_pick_and_invoice_it(desk, signed_in):
    make_variant("VIT-1", price_cents=12_000, stock=10)
    user = clinician_with_cart(("VIT-1", 2), full_name="Dr Maeve Byrne")
    post_checkout(signed_in(user), po_number="PO-2026-0042", note="Fridge goods.")
    order = db.session.scalar(select(Order))
    browser, _ = desk

    page = text(browser.get(f"/staff/orders/{order.number}"))

    for expected in (
        f"{order.number} · Dr Maeve Byrne Practice",
        "Dr Maeve Byrne",
        user.email,
        user.application.licence_number,
        "Medical Council of Ireland",
        "12 Grand Parade",
        "On account (invoice)",
        "PO number PO-2026-0042",
        "Note Fridge goods.",
        "VIT-1",
        "2 $120.00 $240.00",
        "Total $313.65",
        "Order placed",
    ):
        assert expected in page, expected
    history = page[page.index("History") :]
    assert "Dr Maeve Byrne" in history  # who placed it


def test_an_unknown_order_or_action_is_a_404(desk):
    make_variant("VIT-1")
    order = _order()
    browser, _ = desk

    assert browser.get("/staff/orders/ORD-999999").status_code == 404
    assert browser.get("/staff/orders/ORD-").status_code == 404
    assert browser.post("/staff/orders/ORD-999999/confirm").status_code == 404
    assert browser.post(f"/staff/orders/{order.number}/explode").status_code == 404
    assert browser.get(f"/staff/orders/{order.number}/confirm").status_code == 405


# --- moving it along --------------------------------------------------------------------------


def test_the_desk_confirms_ships_and_delivers_an_order_and_each_click_is_an_event_with_who(desk, mailbox):
    make_variant("VIT-1", stock=10)
    order = _order()
    browser, staff = desk
    mailer.deliver_due()
    mailbox.clear()

    assert ("success", f"{order.number}: Confirmed: the order is being prepared.") in _act(
        browser, order.number, "confirm"
    )
    assert (
        "success",
        f"Parcel {order.number}/1 recorded with its lots; the order is shipped. The clinician has been emailed.",
    ) in _act(browser, order.number, "ship", carrier="DHL Express", tracking_number="JD014600003SE")
    assert ("success", f"{order.number}: Marked delivered.") in _act(browser, order.number, "deliver")

    status, carrier, tracking, _, _, events, _ = _state(order.id)
    assert (status, carrier, tracking) == (OrderStatus.DELIVERED, "DHL Express", "JD014600003SE")
    assert events[1:] == [
        ("confirmed", staff.id),
        ("invoiced", staff.id),
        ("parcel_shipped", staff.id),
        ("shipped", staff.id),
        ("delivered", staff.id),
    ]
    page = text(browser.get(f"/staff/orders/{order.number}"))
    assert "Siobhan Daly" in page[page.index("History") :]
    mailer.deliver_due()
    invoiced, shipped = mailbox.to(order.clinician_email)
    assert invoiced["Subject"].startswith("Invoice INV-")
    assert "on its way" in shipped["Subject"] and "JD014600003SE" in text_of(shipped)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"carrier": "", "tracking_number": "JD01"}, ("carrier", "Enter the carrier.")),
        ({"carrier": "DHL", "tracking_number": ""}, ("tracking_number", "Enter the tracking number.")),
        ({"carrier": "   ", "tracking_number": "   "}, ("carrier", "Enter the carrier.")),
        ({}, ("carrier", "Enter the carrier.")),
    ],
)
def test_shipping_without_carrier_or_tracking_number_is_refused_and_changes_nothing(desk, fields, message):
    make_variant("VIT-1", stock=10)
    order = _order()
    browser, staff = desk
    orders.confirm(order, staff)
    before = _state(order.id)

    response = browser.post(f"/staff/orders/{order.number}/ship", {**_picks(order.number), **fields})
    assert response.status_code == 422
    field, said = message
    assert said in field_error(response, field)
    assert _state(order.id) == before


ILLEGAL = {
    "ship a placed order": ([], "ship", {"carrier": "DHL", "tracking_number": "JD1"}),
    "deliver a processing order": (["confirm"], "deliver", {}),
    "cancel a shipped order": (["confirm", "ship"], "cancel", {"reason": "Too late."}),
    "cancel a cancelled order": (["cancel"], "cancel", {"reason": "Again."}),
    "confirm twice": (["confirm"], "confirm", {}),
    "release an order not on hold": ([], "release", {"note": "Checked."}),
    "refund an unpaid order": ([], "refund", {"note": "CN-1"}),
    "invoice twice": (["confirm"], "invoice", {}),
}


@pytest.mark.parametrize("case", ILLEGAL, ids=list(ILLEGAL))
def test_a_step_the_order_cannot_take_is_refused_with_a_message_and_changes_nothing(desk, case, mailbox):
    setup, action, fields = ILLEGAL[case]
    make_variant("VIT-1", stock=10)
    order = _order()
    browser, _ = desk
    steps = {
        "confirm": {},
        "ship": {"carrier": "DHL", "tracking_number": "JD1"},
        "cancel": {"reason": "Asked by the clinic."},
    }
    for step in setup:
        assert _act(browser, order.number, step, **steps[step])[0][0] == "success"
    mailer.deliver_due()
    mailbox.clear()
    before = _state(order.id)

    shown = _act(browser, order.number, action, **fields)

    assert [kind for kind, _ in shown] == ["error"]
    assert order.number in shown[0][1]
    assert _state(order.id) == before
    mailer.deliver_due()
    assert mailbox.messages == []


def test_cancelling_needs_a_reason_and_then_restocks_exactly_once_and_tells_the_clinician(desk, mailbox):
    make_variant("VIT-1", stock=10)
    order = _order(quantity=4)
    browser, staff = desk
    mailer.deliver_due()
    mailbox.clear()
    assert stock_of("VIT-1") == 6

    assert ("error", "Reason (the clinician sees it): Give the reason; the clinician will see it.") in _act(
        browser, order.number, "cancel", reason="  "
    )
    assert reload(Order, order.id).status == OrderStatus.PLACED and stock_of("VIT-1") == 6

    _act(browser, order.number, "cancel", reason="The clinic asked us to cancel.")
    _act(browser, order.number, "cancel", reason="Clicked again.")

    assert stock_of("VIT-1") == 10
    status, *_, events, _ = _state(order.id)
    assert status == OrderStatus.CANCELLED
    assert events.count(("cancelled", staff.id)) == 1
    mailer.deliver_due()
    [to_clinician] = mailbox.to(order.clinician_email)
    assert "The clinic asked us to cancel." in text_of(to_clinician)


def test_two_people_cancelling_at_the_same_moment_restock_once(desk, signed_in):
    make_variant("VIT-1", stock=10)
    order = _order(quantity=4)
    first, _ = desk
    second = signed_in(make_staff(full_name="Robin Desk"))
    tokens = [first.csrf_token(), second.csrf_token()]
    url = f"/staff/orders/{order.number}/cancel"
    start = threading.Barrier(2)

    def click(index):
        browser = (first, second)[index]
        start.wait(timeout=30)
        return browser.post(url, {"reason": "Duplicate.", "csrf_token": tokens[index]})

    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(pool.map(click, range(2)))

    assert [r.status_code for r in responses] == [303, 303]
    assert stock_of("VIT-1") == 10
    assert [a for a, _ in _state(order.id)[5]].count("cancelled") == 1


def test_cancelling_an_unpaid_card_order_releases_its_stock(desk):
    make_variant("VIT-1", stock=10)
    order = _order(method=PaymentMethod.CARD, quantity=3)
    browser, _ = desk

    _act(browser, order.number, "cancel", reason="Payment will not follow.")

    assert reload(Order, order.id).status == OrderStatus.CANCELLED
    assert stock_of("VIT-1") == 10


def test_cancelling_an_unpaid_card_order_closes_its_stripe_page_first(desk, signed_in, stripe, settled):
    placed = place_card_order(signed_in, quantity=3)
    settled()
    session_id = placed.order.stripe_session_id
    browser, _ = desk

    assert ("success", f"{placed.number}: Cancelled; the stock is back and the clinician has been emailed.") in _act(
        browser, placed.number, "cancel", reason="Payment will not follow."
    )

    assert stripe.session(session_id)["status"] == "expired"
    assert placed.order.status == OrderStatus.CANCELLED and placed.stock() == CARD_STOCK


def test_an_order_whose_stripe_page_was_just_paid_is_not_cancelled(desk, signed_in, stripe, settled):
    placed = place_card_order(signed_in, quantity=3)
    settled()
    stripe.pay(placed.order.stripe_session_id)  # paid; Stripe's webhook is still on its way
    browser, _ = desk

    messages = _act(browser, placed.number, "cancel", reason="The clinic called to cancel.")

    assert ("error", f"Order {placed.number} was paid at Stripe a moment ago, so it was not cancelled; "
            "the payment shows on the order within a minute.") in messages  # fmt: skip
    assert placed.order.status == OrderStatus.AWAITING_PAYMENT and placed.stock() == CARD_STOCK - 3


def test_cancelling_a_paid_card_order_reminds_the_desk_to_refund_it(desk):
    make_variant("VIT-1", stock=10)
    paid = _order(method=PaymentMethod.CARD, quantity=1)
    orders.move(paid, OrderStatus.PAID, None, "paid", "Paid by card.", paid_at=clock.now())
    db.session.commit()
    browser, _ = desk

    messages = _act(browser, paid.number, "cancel", reason="Out of date stock.")

    assert ("warning", "It was paid by card: refund the payment in the Stripe dashboard, then mark it refunded.") in (
        messages
    )
    page = text(browser.get(f"/staff/orders/{paid.number}"))
    assert "Refund due: this order was cancelled and a card payment for it was received." in page
    assert ("success", f"{paid.number}: Marked refunded.") in _act(
        browser, paid.number, "refund", note="re_1 in Stripe"
    )
    assert "Refund due" not in text(browser.get(f"/staff/orders/{paid.number}"))


def test_a_refunded_order_on_account_has_nothing_left_to_invoice(desk):
    make_variant("VIT-1", stock=10)
    order = _order(quantity=1)
    orders.move(order, OrderStatus.PROCESSING, None, "confirmed", "Confirmed.")
    orders.move(order, OrderStatus.SHIPPED, None, "shipped", "Shipped.")
    orders.move(order, OrderStatus.REFUNDED, None, "refunded", "Credit note CN-1.")
    db.session.commit()
    browser, _ = desk

    assert "Issue its invoice" not in text(browser.get(f"/staff/orders/{order.number}"))
    messages = _act(browser, order.number, "invoice")

    assert ("error", f"Order {order.number} is refunded; it has nothing to invoice.") in messages
    assert reload(Order, order.id).invoice is None


def test_a_held_order_is_released_with_a_note_and_a_paid_one_refunded(desk):
    make_variant("VIT-1", stock=10)
    held = _order(method=PaymentMethod.CARD, quantity=1)
    paid = _order(method=PaymentMethod.CARD, quantity=1)
    orders.move(held, OrderStatus.ON_HOLD, None, "payment_mismatch", "Paid 1.00 less.", hold_reason="Paid 1.00 less.")
    orders.move(paid, OrderStatus.PAID, None, "paid", "Paid by card.")
    db.session.commit()
    browser, staff = desk

    assert "On hold: Paid 1.00 less." in text(browser.get(f"/staff/orders/{held.number}"))
    assert _act(browser, held.number, "release", note="")[0][0] == "error"
    assert ("success", f"{held.number}: Released from hold.") in _act(
        browser, held.number, "release", note="Difference paid by bank transfer."
    )
    assert ("success", f"{paid.number}: Marked refunded.") in _act(
        browser, paid.number, "refund", note="re_3PXYZ refunded in Stripe"
    )

    assert reload(Order, held.id).status == OrderStatus.PROCESSING
    assert reload(Order, paid.id).status == OrderStatus.REFUNDED
    assert stock_of("VIT-1") == 9  # the refunded order never left the warehouse


def test_a_paid_invoice_lets_the_practice_order_on_account_again(desk, signed_in):
    make_variant("VIT-1", price_cents=10_000, stock=20)
    user = clinician_with_cart(("VIT-1", 2), credit_limit_cents=30_000)
    clinician = signed_in(user)
    assert post_checkout(clinician).status_code == 303
    first = db.session.scalar(select(Order))
    fill_cart(user, ("VIT-1", 2))
    refused = post_checkout(clinician)
    assert refused.status_code == 422
    browser, staff = desk
    assert _act(browser, first.number, "confirm")[0][0] == "success"
    invoice = reload(Order, first.id).invoice
    assert f"{invoice.number}" in text(browser.get(f"/staff/orders/{first.number}"))
    finance = make_staff(desks={Desk.FINANCE})

    receipts.record_payment(
        finance, invoice, receipts.Receipt(received_on=clock.today(), amount_cents=invoice.total_cents, reference="TRF")
    )

    assert "settled" in text(browser.get(f"/staff/orders/{first.number}"))
    assert post_checkout(clinician).status_code == 303
    assert db.session.scalar(select(db.func.count()).select_from(Order)) == 2


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "fields"),
    [
        ("ship", {"carrier": "D" * 61, "tracking_number": "JD1"}),
        ("ship", {"carrier": "DHL", "tracking_number": "9" * 81}),
        ("ship", {"carrier": "DHL\x00", "tracking_number": "\x00"}),
        ("cancel", {"reason": "r" * 2_001}),
        ("cancel", {"reason": "\x00\x01"}),
        ("release", {"note": "n" * 2_001}),
        ("refund", {"note": ""}),
        ("confirm", {"unexpected": "field" * 100}),
    ],
)
def test_bad_input_on_every_order_action_is_refused_without_an_error_page(desk, action, fields):
    make_variant("VIT-1", stock=10)
    order = _order()
    browser, staff = desk
    orders.confirm(order, staff)
    before = _state(order.id) if action != "confirm" else None

    response = browser.post(f"/staff/orders/{order.number}/{action}", fields)

    assert response.status_code == (422 if action == "ship" else 303)
    assert browser.get(f"/staff/orders/{order.number}").status_code == 200
    if before is not None:
        assert _state(order.id) == before


def test_an_action_without_its_csrf_token_changes_nothing(desk):
    make_variant("VIT-1", stock=10)
    order = _order()
    browser, _ = desk
    before = _state(order.id)

    response = browser.post(f"/staff/orders/{order.number}/confirm", {}, csrf=False)

    assert response.status_code == 303
    assert _state(order.id) == before


@pytest.mark.parametrize("query", ["Harbour", "dr.someone@clinic.example", "PO-2026-77", "ORD-100001"])
def test_the_search_reads_orders_through_their_indexes_never_the_whole_table(query):
    statement = select(Order.id).where(found_by(query)).order_by(Order.placed_at.desc()).limit(25)
    sql = str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))
    if db.engine.dialect.name == "postgresql":
        db.session.execute(db.text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(db.session.scalars(db.text(f"EXPLAIN {sql}")))
        assert "Seq Scan on orders" not in plan, plan
    else:
        plan = "\n".join(row[-1] for row in db.session.execute(db.text(f"EXPLAIN QUERY PLAN {sql}")))
        assert not re.search(r"SCAN orders\b", plan), plan
    assert re.search(
        r"ix_orders_(practice_id|placed_by_id|po_number)|pk_orders|uq_orders_number|PRIMARY KEY|autoindex", plan
    )
