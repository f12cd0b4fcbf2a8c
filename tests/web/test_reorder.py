"""Reorder: a past order's lines go back into the cart at today's prices, and whatever can no
longer be bought is reported instead of silently dropped."""

from __future__ import annotations

import re

import pytest

from shop.cart.models import CartLine
from shop.extensions import db
from shop.ordering.models import Order
from tests.factories import make_clinician, variant_with_breaks
from tests.helpers import (
    add_to_cart,
    cart_rows,
    change,
    flashes,
    placed_order_number,
    post_checkout,
    redirect_path,
    row_count,
    text,
)


@pytest.fixture
def clinician():
    return make_clinician(on_account=True)


@pytest.fixture
def browser(signed_in, clinician):
    return signed_in(clinician)


@pytest.fixture
def products():
    return {
        "vital": variant_with_breaks(price_cents=12900, stock=50, name="Vital Booster", sku="VIT-1"),
        "meso": variant_with_breaks(price_cents=4500, stock=50, name="Meso Five", sku="MES-5"),
        "filler": variant_with_breaks(price_cents=20000, stock=50, name="Deep Filler", sku="FIL-2"),
    }


def order_of(browser, lines: dict[str, int]) -> str:
    for sku, quantity in lines.items():
        assert add_to_cart(browser, sku, quantity).status_code == 303
    return placed_order_number(post_checkout(browser))


def reorder(browser, number: str, **kwargs):
    return browser.post(f"/orders/{number}/reorder", **kwargs)


def quantities(browser) -> dict[str, str]:
    found = {}
    for row in cart_rows(browser.get("/cart")):
        found[re.search(r"· (\S+) ·", row["Product"]).group(1)] = row["quantity"]
    return found


def test_the_order_page_offers_to_order_the_same_again(browser, products):
    number = order_of(browser, {"VIT-1": 2})
    html = browser.get(f"/orders/{number}").get_data(as_text=True)
    assert re.search(rf'<form method="post" action="/orders/{number}/reorder"', html)


def test_reorder_puts_the_same_lines_back_in_the_cart(browser, products):
    number = order_of(browser, {"VIT-1": 2, "MES-5": 6})
    assert quantities(browser) == {}  # placing the order emptied the cart

    response = reorder(browser, number)
    assert response.status_code == 303 and redirect_path(response) == "/cart"
    page = browser.get("/cart")
    assert ("success", "2 of 2 lines added to your cart.") in flashes(page)
    assert quantities(browser) == {"VIT-1": "2", "MES-5": "6"}
    rows = {re.search(r"· (\S+) ·", row["Product"]).group(1): row for row in cart_rows(page)}
    assert rows["MES-5"]["Unit price"].startswith("$42.75")  # the 5+ volume price
    assert not any(row["marked"] for row in rows.values())


def test_reorder_uses_todays_prices_without_flagging_them(browser, products):
    number = order_of(browser, {"VIT-1": 2})
    change(products["vital"], price_cents=13500)
    reorder(browser, number)
    [row] = cart_rows(browser.get("/cart"))
    assert row["Unit price"].startswith("$135.00") and "was" not in row["Unit price"]
    assert row["Line total"] == "$270.00" and not row["marked"]
    assert browser.get("/checkout").status_code == 200


def test_reorder_adds_to_what_is_already_in_the_cart(browser, products):
    number = order_of(browser, {"VIT-1": 2})
    add_to_cart(browser, "VIT-1", 1)
    add_to_cart(browser, "FIL-2", 1)
    reorder(browser, number)
    assert quantities(browser) == {"VIT-1": "3", "FIL-2": "1"}


def test_reorder_reports_every_line_that_can_no_longer_be_bought(browser, products):
    kept = variant_with_breaks(name="Kept Booster", sku="KEP-1")
    overseas = variant_with_breaks(name="Overseas Booster", sku="OVS-1")
    number = order_of(browser, {"VIT-1": 2, "MES-5": 6, "FIL-2": 3, "KEP-1": 1, "OVS-1": 1})
    change(products["vital"], active=False)
    change(products["meso"], stock_on_hand=4)
    change(products["filler"], stock_on_hand=0)
    overseas.product.status_in("EU").sale_permitted = False
    db.session.commit()

    response = reorder(browser, number, follow_redirects=True)
    messages = flashes(response)
    errors = [message for kind, message in messages if kind == "error"]
    assert "VIT-1 × 2: Vital Booster (VIT-1) is no longer sold." in errors
    assert "MES-5 × 6: Only 4 of MES-5 are in stock." in errors
    assert "FIL-2 × 3: FIL-2 is out of stock." in errors
    assert "OVS-1 × 1: Overseas Booster (OVS-1) is not cleared for sale in our market (EU)." in errors
    assert ("success", "1 of 5 lines added to your cart.") in messages
    assert quantities(browser) == {kept.sku: "1"}


def test_reorder_of_nothing_available_says_so_and_adds_nothing(browser, products):
    number = order_of(browser, {"FIL-2": 1})
    change(products["filler"], active=False)
    response = reorder(browser, number, follow_redirects=True)
    assert ("info", "0 of 1 line added to your cart.") in flashes(response)
    assert row_count(CartLine) == 0
    assert "Your cart is empty" in text(response)


def test_another_practices_order_cannot_be_reordered(browser, products, signed_in):
    number = order_of(browser, {"VIT-1": 2})
    stranger = signed_in(make_clinician(full_name="Dr Other Practice"))
    response = reorder(stranger, number)
    assert response.status_code == 404
    assert quantities(stranger) == {}


@pytest.mark.parametrize("number", ["ORD-999999999999", "ORD-1", "ORD-", "ord-100001", "ORD-1%00", "Q-100001"])
def test_an_unknown_or_malformed_order_number_is_not_found(browser, products, number):
    assert reorder(browser, number).status_code == 404
    assert row_count(CartLine) == 0


def test_a_reorder_without_its_csrf_token_changes_nothing(browser, products):
    number = order_of(browser, {"VIT-1": 2})
    response = browser.post(f"/orders/{number}/reorder", csrf=False)
    assert response.status_code in (303, 400)
    assert row_count(CartLine) == 0


def test_reordering_twice_doubles_the_lines_within_the_stock(browser, products):
    number = order_of(browser, {"VIT-1": 20})
    reorder(browser, number)
    response = reorder(browser, number, follow_redirects=True)
    # 50 were in stock, 20 were ordered, so 30 are left: 20 fit in the cart, 40 do not.
    assert any("Only 30 of VIT-1" in message for _, message in flashes(response))
    assert quantities(browser) == {"VIT-1": "20"}
    assert Order.query.count() == 1
