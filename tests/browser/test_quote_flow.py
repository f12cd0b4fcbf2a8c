"""A quote from request to order in a real browser: a clinician asks for a price, the quotes
desk (in its own browser) prepares the quote with a discount and sends it, and the clinician
accepts it on account and sees the order at exactly the quoted total."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from shop.core.formatting import money
from shop.ordering.models import Order, PaymentMethod
from shop.quoting.models import Quote, QuoteStatus
from tests.factories import PASSWORD, make_clinician, make_staff, make_variant
from tests.helpers import browser_log_in, orders_of, reload

pytestmark = pytest.mark.browser


def log_in(tab, email: str) -> None:
    browser_log_in(tab, email, PASSWORD)
    expect(tab.get_by_role("button", name="Log in")).to_have_count(0)


def test_a_requested_quote_is_discounted_by_the_desk_accepted_on_account_and_ordered_at_its_total(
    page, browser, live_server, ctx
):
    make_variant("VIT-BRW", price_cents=12_500, stock=100, name="Restylane Vital Booster")
    clinician = make_clinician(on_account=True, full_name="Dr Ana Ruiz")
    staff = make_staff()

    # The clinician asks for twenty boxes.
    log_in(page, clinician.email)
    page.goto("/quotes/new")
    page.get_by_label("Product 1", exact=True).fill("VIT-BRW")
    page.get_by_label("Quantity of product 1", exact=True).fill("20")
    page.get_by_label("Message for the quotes desk (optional)").fill("Monthly volume for both clinics.")
    page.get_by_role("button", name="Send the request").click()
    expect(page).to_have_url(re.compile(r"/quotes/Q-\d+$"))
    number = page.url.rsplit("/", 1)[1]
    expect(page.locator(".page-head .badge")).to_have_text("Requested")

    # The quotes desk, in its own browser, prepares it with 15 % off and sends it.
    desk_context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    desk_context.set_default_timeout(10_000)
    try:
        staff_page = desk_context.new_page()
        log_in(staff_page, staff.email)
        staff_page.goto(f"/staff/quotes/{number}")
        staff_page.get_by_role("button", name="Prepare the quote").click()
        staff_page.get_by_label("Discount on Restylane Vital Booster").fill("15")
        staff_page.get_by_role("button", name=re.compile(r"^Save and send")).click()
        expect(staff_page.locator(".page-head .badge")).to_have_text("Sent")
    finally:
        desk_context.close()

    # 20 x 106.25 (15 % off 125.00), free shipping, 23 % tax: 2,613.75.
    quoted_total = money(261_375)
    page.reload()
    expect(page.locator(".page-head .badge")).to_have_text("Sent")
    expect(page.locator(".quote-document dd.grand")).to_have_text(quoted_total)
    expect(page.locator(".quote-document")).to_contain_text(money(10_625))

    page.get_by_role("link", name="Accept and order").click()
    expect(page).to_have_url(re.compile(rf"/quotes/{number}/accept$"))
    expect(page.locator(".order-summary dd.grand")).to_have_text(quoted_total)
    page.get_by_label("On account (invoice)").check()
    page.get_by_label("Purchase-order number (optional)").fill("PO-2027-118")
    page.get_by_role("button", name="Accept and place the order").click()

    expect(page).to_have_url(re.compile(r"/orders/ORD-\d+$"))
    order_number = page.url.rsplit("/", 1)[1]
    expect(page.locator(".flash-success")).to_contain_text(f"Quote {number} accepted")
    expect(page.locator(".order-totals dd.grand")).to_have_text(quoted_total)
    expect(page.get_by_role("table")).to_contain_text(money(10_625))
    expect(page.get_by_text("PO-2027-118")).to_be_visible()

    [order] = orders_of(clinician.id)
    assert isinstance(order, Order) and order.number == order_number
    assert order.payment_method == PaymentMethod.ACCOUNT and order.total_cents == 261_375
    quote = reload(Quote, number)
    assert quote.status == QuoteStatus.ACCEPTED and quote.order_id == order.id

    # The quote now says it was accepted and links to the order.
    page.goto(f"/quotes/{number}")
    expect(page.locator(".page-head .badge")).to_have_text("Accepted")
    expect(page.get_by_role("link", name=order_number, exact=True)).to_have_attribute("href", f"/orders/{order_number}")
    page.get_by_role("link", name=f"View order {order_number}").click()
    expect(page).to_have_url(re.compile(rf"/orders/{order_number}$"))
