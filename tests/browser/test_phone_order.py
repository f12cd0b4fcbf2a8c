"""A phone order in a real browser: the orders desk finds the practice, chooses the clinician,
types the lines (checked and priced as they are typed), places the order on account and
confirms it; the clinician receives the same confirmation as for a web order, then the invoice,
whose PDF reads back with the order's number, PO and total."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from shop.access import Desk
from shop.extensions import db
from shop.ordering.models import Order, OrderChannel
from tests.factories import PASSWORD, make_clinician, make_staff, make_variant
from tests.helpers import browser_log_in, delivered, pdf_attachment, pdf_text
from tests.smtp import text_of

pytestmark = pytest.mark.browser


def test_a_phone_order_keyed_by_the_desk_reaches_the_clinician_with_its_invoice(page, live_server, ctx, mailbox):
    make_variant("VIT-1", price_cents=12_900, stock=40, name="Restylane Skinboosters Vital")
    clinician = make_clinician(
        email="dr.byrne@harbour.example",
        full_name="Dr Maeve Byrne",
        practice_name="Harbour Skin Clinic",
        on_account=True,
    )
    clerk = make_staff(email="orders@supplier.example", full_name="Dana Desk", desks=[Desk.ORDERS])

    browser_log_in(page, clerk.email, PASSWORD)
    page.goto("/staff/orders")
    page.get_by_role("link", name="Key in an order").click()
    page.get_by_label("Practice name").fill("harbour")
    page.get_by_role("button", name="Find").click()
    page.get_by_role("link", name="Harbour Skin Clinic").click()
    expect(page.get_by_role("heading", name="Order for Harbour Skin Clinic")).to_be_visible()

    page.get_by_label(re.compile("Dr Maeve Byrne")).check()
    page.get_by_label(re.compile("^Lines")).fill("VIT-1 3\nvital nothing-like-it 1")
    check = page.locator("#line-check")
    # Checked as typed: a moment after the typing stops (longer when the machine is busy).
    expect(check).to_contain_text("$387.00", timeout=20_000)
    expect(check).to_contain_text("no product", timeout=20_000)
    page.get_by_label(re.compile("^Lines")).fill("VIT-1 3")
    expect(check).not_to_contain_text("no product", timeout=20_000)
    expect(check).to_contain_text("Total $", timeout=20_000)
    page.get_by_label("Came in by").select_option("phone")
    page.get_by_label("Their purchase-order number (optional)").fill("PO-7781")
    page.get_by_label("On account (invoice)").check()
    page.get_by_role("button", name="Place the order").click()

    expect(page.locator(".flash-success")).to_contain_text("is placed for Harbour Skin Clinic")
    order = db.session.scalar(select(Order))
    assert (order.channel, order.keyed_by_id, order.po_number) == (OrderChannel.PHONE, clerk.id, "PO-7781")
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator(".flash-success")).to_contain_text("Confirmed")

    db.session.expire_all()
    invoice = db.session.get(Order, order.id).invoice
    [confirmation] = delivered(mailbox, clinician.email, "Thank you for your order")
    assert order.number in text_of(confirmation) and "Our orders desk took it by phone" in text_of(confirmation)
    [invoiced] = delivered(mailbox, clinician.email, f"Invoice {invoice.number}")
    name, data = pdf_attachment(invoiced)
    words = pdf_text(data)
    assert name == f"{invoice.number}.pdf"
    assert invoice.number in words and order.number in words and "PO-7781" in words
    assert f"${order.total_cents / 100:,.2f}" in words
