"""A practice's order history as its clinicians see it: every order of the practice (whoever in
it placed it), each with its status timeline, lines and totals; another practice's order, an
unknown number and odd addresses are a plain 404."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from shop.extensions import db
from shop.ordering import orders
from shop.ordering.models import CancelCause, Order
from tests.factories import (
    clinician_with_cart,
    fill_cart,
    make_clinician,
    make_staff,
    make_variant,
    place_order,
    ship_order,
)
from tests.helpers import reload, text

ORDER_LINK = re.compile(r'<a href="/orders/(ORD-\d+)">')


def _colleagues():
    """Two clinicians of the same practice, and one of another practice."""
    first = clinician_with_cart(full_name="Dr Maeve Byrne")
    second = make_clinician(full_name="Dr Conor Healy", practice_of=first)
    stranger = clinician_with_cart(full_name="Dr Sara Lind")
    return first, second, stranger


def test_the_history_lists_every_order_of_the_practice_newest_first_and_no_other(signed_in):
    make_variant("VIT-1", price_cents=10_000, stock=50)
    first, second, stranger = _colleagues()
    fill_cart(first, ("VIT-1", 1))
    oldest = place_order(first, po_number="PO-A1")
    fill_cart(second, ("VIT-1", 2))
    newest = place_order(second)
    fill_cart(stranger, ("VIT-1", 3))
    theirs = place_order(stranger)

    page = signed_in(first).get("/orders")

    assert page.status_code == 200
    assert ORDER_LINK.findall(page.get_data(as_text=True)) == [newest.number, oldest.number]
    shown = text(page)
    assert theirs.number not in shown and "Dr Sara Lind" not in shown
    assert "Dr Conor Healy" in shown and "Dr Maeve Byrne" in shown
    assert "PO-A1" in shown
    assert "$141.45" in shown and "$264.45" in shown  # (100 + 15) x 1.23 and (200 + 15) x 1.23
    assert shown.count("Placed") >= 2


def test_a_practice_without_orders_is_shown_how_to_start(signed_in):
    page = signed_in(make_clinician()).get("/orders")

    assert page.status_code == 200
    assert "No orders yet" in text(page)


def test_an_order_placed_by_a_colleague_opens_for_every_member_of_the_practice(signed_in):
    make_variant("VIT-1")
    first, second, _ = _colleagues()
    fill_cart(second, ("VIT-1", 1))
    order = place_order(second)

    page = signed_in(first).get(f"/orders/{order.number}")

    assert page.status_code == 200
    assert f"Order {order.number}" in text(page) and "by Dr Conor Healy" in text(page)


def test_an_order_page_shows_its_lines_totals_delivery_and_status_timeline(signed_in):
    make_variant("RSB-VIT-1L", price_cents=12_000, name="Restylane Skinboosters Vital")
    make_variant("JUV-HYD-1", price_cents=4_550, name="Juvederm Hydrate")
    user = clinician_with_cart(("RSB-VIT-1L", 2), ("JUV-HYD-1", 3))
    order = place_order(user, po_number="PO-77", note="Side door.")
    staff = make_staff(full_name="Siobhan Daly")
    orders.confirm(order, staff)
    ship_order(reload(Order, order.id), staff, "DHL Express", "JD014600003SE")

    page = text(signed_in(user).get(f"/orders/{order.number}"))

    assert f"Order {order.number} Shipped" in page
    for expected in (
        "RSB-VIT-1L Restylane Skinboosters Vital",
        "2 $120.00 $240.00",
        "JUV-HYD-1 Juvederm Hydrate",
        "3 $45.50 $136.50",
        "Subtotal $376.50",
        "Shipping $15.00",
        "VAT (23%) $90.05",
        "Total $481.55",
        "12 Grand Parade",
        "DHL Express",
        "tracking number JD014600003SE",
        "PO number PO-77",
        "Note Side door.",
        "On account (invoice)",
        user.application.licence_number,
    ):
        assert expected in page, expected
    timeline = page[page.index("History") :]
    assert timeline.index("Shipped") < timeline.index("Confirmed by the orders desk") < timeline.index("Order placed")
    assert "JD014600003SE" in timeline
    assert "Siobhan Daly" not in page  # staff names stay in the back office


def test_a_cancelled_order_shows_the_reason_to_the_clinician(signed_in):
    make_variant("VIT-1")
    user = clinician_with_cart(("VIT-1", 1))
    order = place_order(user)
    orders.cancel(order, make_staff(), "The product line was recalled.", CancelCause.STAFF)

    page = text(signed_in(user).get(f"/orders/{order.number}"))

    assert "Cancelled: The product line was recalled." in page
    assert "Cancelled" in page[page.index("History") :]


def test_another_practices_order_is_a_404_on_every_order_address(signed_in):
    make_variant("VIT-1")
    first, _, stranger = _colleagues()
    fill_cart(stranger, ("VIT-1", 1))
    theirs = place_order(stranger)
    browser = signed_in(first)

    assert browser.get(f"/orders/{theirs.number}").status_code == 404
    assert browser.post(f"/orders/{theirs.number}/reorder").status_code == 404
    assert theirs.number not in text(browser.get("/orders"))


@pytest.mark.parametrize(
    "path",
    [
        "/orders/ORD-999999",
        "/orders/ORD-0",
        "/orders/ORD-",
        "/orders/ord-100001",
        "/orders/ORD-100001x",
        "/orders/ORD-99999999999999999999999",
        "/orders/ORD-%00",
        "/orders/ORD-%E0%A5%A7%E0%A5%A8",  # Devanagari digits
        "/orders/ORD-１２３",
        "/orders/..%2F..%2Fetc%2Fpasswd",
        "/orders/%27%20OR%201%3D1--",
        "/orders/ORD-100001/../../staff",
    ],
)
def test_an_unknown_or_odd_order_number_is_a_404_never_an_error(signed_in, path):
    make_variant("VIT-1")
    user = clinician_with_cart(("VIT-1", 1))
    place_order(user)

    response = signed_in(user).get(path)

    assert response.status_code == 404


@pytest.mark.parametrize("page", ["abc", "-1", "0", "99999999999999999999", "1e3", ""])
def test_an_odd_page_number_in_the_history_still_shows_the_page(signed_in, page):
    make_variant("VIT-1")
    user = clinician_with_cart(("VIT-1", 1))
    order = place_order(user)

    response = signed_in(user).get(f"/orders?page={page}")

    assert response.status_code == 200
    if page == "99999999999999999999":  # far past the last page
        assert "No orders on this page" in text(response) and "No orders yet" not in text(response)
    else:
        assert order.number in text(response)


def test_reordering_from_the_history_puts_the_same_lines_back_in_the_cart(signed_in):
    make_variant("VIT-1", stock=10)
    make_variant("HYD-1", stock=10)
    user = clinician_with_cart(("VIT-1", 2), ("HYD-1", 1))
    order = place_order(user)
    browser = signed_in(user)

    response = browser.post(f"/orders/{order.number}/reorder")

    assert response.status_code == 303
    db.session.expire_all()
    assert sorted(db.session.scalars(select(Order.number))) == [order.number]
    cart = text(browser.get("/cart"))
    assert "VIT-1" in cart and "HYD-1" in cart
