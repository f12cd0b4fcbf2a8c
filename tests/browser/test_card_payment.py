"""Paying by card in a real browser: a verified clinician puts two products in the cart from
their product pages, checks out by card, pays on the (fake) Stripe page, comes back to the order
shown as paid, and the orders desk receives an email listing every line of the order."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from shop.core.mailer import deliver_due
from shop.ordering.models import Order, OrderStatus
from tests.factories import PASSWORD, make_clinician, make_product
from tests.helpers import reload
from tests.smtp import text_of

pytestmark = pytest.mark.browser


def test_a_clinician_pays_by_card_and_the_orders_desk_gets_every_line(
    page, live_server, stripe, app, mailbox, settled, monkeypatch
):
    # Links to the shop (Stripe's return address among them) point at the running server.
    monkeypatch.setitem(app.config, "SHOP_BASE_URL", live_server)
    stripe.webhook_url = live_server + "/stripe/webhook"
    vital = make_product(name="Restylane Vital Test", slug="restylane-vital-test", sku="RSB-VT-1", price_cents=12_900)
    redensity = make_product(name="Redensity Test", slug="redensity-test", sku="TEO-RD-2", price_cents=8_450)
    clinician = make_clinician(full_name="Dr Aoife Kelly")
    settled()

    page.goto("/login")
    page.get_by_label("Email address").fill(clinician.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    for product, sku, quantity in ((vital, "RSB-VT-1", "3"), (redensity, "TEO-RD-2", "2")):
        page.goto(f"/catalogue/{product.slug}")
        page.get_by_label(f"Quantity of {sku}").fill(quantity)
        page.get_by_role("button", name=f"Add to cart {sku}").click()
        expect(page.get_by_role("cell", name=sku).first).to_be_visible()

    page.goto("/cart")
    page.get_by_role("link", name="Check out").click()
    page.get_by_label("Card (Stripe)").check()
    page.get_by_role("button", name="Place order").click()

    # Stripe's page, listing what the shop sent.
    expect(page).to_have_url(re.compile(re.escape(stripe.url) + r"/pay/cs_"))
    expect(page.get_by_text("RSB-VT-1")).to_be_visible()
    expect(page.get_by_text("TEO-RD-2")).to_be_visible()
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()

    expect(page).to_have_url(re.compile(r"/orders/ORD-\d+$"))
    expect(page.locator(".page-head .badge")).to_have_text("Paid")
    expect(page.get_by_text(re.compile(r"Thank you\. Order ORD-\d+ is paid\."))).to_be_visible()
    number = re.search(r"ORD-\d+", page.url).group(0)
    assert stripe.delivered == [("checkout.session.completed", 200)]
    order = reload(Order, number)
    assert order.status == OrderStatus.PAID

    deliver_due()
    desk = [m for m in mailbox.to(app.config["ORDERS_DESK_EMAIL"]) if "new order" in m["Subject"]]
    assert len(desk) == 1 and number in desk[0]["Subject"]
    body = text_of(desk[0])
    for line in order.lines:
        listed = re.search(
            rf"{re.escape(line.sku)}\s+{re.escape(line.product_name)}.*?\n\s+{line.quantity} x ", body, flags=re.S
        )
        assert listed, f"{line.sku} is not listed with its name and quantity:\n{body}"
    assert {(line.sku, line.quantity) for line in order.lines} == {("RSB-VT-1", 3), ("TEO-RD-2", 2)}
    assert any(m["Subject"].startswith("Payment received") for m in mailbox.to(clinician.email))
