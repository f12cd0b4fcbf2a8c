"""Placing an order through the checkout service: where it ships, what it costs, what it copies,
and when paying on account is allowed."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from shop import clock
from shop.access import Desk
from shop.cart import services as carts
from shop.errors import CreditLimitExceeded, NotEligible, OutOfStock, PriceChanged
from shop.extensions import db
from shop.invoicing import receipts
from shop.ordering import checkout, credit, orders
from shop.ordering.models import CancelCause, Order, OrderStatus, PaymentMethod
from shop.practices.models import Address
from tests.factories import (
    add_address,
    clinician_with_cart,
    fill_cart,
    make_clinician,
    make_staff,
    make_variant,
    place_order,
    ship_order,
)
from tests.helpers import allow_account, cart_lines, reload, row_count, stock_of

# --- what the order costs ------------------------------------------------------------------


def test_below_the_threshold_the_order_pays_flat_shipping_and_tax_on_goods_and_shipping(ctx):
    make_variant("BST-1", price_cents=12_000)
    user = clinician_with_cart(("BST-1", 2))

    order = place_order(user)

    assert order.subtotal_cents == 24_000
    assert order.shipping_cents == ctx.config["SHIPPING_FLAT_CENTS"] == 1_500
    assert order.tax_rate_bps == 2_300
    assert order.tax_cents == 5_865  # 23 % of 255.00
    assert order.total_cents == 31_365


def test_from_the_free_shipping_threshold_shipping_is_free(ctx):
    make_variant("BST-1", price_cents=10_000)
    user = clinician_with_cart(("BST-1", 5))

    order = place_order(user)

    assert order.subtotal_cents == ctx.config["FREE_SHIPPING_THRESHOLD_CENTS"] == 50_000
    assert order.shipping_cents == 0
    assert (order.tax_cents, order.total_cents) == (11_500, 61_500)


def test_the_configured_tax_rate_and_shipping_are_what_the_order_charges(ctx, monkeypatch):
    monkeypatch.setitem(ctx.config, "TAX_RATE_PERCENT", "8.5")
    monkeypatch.setitem(ctx.config, "SHIPPING_FLAT_CENTS", 990)
    monkeypatch.setitem(ctx.config, "FREE_SHIPPING_THRESHOLD_CENTS", 100_000)
    make_variant("BST-1", price_cents=10_000)
    user = clinician_with_cart(("BST-1", 5))

    order = place_order(user)

    assert (order.shipping_cents, order.tax_rate_bps) == (990, 850)
    assert order.tax_cents == 4_334  # 8.5 % of 509.90 = 43.3415
    assert order.total_cents == 50_000 + 990 + 4_334


def test_a_total_other_than_the_one_shown_is_refused_and_nothing_changes(ctx):
    make_variant("BST-1", stock=10)
    user = clinician_with_cart(("BST-1", 2))
    shown = carts.view_cart(user).totals.total_cents

    with pytest.raises(PriceChanged) as refused:
        place_order(user, expected_total_cents=shown - 1)

    assert "total changed" in refused.value.message
    assert row_count(Order) == 0
    assert stock_of("BST-1") == 10
    assert cart_lines(user) == [("BST-1", 2)]


def test_a_cart_changed_in_another_window_after_the_total_was_shown_is_refused(ctx):
    make_variant("BST-1")
    make_variant("BST-2")
    user = clinician_with_cart(("BST-1", 1))
    shown = carts.view_cart(user).totals.total_cents
    fill_cart(user, ("BST-2", 1))  # another tab

    with pytest.raises(PriceChanged):
        place_order(user, expected_total_cents=shown)

    assert row_count(Order) == 0
    assert cart_lines(user) == [("BST-1", 1), ("BST-2", 1)]


def test_a_price_that_changed_since_it_was_added_to_the_cart_is_never_charged(ctx):
    variant = make_variant("BST-1", price_cents=10_000)
    user = clinician_with_cart(("BST-1", 1))
    variant.price_cents = 11_000
    db.session.commit()

    with pytest.raises(PriceChanged):
        place_order(user)

    assert row_count(Order) == 0
    assert cart_lines(user) == [("BST-1", 1)]


def test_an_empty_cart_cannot_be_checked_out(ctx):
    user = make_clinician(on_account=True)

    with pytest.raises(NotEligible, match="cart is empty"):
        place_order(user, expected_total_cents=0)


def test_a_cart_line_short_of_stock_is_refused_before_anything_is_reserved(ctx):
    make_variant("BST-1", stock=10)
    short = make_variant("BST-2", stock=5)
    user = clinician_with_cart(("BST-1", 2), ("BST-2", 4))
    short.stock_on_hand = 3  # sold to someone else meanwhile
    db.session.commit()

    with pytest.raises(OutOfStock) as refused:
        place_order(user)

    assert "only 3 are left" in refused.value.message and "BST-2" in refused.value.message

    assert (stock_of("BST-1"), stock_of("BST-2")) == (10, 3)
    assert cart_lines(user) == [("BST-1", 2), ("BST-2", 4)]
    assert row_count(Order) == 0


# --- where it ships ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line1", "line2"),
    [
        ("PO Box 12", ""),
        ("P.O. Box 4410", ""),
        ("p o box 7", ""),
        ("Postfach 1234", ""),
        ("Harbour Skin Clinic", "P.O. Box 88"),
        ("Post Office Box 31", ""),
        ("GPO Box 1510", ""),
    ],
)
def test_a_po_box_is_never_offered_and_never_accepted_as_the_delivery_address(ctx, line1, line2):
    make_variant("BST-1", stock=10)
    user = clinician_with_cart(("BST-1", 1))
    box = add_address(user, line1, line2)

    assert box.id not in [a.id for a in checkout.delivery_addresses(user)]
    with pytest.raises(NotEligible) as refused:
        place_order(user, address=box)

    assert refused.value.field == "address_id"
    assert "PO box" in refused.value.message
    assert row_count(Order) == 0
    assert stock_of("BST-1") == 10


@pytest.mark.parametrize("line1", ["14 Boxwood Avenue", "3 Post Office Road", "Unit 5, Depot Boxing Hall"])
def test_a_street_that_merely_sounds_like_a_po_box_is_a_delivery_address(ctx, line1):
    user = make_clinician()
    street = add_address(user, line1)

    assert street.id in [a.id for a in checkout.delivery_addresses(user)]


def test_the_order_ships_to_the_chosen_address_of_the_practice(ctx):
    make_variant("BST-1")
    user = clinician_with_cart(("BST-1", 1))
    warehouse = add_address(user, "Unit 9, Kinsale Road Business Park", "Goods entrance", postcode="T12 K9R0")

    order = place_order(user, address=warehouse)

    assert order.ship_to.splitlines() == [
        user.practice.name,
        "Unit 9, Kinsale Road Business Park",
        "Goods entrance",
        "Cork, Co. Cork T12 K9R0",
    ]
    assert order.ship_to_country == "IE"


def test_an_address_of_another_practice_is_refused(ctx):
    make_variant("BST-1")
    user = clinician_with_cart(("BST-1", 1))
    stranger = make_clinician()

    with pytest.raises(NotEligible) as refused:
        place_order(user, address=stranger.practice.default_address)

    assert refused.value.field == "address_id"
    assert row_count(Order) == 0


def test_the_po_number_and_the_note_reach_the_order_trimmed(ctx):
    make_variant("BST-1")
    user = clinician_with_cart(("BST-1", 1))

    order = place_order(user, po_number="  PO-2026-0042 ", note="  Deliver to reception before 11:00.\nFridge goods. ")

    order = reload(Order, order.id)
    assert order.po_number == "PO-2026-0042"
    assert order.note == "Deliver to reception before 11:00.\nFridge goods."


def test_without_a_po_number_or_note_the_order_is_placed_with_neither(ctx):
    make_variant("BST-1")
    user = clinician_with_cart(("BST-1", 1))

    order = reload(Order, place_order(user).id)

    assert (order.po_number, order.note) == ("", "")


# --- what the order copies -------------------------------------------------------------------


def test_the_order_keeps_names_skus_prices_tax_ship_to_and_licence_whatever_changes_later(ctx, monkeypatch):
    first = make_variant("BST-1", price_cents=12_000, name="Vital Booster")
    make_variant("BST-2", price_cents=4_550, name="Hydro Booster")
    user = clinician_with_cart(("BST-1", 2), ("BST-2", 3), full_name="Dr Maeve Byrne")
    order = place_order(user)
    number, licence = order.number, user.application.licence_number

    first.product.name = "Vital Booster (new formula)"
    first.sku = "BST-1-NEW"
    first.label = "Renamed"
    first.price_cents = 99_000
    user.practice.name = "Renamed Clinic"
    user.practice.default_address.line1 = "1 Moved Street"
    user.application.licence_number = "MCI-999999"
    user.full_name = "Dr Maeve Byrne-Walsh"
    db.session.commit()
    monkeypatch.setitem(ctx.config, "TAX_RATE_PERCENT", "10")

    order = reload(Order, order.id)
    assert order.number == number
    assert [(ln.sku, ln.product_name, ln.quantity, ln.unit_price_cents, ln.line_total_cents) for ln in order.lines] == [
        ("BST-1", "Vital Booster", 2, 12_000, 24_000),
        ("BST-2", "Hydro Booster", 3, 4_550, 13_650),
    ]
    assert {line.tax_rate_bps for line in order.lines} == {2_300}
    assert (order.subtotal_cents, order.tax_rate_bps, order.total_cents) == (37_650, 2_300, 37_650 + 1_500 + 9_005)
    assert order.ship_to.splitlines()[:2] == ["Dr Maeve Byrne Practice", "12 Grand Parade"]
    assert order.practice_name == "Dr Maeve Byrne Practice"
    assert order.clinician_name == "Dr Maeve Byrne"
    assert order.licence_number == licence != "MCI-999999"
    assert order.licence_region == "Medical Council of Ireland"
    assert order.profession == "physician"


def test_placing_the_order_takes_the_stock_empties_the_cart_and_records_who_placed_it(ctx):
    make_variant("BST-1", stock=7)
    make_variant("BST-2", stock=3)
    user = clinician_with_cart(("BST-1", 2), ("BST-2", 3))

    order = place_order(user)

    assert (stock_of("BST-1"), stock_of("BST-2")) == (5, 0)
    assert cart_lines(user) == []
    order = reload(Order, order.id)
    assert order.placed_by_id == user.id and order.practice_id == user.practice_id
    [event] = order.events
    assert (event.action, event.actor_id, event.from_status, event.to_status) == ("placed", user.id, None, "placed")
    assert abs(event.created_at - clock.now()) < timedelta(minutes=1)


def test_order_numbers_are_ord_and_digits_and_unique(ctx):
    make_variant("BST-1", stock=50)
    numbers = []
    for _ in range(4):
        user = clinician_with_cart(("BST-1", 1))
        numbers.append(place_order(user).number)

    assert all(re.fullmatch(r"ORD-\d+", number) for number in numbers)
    assert len(set(numbers)) == 4


def test_an_unverified_clinician_cannot_place_an_order(ctx):
    make_variant("BST-1")
    user = clinician_with_cart(("BST-1", 1))
    user.application.licence_expiry = clock.today() - timedelta(days=1)
    db.session.commit()

    with pytest.raises(NotEligible):
        place_order(user)
    assert row_count(Order) == 0


# --- paying by card or on account ----------------------------------------------------------


def test_a_card_order_waits_for_payment_until_its_pay_by_time(ctx):
    make_variant("BST-1")
    user = clinician_with_cart(("BST-1", 1), on_account=False)

    order = place_order(user, method=PaymentMethod.CARD)

    assert order.status == OrderStatus.AWAITING_PAYMENT
    expected = order.placed_at + timedelta(minutes=ctx.config["ORDER_PAYMENT_MINUTES"])
    assert order.pay_by == expected
    assert order.invoice_due_on is None


def test_an_order_on_account_is_placed_with_its_invoice_due_after_the_practice_terms(ctx):
    make_variant("BST-1")
    user = clinician_with_cart(("BST-1", 1), payment_terms_days=45)

    order = place_order(user)

    assert order.status == OrderStatus.PLACED
    assert order.payment_method == PaymentMethod.ACCOUNT
    assert order.invoice_due_on == clock.today() + timedelta(days=45)
    assert order.pay_by is None


def test_paying_on_account_is_not_offered_until_staff_enable_it(ctx):
    make_variant("BST-1", stock=5)
    user = clinician_with_cart(("BST-1", 1), on_account=False)

    assert PaymentMethod.ACCOUNT not in credit.payment_methods(user)
    with pytest.raises(NotEligible) as refused:
        place_order(user)

    assert refused.value.field == "payment_method"
    assert row_count(Order) == 0
    assert stock_of("BST-1") == 5

    allow_account(user)
    assert PaymentMethod.ACCOUNT in credit.payment_methods(user)
    assert place_order(user).status == OrderStatus.PLACED


def test_an_order_above_the_credit_limit_is_refused_and_the_cart_kept(ctx):
    make_variant("BST-1", price_cents=10_000, stock=10)
    user = clinician_with_cart(("BST-1", 2), credit_limit_cents=25_000)  # 200.00 + 15.00 shipping + 23 % = 264.45

    with pytest.raises(CreditLimitExceeded) as refused:
        place_order(user)

    assert refused.value.field == "payment_method"
    assert "credit" in refused.value.message
    assert row_count(Order) == 0
    assert stock_of("BST-1") == 10
    assert cart_lines(user) == [("BST-1", 2)]


def test_an_order_of_exactly_the_available_credit_is_accepted(ctx):
    make_variant("BST-1", price_cents=10_000)
    user = clinician_with_cart(("BST-1", 2), credit_limit_cents=26_445)

    assert place_order(user).total_cents == 26_445
    assert credit.available_credit(user) == 0


def test_unpaid_orders_on_account_of_the_whole_practice_count_against_the_credit_limit(ctx):
    make_variant("BST-1", price_cents=10_000, stock=10)
    user = make_clinician(on_account=True, credit_limit_cents=60_000)
    colleague = make_clinician(practice_of=user)
    fill_cart(colleague, ("BST-1", 2))
    first = place_order(colleague)  # 264.45 owed

    assert credit.open_account_balance(user.practice_id) == first.total_cents
    assert credit.available_credit(user) == 60_000 - 26_445
    fill_cart(user, ("BST-1", 2))
    place_order(user)  # 528.90 owed
    fill_cart(user, ("BST-1", 1))
    with pytest.raises(CreditLimitExceeded):
        place_order(user)
    assert cart_lines(user) == [("BST-1", 1)]


def test_a_card_order_does_not_use_the_credit_on_account(ctx):
    make_variant("BST-1", price_cents=10_000)
    user = clinician_with_cart(("BST-1", 2), credit_limit_cents=30_000)

    place_order(user, method=PaymentMethod.CARD)

    assert credit.available_credit(user) == 30_000


def test_paying_an_invoice_frees_the_credit_it_used(ctx):
    make_variant("BST-1", price_cents=10_000, stock=10)
    user = clinician_with_cart(("BST-1", 2), credit_limit_cents=30_000)
    first = place_order(user)
    fill_cart(user, ("BST-1", 2))
    with pytest.raises(CreditLimitExceeded):
        place_order(user)
    staff = make_staff(desks={Desk.ORDERS, Desk.FINANCE})
    orders.confirm(first, staff)
    invoice = reload(Order, first.id).invoice
    assert credit.available_credit(user) == 30_000 - invoice.total_cents

    receipts.record_payment(
        staff, invoice, receipts.Receipt(received_on=clock.today(), amount_cents=invoice.total_cents, reference="TRF 1")
    )

    assert credit.available_credit(user) == 30_000
    assert place_order(user).status == OrderStatus.PLACED


def test_cancelled_and_refunded_orders_on_account_no_longer_count_against_the_credit(ctx):
    make_variant("BST-1", price_cents=10_000, stock=10)
    user = clinician_with_cart(("BST-1", 2), credit_limit_cents=60_000)
    staff = make_staff()
    cancelled = place_order(user)
    fill_cart(user, ("BST-1", 2))
    refunded = place_order(user)
    assert credit.available_credit(user) == 60_000 - 2 * 26_445

    orders.cancel(cancelled, staff, "Duplicate order.", CancelCause.STAFF)
    orders.confirm(refunded, staff)
    ship_order(refunded, staff, "DHL", "JD0001")
    orders.mark_refunded(refunded, staff, "Credit note CN-7")

    assert credit.available_credit(user) == 60_000


def test_the_available_credit_is_never_negative(ctx):
    make_variant("BST-1", price_cents=10_000)
    user = clinician_with_cart(("BST-1", 2))
    place_order(user)
    user.practice.credit_limit_cents = 1_000  # lowered by staff afterwards
    db.session.commit()

    assert credit.available_credit(user) == 0


def test_a_po_box_address_left_in_the_practice_is_kept_out_of_the_delivery_addresses_but_not_deleted(ctx):
    user = make_clinician()
    box = add_address(user, "PO Box 12")

    assert [a.id for a in checkout.delivery_addresses(user)] == [user.practice.default_address.id]
    assert db.session.get(Address, box.id) is not None
