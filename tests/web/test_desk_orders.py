"""Orders keyed in by the orders desk (/staff/orders/new) for a practice that phoned, faxed or
emailed: the clinician whose licence goes on the order, lines by SKU or name checked by the same
rules as the web checkout (stock, agreed prices, prescriber and market rules, suspension, credit,
overdue invoices), the channel and PO number, payment on account or by an emailed card link, and
a clinician's cart turned into an order. Every mistake gets a message; nothing half-placed."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from shop import clock
from shop.access import Desk
from shop.accounts.models import Profession
from shop.catalogue import price_lists
from shop.catalogue.models import Variant
from shop.core.audit import AuditEntry
from shop.extensions import db
from shop.ordering.models import Order, OrderChannel, OrderStatus, PaymentMethod
from shop.practices.models import Practice, PracticeStatus
from tests.factories import (
    fill_cart,
    invoiced_order,
    make_clinician,
    make_product,
    make_staff,
    make_variant,
)
from tests.helpers import (
    cart_lines,
    change,
    delivered,
    field_error,
    flashes,
    redirect_path,
    reload,
    stock_of,
    text,
)
from tests.smtp import text_of

TOTAL = re.compile(r'name="expected_total" type="hidden" value="(\d+)"')


@pytest.fixture
def desk(signed_in):
    clerk = make_staff(full_name="Dana Desk")
    return signed_in(clerk), clerk


@pytest.fixture
def practice_on_account():
    make_variant("VIT-1", price_cents=10_000, stock=20)
    make_product(name="Kybella", sku="KYB-1", price_cents=50_000, stock=5, prescription_only=True)
    owner = make_clinician(on_account=True, full_name="Dr Maeve Byrne", practice_name="Harbour Skin Clinic")
    nurse = make_clinician(practice_of=owner, full_name="Nurse Orla Kelly", profession=Profession.REGISTERED_NURSE)
    return owner, nurse


def order_form(practice_id: int, clinician_id: int, lines: str, **fields) -> dict:
    practice = db.session.get(Practice, practice_id)
    values = {
        "practice_id": str(practice_id),
        "clinician_id": str(clinician_id),
        "lines": lines,
        "address_id": str(practice.default_address.id),
        "channel": "phone",
        "po_number": "",
        "note": "",
        "payment_method": "account",
    }
    values.update(fields)
    return {name: value for name, value in values.items() if value is not None}


def check_then_place(browser, form: dict):
    """Check the lines as the desk does, then place the order at the total the page showed."""
    checked = browser.post("/staff/orders/new", {**form, "action": "check"})
    total = TOTAL.search(checked.get_data(as_text=True))
    return browser.post(
        "/staff/orders/new", {**form, "action": "place", "expected_total": total.group(1) if total else ""}
    )


def test_the_desk_finds_the_practice_and_keys_in_a_phone_order_on_account(desk, practice_on_account, mailbox):
    browser, clerk = desk
    owner, _ = practice_on_account

    found = text(browser.get("/staff/orders/new?q=harbour"))
    assert "Harbour Skin Clinic" in found
    page = text(browser.get(f"/staff/orders/new?practice={owner.practice_id}"))
    assert "Order for Harbour Skin Clinic" in page and "Dr Maeve Byrne" in page and "Nurse Orla Kelly" in page

    placed = check_then_place(
        browser, order_form(owner.practice_id, owner.id, "VIT-1 3\nKybella, 1", po_number="PO-551", channel="phone")
    )

    assert placed.status_code == 303
    order = db.session.scalar(select(Order))
    assert redirect_path(placed) == f"/staff/orders/{order.number}"
    assert (order.channel, order.keyed_by_id, order.placed_by_id) == (OrderChannel.PHONE, clerk.id, owner.id)
    assert (order.licence_number, order.po_number, order.status) == (
        reload(owner).application.licence_number,
        "PO-551",
        OrderStatus.PLACED,
    )
    assert [(line.sku, line.quantity) for line in order.lines] == [("VIT-1", 3), ("KYB-1", 1)]
    assert stock_of("VIT-1") == 17
    assert "By phone, keyed in by Dana Desk" in text(browser.get(f"/staff/orders/{order.number}"))
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "order.placed")).all()
    assert entry.actor_id == clerk.id
    [confirmation] = delivered(mailbox, owner.email, "Thank you for your order")
    assert "Our orders desk took it by phone (your PO PO-551)" in text_of(confirmation)


def test_the_lines_are_checked_by_the_web_rules_for_the_clinician_who_orders(desk, practice_on_account):
    browser, _ = desk
    owner, nurse = practice_on_account
    make_product(name="Not Here", sku="NOT-EU", market="US")
    make_variant("LOW-1", stock=1)

    checked = browser.post(
        "/staff/orders/new",
        {
            **order_form(
                owner.practice_id,
                nurse.id,
                "Kybella 1\nNOT-EU 1\nLOW-1 5\nNOPE-9 1\nVIT-1 two\nVIT-1 2\nvit-1 1\nVIT-1 0",
            ),
            "action": "check",
        },
    )
    page = text(checked)

    assert "prescription-only" in page
    assert "not cleared for sale" in page
    assert "Only 1 of LOW-1 in stock" in page
    assert "NOPE-9" in page
    assert "then the number of packs" in page
    assert "VIT-1 is on line 6 already" in page
    assert "Quantities are" in page
    placed = browser.post(
        "/staff/orders/new",
        {**order_form(owner.practice_id, nurse.id, "Kybella 1"), "action": "place", "expected_total": "0"},
    )
    assert placed.status_code == 422 and "prescription-only" in field_error(placed, "lines")
    assert db.session.scalar(select(Order)) is None


def test_the_practices_agreed_prices_are_what_the_desk_charges(desk, practice_on_account):
    browser, _ = desk
    owner, _ = practice_on_account
    price_lists.set_agreed_price(make_staff(), reload(owner).practice, "VIT-1", 8_000)

    placed = check_then_place(browser, order_form(owner.practice_id, owner.id, "VIT-1 2"))

    assert placed.status_code == 303
    assert db.session.scalar(select(Order)).lines[0].unit_price_cents == 8_000


def test_a_total_that_changed_since_the_check_is_shown_again_and_nothing_is_placed(desk, practice_on_account):
    browser, _ = desk
    owner, _ = practice_on_account
    form = order_form(owner.practice_id, owner.id, "VIT-1 2")
    checked = browser.post("/staff/orders/new", {**form, "action": "check"})
    seen = TOTAL.search(checked.get_data(as_text=True)).group(1)
    change(db.session.scalar(select(Variant).where(Variant.sku == "VIT-1")), price_cents=11_000)

    placed = browser.post("/staff/orders/new", {**form, "action": "place", "expected_total": seen})

    assert placed.status_code == 422 and "check them again" in text(placed)
    assert db.session.scalar(select(Order)) is None
    again = browser.post(
        "/staff/orders/new",
        {**form, "action": "place", "expected_total": TOTAL.search(placed.get_data(as_text=True)).group(1)},
    )
    assert again.status_code == 303, text(again)[:3000]


def test_a_card_order_sends_the_clinician_a_stripe_payment_link(desk, practice_on_account, stripe, mailbox):
    browser, _ = desk
    owner, _ = practice_on_account

    placed = check_then_place(browser, order_form(owner.practice_id, owner.id, "VIT-1 1", payment_method="card"))

    order = db.session.scalar(select(Order))
    assert placed.status_code == 303 and order.status == OrderStatus.AWAITING_PAYMENT
    assert order.payment_method == PaymentMethod.CARD and order.stripe_session_id
    assert timedelta(hours=22) < order.pay_by - order.placed_at <= timedelta(hours=23)
    [link] = delivered(mailbox, owner.email, "Pay for your order by card")
    assert stripe.session(order.stripe_session_id)["url"] in text_of(link)
    assert any(
        "payment link is emailed" in message for _, message in flashes(browser.get(f"/staff/orders/{order.number}"))
    )
    mailbox.clear()
    again = browser.post(f"/staff/orders/{order.number}/payment-link")
    assert redirect_path(again) == f"/staff/orders/{order.number}"
    assert delivered(mailbox, owner.email, "Pay for your order by card")


def test_the_desk_orders_what_a_clinician_has_in_their_cart_and_the_cart_is_emptied(desk, practice_on_account):
    browser, _ = desk
    owner, nurse = practice_on_account
    fill_cart(nurse, ("VIT-1", 2))

    page = browser.get(f"/staff/orders/new?practice={owner.practice_id}")
    assert "order their cart (1 line)" in text(page)
    prefilled = browser.get(f"/staff/orders/new?practice={owner.practice_id}&clinician={nurse.id}&cart=1")
    assert "VIT-1 2" in prefilled.get_data(as_text=True) and "These are the lines of the clinician" in text(prefilled)

    placed = check_then_place(browser, order_form(owner.practice_id, nurse.id, "ignored", from_cart="1"))

    assert placed.status_code == 303
    order = db.session.scalar(select(Order))
    assert [(line.sku, line.quantity) for line in order.lines] == [("VIT-1", 2)]
    assert order.placed_by_id == nurse.id and cart_lines(reload(nurse)) == []


def test_a_lapsed_licence_orders_nothing_and_a_suspended_practice_is_refused(desk, practice_on_account):
    browser, _ = desk
    owner, nurse = practice_on_account
    application = reload(nurse).application
    application.licence_expiry = clock.today() - timedelta(days=1)
    db.session.commit()

    page = text(browser.get(f"/staff/orders/new?practice={owner.practice_id}"))
    lapsed = browser.post(
        "/staff/orders/new",
        {**order_form(owner.practice_id, nurse.id, "VIT-1 1"), "action": "place", "expected_total": "1"},
    )

    assert "Nurse Orla Kelly" not in page
    assert lapsed.status_code == 422 and field_error(lapsed, "clinician_id")
    practice = reload(owner).practice
    practice.status, practice.suspension_reason = PracticeStatus.SUSPENDED, "Invoices overdue."
    db.session.commit()
    assert "Ordering is suspended for this practice" in text(
        browser.get(f"/staff/orders/new?practice={owner.practice_id}")
    )
    refused = check_then_place(browser, order_form(owner.practice_id, owner.id, "VIT-1 1"))
    assert refused.status_code == 422 and "suspended" in text(refused)
    assert db.session.scalar(select(Order)) is None


def test_an_overdue_practice_is_offered_card_only(signed_in, stripe):
    owner = make_clinician(on_account=True, payment_terms_days=3)
    invoiced_order(owner)

    with time_machine.travel(clock.now() + timedelta(days=5)):
        page = signed_in(make_staff()).get(f"/staff/orders/new?practice={owner.practice_id}")

    html = page.get_data(as_text=True)
    assert 'value="card"' in html and 'value="account"' not in html


def test_the_credit_limit_holds_for_orders_keyed_in(desk):
    browser, _ = desk
    make_variant("VIT-1", price_cents=10_000, stock=20)
    owner = make_clinician(on_account=True, credit_limit_cents=20_000)

    refused = check_then_place(browser, order_form(owner.practice_id, owner.id, "VIT-1 5"))

    assert refused.status_code == 422 and "available credit" in text(refused)
    assert db.session.scalar(select(Order)) is None


def test_the_live_check_answers_with_the_lines_priced(desk, practice_on_account):
    browser, _ = desk
    owner, nurse = practice_on_account

    checked = browser.post(
        "/staff/orders/new/check",
        {"practice_id": str(owner.practice_id), "clinician_id": str(nurse.id), "lines": "VIT-1 2\nKybella 1"},
    )
    blank = browser.post("/staff/orders/new/check", {"practice_id": str(owner.practice_id), "lines": "VIT-1 1"})

    data = checked.get_json()
    assert data["ok"] is False and data["lines"][0]["total"] == "$200.00"
    assert "prescription-only" in data["lines"][1]["problem"]
    assert blank.status_code == 422


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"channel": "web"}, "channel"), ({"po_number": "P" * 61}, "po_number"), ({"lines": "x" * 10_001}, "lines")],
)
def test_a_form_mistyped_gets_a_message_next_to_the_field(desk, practice_on_account, fields, field):
    browser, _ = desk
    owner, _ = practice_on_account

    form = {**order_form(owner.practice_id, owner.id, "VIT-1 1"), **fields, "action": "place"}
    response = browser.post("/staff/orders/new", form)

    assert response.status_code == 422 and field_error(response, field)
    assert db.session.scalar(select(Order)) is None


def test_another_practices_address_or_clinician_or_an_unknown_practice_places_nothing(desk, practice_on_account):
    browser, _ = desk
    owner, _ = practice_on_account
    stranger = make_clinician(on_account=True)

    wrong_address = check_then_place(
        browser,
        order_form(owner.practice_id, owner.id, "VIT-1 1", address_id=str(stranger.practice.default_address.id)),
    )
    wrong_clinician = check_then_place(browser, order_form(owner.practice_id, stranger.id, "VIT-1 1"))

    assert wrong_address.status_code == 422 and wrong_clinician.status_code == 422
    assert db.session.scalar(select(Order)) is None
    assert browser.get("/staff/orders/new?practice=abc").status_code == 404
    assert browser.get("/staff/orders/new?practice=99999999999").status_code == 404


def test_only_the_orders_desk_keys_in_orders(signed_in, practice_on_account):
    owner, _ = practice_on_account
    quotes_only = signed_in(make_staff(desks={Desk.QUOTES}))

    assert quotes_only.get(f"/staff/orders/new?practice={owner.practice_id}").status_code == 403
    assert quotes_only.post("/staff/orders/new/check", {"practice_id": str(owner.practice_id)}).status_code == 403
