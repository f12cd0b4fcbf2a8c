"""The checkout page as a clinician uses it: where the order can ship, the PO number and note,
shipping, tax and the total, paying on account within the credit limit, totals and stock that
change under their feet, and input that never breaks the page."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from shop.cart.models import CartLine
from shop.extensions import db
from shop.ordering.models import Order, OrderStatus, PaymentMethod
from tests.factories import add_address, clinician_with_cart, fill_cart, make_clinician, make_variant
from tests.helpers import (
    allow_account,
    cart_lines,
    checkout_page_values,
    field_error,
    flashes,
    post_checkout,
    redirect_path,
    row_count,
    stock_of,
    text,
)


def _offered(browser) -> list[str]:
    return [label for _, label in checkout_page_values(browser.get("/checkout").get_data(as_text=True))[1]]


# --- where it ships ------------------------------------------------------------------------


def test_the_page_offers_every_address_of_the_practice_except_po_boxes(signed_in):
    make_variant("VIT-1")
    user = clinician_with_cart(("VIT-1", 1))
    add_address(user, "Unit 9, Kinsale Road Business Park", postcode="T12 K9R0")
    add_address(user, "PO Box 12")
    add_address(user, "P.O. Box 4410")
    add_address(user, "Postfach 1234")

    offered = _offered(signed_in(user))

    assert len(offered) == 2
    assert offered[0].startswith("12 Grand Parade")
    assert offered[1].startswith("Unit 9, Kinsale Road Business Park")
    assert not any("box" in label.lower() or "postfach" in label.lower() for label in offered)


@pytest.mark.parametrize("line1", ["PO Box 12", "P.O. Box 4410", "Postfach 1234"])
def test_posting_a_po_box_address_anyway_is_refused_next_to_the_address(signed_in, line1):
    make_variant("VIT-1", stock=5)
    user = clinician_with_cart(("VIT-1", 1))
    box = add_address(user, line1)

    response = post_checkout(signed_in(user), address_id=str(box.id))

    assert response.status_code == 422
    assert field_error(response, "address_id")
    assert row_count(Order) == 0
    assert cart_lines(user) == [("VIT-1", 1)] and stock_of("VIT-1") == 5


def test_another_practices_address_is_refused(signed_in):
    make_variant("VIT-1")
    user = clinician_with_cart(("VIT-1", 1))
    other = make_clinician()

    response = post_checkout(signed_in(user), address_id=str(other.practice.default_address.id))

    assert response.status_code == 422 and field_error(response, "address_id")
    assert row_count(Order) == 0


def test_a_practice_with_only_a_po_box_is_told_to_call_and_cannot_place_the_order(signed_in):
    make_variant("VIT-1")
    user = clinician_with_cart(("VIT-1", 1), address_line1="PO Box 77")
    browser = signed_in(user)

    page = browser.get("/checkout")

    assert "no delivery address" in text(page) and "PO boxes are not accepted" in text(page)
    assert re.search(r'<button type="submit"[^>]*disabled', page.get_data(as_text=True))
    total, _ = checkout_page_values(page.get_data(as_text=True))
    response = browser.post("/checkout", {"payment_method": "account", "expected_total": total})
    assert response.status_code == 422
    assert row_count(Order) == 0


def test_the_order_ships_to_the_address_chosen_on_the_page(signed_in):
    make_variant("VIT-1")
    user = clinician_with_cart(("VIT-1", 1))
    warehouse = add_address(user, "Unit 9, Kinsale Road Business Park", postcode="T12 K9R0")

    response = post_checkout(signed_in(user), address_id=str(warehouse.id))

    assert response.status_code == 303
    order = db.session.scalar(select(Order))
    assert "Unit 9, Kinsale Road Business Park" in order.ship_to and "Grand Parade" not in order.ship_to


# --- what it costs ---------------------------------------------------------------------------


def test_the_page_shows_subtotal_flat_shipping_tax_and_the_total_the_order_charges(signed_in):
    make_variant("VIT-1", price_cents=12_000)
    user = clinician_with_cart(("VIT-1", 2))
    browser = signed_in(user)

    page = text(browser.get("/checkout"))

    assert "2 × Booster VIT-1" in page
    assert "Subtotal $240.00" in page
    assert "Shipping $15.00" in page
    assert "VAT (23%) $58.65" in page
    assert "Total $313.65" in page
    assert "Free shipping from $500.00" in page
    assert post_checkout(browser).status_code == 303
    assert db.session.scalar(select(Order.total_cents)) == 31_365


def test_from_the_threshold_the_page_shows_free_shipping(signed_in):
    make_variant("VIT-1", price_cents=10_000)
    user = clinician_with_cart(("VIT-1", 5))

    page = text(signed_in(user).get("/checkout"))

    assert "Shipping Free" in page
    assert "VAT (23%) $115.00" in page and "Total $615.00" in page
    assert "Free shipping from" not in page


def test_a_total_that_changed_after_the_page_was_shown_is_refused_and_the_cart_kept(signed_in):
    make_variant("VIT-1", stock=10)
    make_variant("HYD-1", stock=10)
    user = clinician_with_cart(("VIT-1", 2))
    browser = signed_in(user)
    total, addresses = checkout_page_values(browser.get("/checkout").get_data(as_text=True))
    fill_cart(user, ("HYD-1", 1))  # from another window

    response = browser.post(
        "/checkout", {"address_id": addresses[0][0], "payment_method": "account", "expected_total": total}
    )

    assert response.status_code == 303 and redirect_path(response) == "/cart"
    assert any("total changed" in message for _, message in flashes(browser.get("/cart")))
    assert row_count(Order) == 0
    assert cart_lines(user) == [("VIT-1", 2), ("HYD-1", 1)]
    assert (stock_of("VIT-1"), stock_of("HYD-1")) == (10, 10)
    # Shown again, the page asks to confirm the new total, and then the order goes through.
    assert post_checkout(browser).status_code == 303
    assert row_count(Order) == 1


def test_a_price_raised_while_in_the_cart_sends_the_clinician_back_to_review_it(signed_in):
    variant = make_variant("VIT-1", price_cents=10_000)
    user = clinician_with_cart(("VIT-1", 1))
    browser = signed_in(user)
    total, addresses = checkout_page_values(browser.get("/checkout").get_data(as_text=True))
    variant.price_cents = 12_500
    db.session.commit()

    response = browser.post(
        "/checkout", {"address_id": addresses[0][0], "payment_method": "account", "expected_total": total}
    )

    assert response.status_code == 303 and redirect_path(response) == "/cart"
    assert row_count(Order) == 0
    assert cart_lines(user) == [("VIT-1", 1)]


# --- PO number, note, and the result --------------------------------------------------------


def test_an_order_on_account_opens_on_its_page_with_the_po_number_and_the_note(signed_in):
    make_variant("VIT-1")
    user = clinician_with_cart(("VIT-1", 1))
    browser = signed_in(user)

    response = post_checkout(browser, po_number="PO-2026-0042", note="Deliver to reception before 11:00.")

    order = db.session.scalar(select(Order))
    assert re.fullmatch(r"ORD-\d+", order.number)
    assert response.status_code == 303 and redirect_path(response) == f"/orders/{order.number}"
    page = browser.get(f"/orders/{order.number}")
    assert ("success", f"Thank you. Order {order.number} is placed on account; the orders desk will confirm it.") in (
        flashes(page)
    )
    shown = text(page)
    assert "PO number PO-2026-0042" in shown and "Deliver to reception before 11:00." in shown
    assert (order.po_number, order.note, order.status) == (
        "PO-2026-0042",
        "Deliver to reception before 11:00.",
        OrderStatus.PLACED,
    )
    assert cart_lines(user) == []


def test_a_po_number_longer_than_forty_characters_is_refused_next_to_the_field(signed_in):
    make_variant("VIT-1")
    user = clinician_with_cart(("VIT-1", 1))

    response = post_checkout(signed_in(user), po_number="P" * 41)

    assert response.status_code == 422
    assert field_error(response, "po_number") == "Use at most 40 characters."
    assert row_count(Order) == 0


def test_an_empty_cart_cannot_reach_checkout(signed_in):
    user = make_clinician()
    browser = signed_in(user)

    response = browser.get("/checkout")

    assert response.status_code == 303 and redirect_path(response) == "/cart"
    assert ("info", "Your cart is empty. Add products before checking out.") in flashes(browser.get("/cart"))


# --- paying on account ------------------------------------------------------------------------


def test_on_account_is_not_offered_until_staff_enable_it_for_the_practice(signed_in):
    make_variant("VIT-1", stock=5)
    user = clinician_with_cart(("VIT-1", 1), on_account=False)
    browser = signed_in(user)

    page = browser.get("/checkout").get_data(as_text=True)
    assert 'value="account"' not in page and "On account" not in page
    response = post_checkout(browser, method="account")
    assert response.status_code == 422 and field_error(response, "payment_method")
    assert row_count(Order) == 0 and stock_of("VIT-1") == 5

    allow_account(user, credit_limit_cents=500_000)
    page = text(browser.get("/checkout"))
    assert "On account (invoice) — credit available $5,000.00" in page


def test_an_order_above_the_available_credit_is_refused_next_to_the_payment_choice(signed_in):
    make_variant("VIT-1", price_cents=10_000, stock=10)
    user = clinician_with_cart(("VIT-1", 2), credit_limit_cents=25_000)
    browser = signed_in(user)

    shown = text(browser.get("/checkout"))
    assert "credit available $250.00" in shown and "This order is above the credit available" in shown
    response = post_checkout(browser, method="account")

    assert response.status_code == 422
    assert "above your practice's available credit" in field_error(response, "payment_method")
    assert "Total $264.45" in text(response)
    assert row_count(Order) == 0
    assert cart_lines(user) == [("VIT-1", 2)] and stock_of("VIT-1") == 10


def test_the_refusal_above_the_credit_shows_once_and_offers_card_payment_only_when_there_is_one(
    signed_in, app, monkeypatch
):
    make_variant("VIT-1", price_cents=10_000, stock=10)
    browser = signed_in(clinician_with_cart(("VIT-1", 2), credit_limit_cents=25_000))
    with_card = post_checkout(browser, method="account")
    message = field_error(with_card, "payment_method")
    assert (
        message
        == "This order is above your practice's available credit on account. Pay by card, or call the orders desk."
    )
    assert text(with_card).count(message) == 1

    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", None)  # the shop takes no cards
    page = text(browser.get("/checkout"))
    assert "Card (Stripe)" not in page and "pay by card" not in page.lower()
    assert "This order is above the credit available; call the orders desk." in page
    without_card = post_checkout(browser, method="account")
    assert field_error(without_card, "payment_method") == (
        "This order is above your practice's available credit on account. Call the orders desk."
    )


def test_the_credit_shown_at_checkout_counts_the_practices_unpaid_orders_on_account(signed_in):
    make_variant("VIT-1", price_cents=10_000, stock=10)
    user = clinician_with_cart(("VIT-1", 2), credit_limit_cents=100_000)
    browser = signed_in(user)
    post_checkout(browser)
    fill_cart(user, ("VIT-1", 1))

    assert "credit available $735.55" in text(browser.get("/checkout"))  # 1,000.00 - 264.45


# --- stock that runs out --------------------------------------------------------------------


def test_stock_sold_to_someone_else_before_the_click_sends_the_clinician_back_to_the_cart(signed_in):
    variant = make_variant("VIT-1", stock=5)
    user = clinician_with_cart(("VIT-1", 3))
    browser = signed_in(user)
    total, addresses = checkout_page_values(browser.get("/checkout").get_data(as_text=True))
    variant.stock_on_hand = 1
    db.session.commit()

    response = browser.post(
        "/checkout", {"address_id": addresses[0][0], "payment_method": "account", "expected_total": total}
    )

    assert response.status_code == 303 and redirect_path(response) == "/cart"
    cart = browser.get("/cart")
    assert "Only 1 in stock" in text(cart)
    assert row_count(Order) == 0 and cart_lines(user) == [("VIT-1", 3)] and stock_of("VIT-1") == 1


def test_clinicians_clicking_place_order_at_once_for_the_last_box_one_wins_and_the_others_keep_their_cart(
    signed_in,
):
    make_variant("VIT-LAST", stock=1)
    buyers = [clinician_with_cart(("VIT-LAST", 1)) for _ in range(6)]
    browsers = [signed_in(user) for user in buyers]
    forms = []
    for browser in browsers:
        total, addresses = checkout_page_values(browser.get("/checkout").get_data(as_text=True))
        forms.append(
            {
                "address_id": addresses[0][0],
                "payment_method": "account",
                "expected_total": total,
                "csrf_token": browser.csrf_token(),
            }
        )
    start = threading.Barrier(len(browsers))

    def click(index: int):
        start.wait(timeout=30)
        return browsers[index].post("/checkout", forms[index])

    with ThreadPoolExecutor(max_workers=len(browsers)) as pool:
        responses = list(pool.map(click, range(len(browsers))))

    assert all(r.status_code == 303 for r in responses)
    won = [i for i, r in enumerate(responses) if redirect_path(r).startswith("/orders/ORD-")]
    lost = [i for i, r in enumerate(responses) if redirect_path(r) == "/cart"]
    assert len(won) == 1 and len(lost) == 5
    assert stock_of("VIT-LAST") == 0 and row_count(Order) == 1
    for i in lost:
        messages = " ".join(message for kind, message in flashes(browsers[i].get("/cart")) if kind == "error")
        assert "VIT-LAST" in messages and "cart is kept" in messages
        assert cart_lines(buyers[i]) == [("VIT-LAST", 1)]


# --- bad input ---------------------------------------------------------------------------------


BAD_FIELDS = [
    {"address_id": "abc"},
    {"address_id": ""},
    {"address_id": "-1"},
    {"address_id": "99999999999999999999999"},
    {"address_id": None},
    {"payment_method": "bitcoin"},
    {"payment_method": ""},
    {"payment_method": None},
    {"payment_method": "ACCOUNT"},
    {"expected_total": "abc"},
    {"expected_total": ""},
    {"expected_total": "1e3"},
    {"expected_total": "-31365"},
    {"expected_total": "99999999999999999999999999999"},
    {"expected_total": None},
    {"note": "x" * 2_001},
    {"po_number": "<script>alert(1)</script>" * 3},
]


@pytest.mark.parametrize("fields", BAD_FIELDS, ids=[repr(f)[:40] for f in BAD_FIELDS])
def test_bad_checkout_input_is_refused_without_an_error_page_or_an_order(signed_in, fields):
    make_variant("VIT-1", stock=5)
    user = clinician_with_cart(("VIT-1", 1))

    response = post_checkout(signed_in(user), **fields)

    assert response.status_code in (303, 422), response.status_code
    assert row_count(Order) == 0
    assert cart_lines(user) == [("VIT-1", 1)] and stock_of("VIT-1") == 5


def test_a_checkout_without_its_csrf_token_is_refused(signed_in):
    make_variant("VIT-1")
    user = clinician_with_cart(("VIT-1", 1))
    browser = signed_in(user)
    total, addresses = checkout_page_values(browser.get("/checkout").get_data(as_text=True))

    response = browser.post(
        "/checkout",
        {"address_id": addresses[0][0], "payment_method": "account", "expected_total": total},
        csrf=False,
    )

    assert response.status_code == 303
    assert ("error", "Your form expired or came from another page. Please try again.") in flashes(browser.get("/"))
    assert row_count(Order) == 0 and cart_lines(user) == [("VIT-1", 1)]


def test_control_characters_in_the_po_number_and_note_are_dropped_not_stored(signed_in):
    make_variant("VIT-1")
    user = clinician_with_cart(("VIT-1", 1))

    response = post_checkout(signed_in(user), po_number="PO\x00-77\x07", note="Ring\x00 the bell\x1b.")

    assert response.status_code == 303
    order = db.session.scalar(select(Order))
    assert (order.po_number, order.note) == ("PO-77", "Ring the bell.")


def test_the_order_records_the_payment_method_chosen(signed_in):
    make_variant("VIT-1")
    user = clinician_with_cart(("VIT-1", 1))

    post_checkout(signed_in(user), method="account")

    assert db.session.scalar(select(Order.payment_method)) == PaymentMethod.ACCOUNT
    assert row_count(CartLine) == 0
