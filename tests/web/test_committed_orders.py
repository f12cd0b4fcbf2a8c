"""A committed order is never reported as a failure: once an order is placed (from the cart or an
accepted quote), the page that says so reads nothing more from the database, so a database that
goes away at that very instant still shows the clinician their order, not an error page."""

from __future__ import annotations

from sqlalchemy import select

from shop.extensions import db
from shop.ordering.models import Order, OrderStatus
from tests.factories import clinician_with_cart, make_variant, simple_quote
from tests.helpers import accept_form, checkout_page_values, database_away, flashes, redirect_path


def _checkout_form(browser, method: str) -> dict:
    """The checkout form as the page fills it, with its token fetched before the database goes."""
    total, addresses = checkout_page_values(browser.get("/checkout").get_data(as_text=True))
    form = {"address_id": addresses[0][0], "payment_method": method, "expected_total": total}
    form["csrf_token"] = browser.csrf_token()
    return form


def _placed_order() -> Order:
    db.session.expire_all()
    return db.session.scalar(select(Order))


def test_an_order_on_account_placed_just_before_the_database_goes_away_is_shown_as_placed(app, signed_in):
    make_variant("VIT-1", stock=10)
    browser = signed_in(clinician_with_cart(("VIT-1", 2), on_account=True))
    form = _checkout_form(browser, "account")

    with database_away(app, after_next_commit=True):
        response = browser.post("/checkout", form, csrf=False)

    order = _placed_order()
    assert response.status_code == 303
    assert redirect_path(response) == f"/orders/{order.number}"
    assert order.status == OrderStatus.PLACED
    assert ("success", f"Thank you. Order {order.number} is placed on account; the orders desk will confirm it.") in (
        flashes(browser.get(redirect_path(response)))
    )


def test_a_card_order_placed_just_before_the_database_goes_away_waits_for_its_payment_on_its_page(
    app, signed_in, stripe
):
    make_variant("VIT-1", stock=10)
    browser = signed_in(clinician_with_cart(("VIT-1", 2), on_account=False))
    form = _checkout_form(browser, "card")

    with database_away(app, after_next_commit=True):
        response = browser.post("/checkout", form, csrf=False)

    order = _placed_order()
    assert response.status_code == 303
    assert redirect_path(response) == f"/orders/{order.number}"
    assert order.status == OrderStatus.AWAITING_PAYMENT
    page = browser.get(redirect_path(response))
    assert ("info", f"Order {order.number} is placed and reserved for you. Pay for it from this page in a moment.") in (
        flashes(page)
    )
    assert "Pay now" in page.get_data(as_text=True)


def test_a_quote_accepted_just_before_the_database_goes_away_is_shown_with_its_order(app, signed_in):
    setup = simple_quote()
    browser = signed_in(setup.clinician)
    form = {**accept_form(browser, setup.number), "payment_method": "account"}
    form["csrf_token"] = browser.csrf_token()

    with database_away(app, after_next_commit=True):
        response = browser.post(f"/quotes/{setup.number}/accept", form, csrf=False)

    order = _placed_order()
    assert response.status_code == 303
    assert redirect_path(response) == f"/orders/{order.number}"
    assert (
        "success",
        f"Quote {setup.number} accepted: order {order.number} is placed at the quoted prices.",
    ) in flashes(browser.get(redirect_path(response)))
