"""The dashboard as a desk clerk uses it in the morning, in a real browser: the count of orders
to confirm, a click through to the list, an order confirmed, and the count one lower."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, clinician_with_cart, make_staff, make_variant, place_order
from tests.helpers import browser_log_in

pytestmark = pytest.mark.browser


def test_a_clerk_works_the_orders_queue_from_the_dashboard(page, live_server, ctx):
    make_variant("MRN-1", price_cents=9_000, stock=100, name="Morning Booster")
    first, _second = (place_order(clinician_with_cart(("MRN-1", 2))) for _ in range(2))
    clerk = make_staff(email="clerk@supplier.example", full_name="Sam Clerk")

    browser_log_in(page, clerk.email, PASSWORD)
    expect(page).to_have_url(re.compile(r"/staff$"))
    to_confirm = page.get_by_role("link", name=re.compile(r"orders to confirm"))
    expect(to_confirm).to_contain_text("2")

    to_confirm.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Orders to confirm")
    page.get_by_role("link", name=first.number).click()
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator(".flash-success")).to_be_visible()

    page.get_by_role("link", name="Overview").click()
    expect(page.get_by_role("link", name=re.compile(r"order to confirm"))).to_contain_text("1")
    expect(page.get_by_role("link", name=re.compile(r"order to ship"))).to_contain_text("1")
