"""The cart service: adding, changing and removing lines, volume prices, the flags on lines that
cannot be bought as they stand, accepting new prices, quick order lines and the refusal to
place an order at a price the clinician has not seen."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from shop.accounts import verification
from shop.accounts.licences import ApplicationStatus
from shop.accounts.models import Profession, User
from shop.cart import quick_order as bulk
from shop.cart import services as carts
from shop.cart.models import CartLine
from shop.cart.quick_order import QuickLine
from shop.catalogue.models import ProductStatus, Variant
from shop.errors import CartChanged, NotEligible, NotFound, OutOfStock, PriceChanged
from shop.extensions import db
from shop.ordering.models import Order
from tests.factories import (
    make_applicant,
    make_clinician,
    make_product,
    make_staff,
    make_variant,
    place_order,
    variant_with_breaks,
)
from tests.helpers import change, reload, row_count


def verified_nurse():
    """A registered nurse whose licence staff approved: licensed, but not a prescriber."""
    nurse = make_applicant(profession=Profession.REGISTERED_NURSE)
    verification.decide(nurse.application.id, make_staff(), ApplicationStatus.APPROVED)
    return nurse


def only_row(user):
    view = carts.view_cart(user)
    assert len(view.rows) == 1
    return view.rows[0]


@pytest.fixture
def clinician():
    return make_clinician(on_account=True)


# --- adding -----------------------------------------------------------------------------


def test_adding_a_variant_puts_a_line_with_the_price_the_clinician_saw(clinician):
    variant = variant_with_breaks(price_cents=12900)
    line = carts.add_to_cart(clinician, variant.sku, 2)
    assert (line.quantity, line.seen_unit_price_cents) == (2, 12900)
    row = only_row(clinician)
    assert (row.unit_price_cents, row.line_total_cents, row.ok) == (12900, 25800, True)


def test_adding_the_same_sku_again_adds_to_the_line(clinician):
    variant = variant_with_breaks()
    carts.add_to_cart(clinician, variant.sku, 2)
    carts.add_to_cart(clinician, variant.sku, 3)
    assert row_count(CartLine) == 1
    row = only_row(clinician)
    assert row.line.quantity == 5
    assert (row.unit_price_cents, row.ok) == (9500, True)


def test_a_sku_is_found_whatever_its_case_and_surrounding_spaces(clinician):
    variant = make_variant("RSB-VIT-1L")
    carts.add_to_cart(clinician, "  rsb-vit-1l ", 1)
    assert only_row(clinician).variant.id == variant.id


@pytest.mark.parametrize("sku", ["NOPE-1", "", "   ", "X" * 10_000, "RSB\x00VIT", "' OR 1=1 --"])
def test_an_unknown_sku_is_not_found_and_nothing_is_added(clinician, sku):
    make_product(sku="RSB-VIT-1L")
    with pytest.raises(NotFound) as raised:
        carts.add_to_cart(clinician, sku, 1)
    assert raised.value.field == "sku"
    assert len(raised.value.message) < 120
    assert row_count(CartLine) == 0


@pytest.mark.parametrize("quantity", [0, -1, 1000, 10**12])
def test_a_quantity_outside_one_to_999_is_refused(clinician, quantity):
    variant = variant_with_breaks(stock=10_000)
    with pytest.raises(NotEligible, match="between 1 and 999"):
        carts.add_to_cart(clinician, variant.sku, quantity)
    assert row_count(CartLine) == 0


def test_adding_beyond_999_in_total_is_refused_and_the_line_kept(clinician):
    variant = variant_with_breaks(stock=10_000)
    carts.add_to_cart(clinician, variant.sku, 600)
    with pytest.raises(NotEligible):
        carts.add_to_cart(clinician, variant.sku, 400)
    db.session.rollback()
    assert only_row(clinician).line.quantity == 600


def test_more_than_in_stock_is_refused_with_what_is_left(clinician):
    variant = variant_with_breaks(stock=3)
    with pytest.raises(OutOfStock, match=f"Only 3 of {variant.sku} are in stock"):
        carts.add_to_cart(clinician, variant.sku, 4)
    carts.add_to_cart(clinician, variant.sku, 2)
    with pytest.raises(OutOfStock, match="you already have 2 in your cart"):
        carts.add_to_cart(clinician, variant.sku, 2)
    db.session.rollback()
    assert only_row(clinician).line.quantity == 2


def test_an_out_of_stock_variant_cannot_be_added(clinician):
    variant = variant_with_breaks(stock=0)
    with pytest.raises(OutOfStock, match="out of stock"):
        carts.add_to_cart(clinician, variant.sku, 1)
    assert row_count(CartLine) == 0


def test_a_discontinued_variant_cannot_be_added(clinician):
    variant = variant_with_breaks(discontinued=True)
    with pytest.raises(NotEligible, match="no longer sold"):
        carts.add_to_cart(clinician, variant.sku, 1)


def test_a_product_not_cleared_in_the_shops_market_cannot_be_added(clinician):
    variant = make_variant(market="US")
    with pytest.raises(NotEligible, match=r"not cleared for sale in our market \(EU\)"):
        carts.add_to_cart(clinician, variant.sku, 1)


def test_a_prescription_only_product_is_sold_to_prescribers_only():
    sku = make_variant(prescription_only=True).sku
    with pytest.raises(NotEligible, match="prescription-only"):
        carts.add_to_cart(verified_nurse(), sku, 1)
    physician = make_clinician()
    carts.add_to_cart(physician, sku, 1)
    assert only_row(physician).ok


def test_people_who_may_not_order_cannot_fill_a_cart():
    variant = variant_with_breaks()
    for person in (make_staff(), make_applicant()):
        with pytest.raises(NotEligible):
            carts.add_to_cart(person, variant.sku, 1)
        with pytest.raises(NotEligible):
            bulk.quick_order(person, [QuickLine(1, f"{variant.sku} 1", variant.sku, 1)])
    assert row_count(CartLine) == 0


def test_tabs_adding_the_same_product_at_the_same_moment_all_count(ctx, clinician):
    """Each tab is its own thread, app context and database connection."""
    tabs = 6
    variants = [variant_with_breaks(stock=500) for _ in range(4)]
    user_id = clinician.id

    def add_in_a_tab(sku: str, start: threading.Barrier):
        with ctx.app_context():
            try:
                user = db.session.get(User, user_id)
                db.session.rollback()  # no read transaction held open while waiting
                start.wait(timeout=30)
                return carts.add_to_cart(user, sku, 2).quantity
            finally:
                db.session.remove()

    for variant in variants:
        start = threading.Barrier(tabs)
        with ThreadPoolExecutor(max_workers=tabs) as pool:
            results = [
                future.result(timeout=60)
                for future in [pool.submit(add_in_a_tab, variant.sku, start) for _ in range(tabs)]
            ]
        assert sorted(results)[-1] == 2 * tabs
    db.session.expire_all()
    assert sorted(line.quantity for line in carts.lines_of(clinician)) == [2 * tabs] * len(variants)


def test_lines_changed_in_another_tab_after_checkout_read_them_are_not_taken(ctx, clinician):
    """What checkout does once the order is priced: take exactly the lines it read."""
    first, second = variant_with_breaks(), variant_with_breaks()
    carts.add_to_cart(clinician, first.sku, 2)
    carts.add_to_cart(clinician, second.sku, 1)
    read = carts.lines_of(clinician)
    changed_id = next(line.id for line in read if line.variant_id == first.id)

    def other_tab():
        with ctx.app_context():
            try:
                db.session.get(CartLine, changed_id).quantity = 5
                db.session.commit()
            finally:
                db.session.remove()

    tab = threading.Thread(target=other_tab)
    tab.start()
    tab.join(timeout=30)

    with pytest.raises(CartChanged, match="ordered, or changed, a moment ago in another window"):
        carts.take_lines(clinician, read)
    db.session.rollback()
    assert sorted((line.variant_id, line.quantity) for line in carts.lines_of(clinician)) == [
        (first.id, 5),
        (second.id, 1),
    ]
    carts.take_lines(clinician, carts.lines_of(clinician))
    db.session.commit()
    assert carts.lines_of(clinician) == []


# --- changing and removing --------------------------------------------------------------


def test_volume_prices_follow_the_quantity_up_and_back_down_without_a_flag(clinician):
    variant = variant_with_breaks(price_cents=10000)
    line = carts.add_to_cart(clinician, variant.sku, 4)
    seen = []
    for quantity in (4, 5, 9, 10, 12, 9, 4, 1):
        carts.set_quantity(clinician, line.id, quantity)
        row = only_row(clinician)
        seen.append((row.unit_price_cents, row.line_total_cents, row.price_changed))
    assert seen == [
        (10000, 40000, False),
        (9500, 47500, False),
        (9500, 85500, False),
        (9000, 90000, False),
        (9000, 108000, False),
        (9500, 85500, False),
        (10000, 40000, False),
        (10000, 10000, False),
    ]


def test_setting_a_quantity_of_zero_removes_the_line(clinician):
    variant = variant_with_breaks()
    line = carts.add_to_cart(clinician, variant.sku, 3)
    carts.set_quantity(clinician, line.id, 0)
    assert carts.view_cart(clinician).is_empty


def test_removing_a_line_empties_it_from_the_cart(clinician):
    first, second = variant_with_breaks(), variant_with_breaks()
    line = carts.add_to_cart(clinician, first.sku, 1)
    carts.add_to_cart(clinician, second.sku, 1)
    carts.remove_line(clinician, line.id)
    assert only_row(clinician).variant.sku == second.sku


def test_nobody_can_change_or_remove_another_clinicians_line(clinician):
    variant = variant_with_breaks()
    line = carts.add_to_cart(clinician, variant.sku, 2)
    other = make_clinician()
    with pytest.raises(NotFound):
        carts.set_quantity(other, line.id, 5)
    with pytest.raises(NotFound):
        carts.set_quantity(other, line.id, 0)
    with pytest.raises(NotFound):
        carts.remove_line(other, line.id)
    with pytest.raises(NotFound):
        carts.remove_line(clinician, line.id + 1000)
    assert reload(CartLine, line.id).quantity == 2


def test_two_clinicians_have_separate_carts(clinician):
    variant = variant_with_breaks()
    other = make_clinician()
    carts.add_to_cart(clinician, variant.sku, 2)
    carts.add_to_cart(other, variant.sku, 7)
    assert only_row(clinician).line.quantity == 2
    assert only_row(other).line.quantity == 7
    assert only_row(other).unit_price_cents == 9500


# --- lines that cannot be bought as they stand ------------------------------------------


def _deactivate_variant(variant):
    variant.active = False


def _deactivate_product(variant):
    variant.product.status = ProductStatus.RETIRED


def _withdraw_clearance(variant):
    variant.product.status_in("EU").sale_permitted = False


def _sell_out(variant):
    variant.stock_on_hand = 0


def _short_stock(variant):
    variant.stock_on_hand = 2


@pytest.mark.parametrize(
    ("change", "problem", "availability"),
    [
        (_deactivate_variant, "no longer sold", "Discontinued"),
        (_deactivate_product, "no longer sold", "Discontinued"),
        (_withdraw_clearance, "not cleared for sale", "Not available"),
        (_sell_out, "Out of stock", "Out of stock"),
        (_short_stock, "Only 2 in stock", "Only 2 left"),
    ],
)
def test_a_line_that_became_unavailable_is_flagged_and_blocks_checkout(clinician, change, problem, availability):
    variant = variant_with_breaks(stock=50)
    carts.add_to_cart(clinician, variant.sku, 3)
    change(reload(Variant, variant.id))
    db.session.commit()
    view = carts.view_cart(clinician)
    row = view.rows[0]
    assert any(problem in text for text in row.problems)
    assert row.availability == availability
    assert view.has_unavailable and not view.can_check_out


def test_a_base_price_change_is_flagged_with_the_old_price_until_accepted(clinician):
    variant = variant_with_breaks(price_cents=10000)
    carts.add_to_cart(clinician, variant.sku, 2)
    change(variant, price_cents=11000)
    view = carts.view_cart(clinician)
    row = view.rows[0]
    assert (row.price_changed, row.line.seen_unit_price_cents, row.unit_price_cents) == (True, 10000, 11000)
    assert view.has_price_changes and not view.can_check_out
    assert carts.accept_current_prices(clinician) == 0
    view = carts.view_cart(clinician)
    assert view.can_check_out and view.rows[0].line_total_cents == 22000


def test_a_volume_price_change_is_flagged_too(clinician):
    variant = variant_with_breaks(price_cents=10000)
    carts.add_to_cart(clinician, variant.sku, 6)
    reload(Variant, variant.id).price_breaks[0].unit_price_cents = 9700
    db.session.commit()
    row = only_row(clinician)
    assert (row.price_changed, row.line.seen_unit_price_cents, row.unit_price_cents) == (True, 9500, 9700)


def test_a_price_drop_is_flagged_as_well_so_the_total_never_moves_unseen(clinician):
    variant = variant_with_breaks(price_cents=10000)
    carts.add_to_cart(clinician, variant.sku, 1)
    change(variant, price_cents=9000)
    assert only_row(clinician).price_changed


def test_changing_the_quantity_does_not_accept_a_changed_price(clinician):
    variant = variant_with_breaks(price_cents=10000)
    line = carts.add_to_cart(clinician, variant.sku, 2)
    change(variant, price_cents=12000)
    carts.set_quantity(clinician, line.id, 3)
    carts.add_to_cart(clinician, variant.sku, 1)
    row = only_row(clinician)
    assert row.line.quantity == 4
    assert row.price_changed and row.line.seen_unit_price_cents == 10000


def test_prices_that_moved_again_after_the_page_was_shown_are_not_accepted(clinician):
    first, second = variant_with_breaks(price_cents=10000), variant_with_breaks(price_cents=20000)
    one = carts.add_to_cart(clinician, first.sku, 1)
    two = carts.add_to_cart(clinician, second.sku, 1)
    change(first, price_cents=10500)
    change(second, price_cents=21000)
    shown = {one.id: 10500, two.id: 21000}  # what the cart page showed
    change(second, price_cents=25000)  # and staff change it again meanwhile
    assert carts.accept_current_prices(clinician, shown) == 1
    rows = {row.variant.sku: row for row in carts.view_cart(clinician).rows}
    assert not rows[first.sku].price_changed
    assert rows[second.sku].price_changed and rows[second.sku].line.seen_unit_price_cents == 20000


def test_removing_unavailable_lines_keeps_the_good_ones(clinician):
    good, gone, short, sold_out = (variant_with_breaks(stock=50) for _ in range(4))
    for variant in (good, gone, short, sold_out):
        carts.add_to_cart(clinician, variant.sku, 5)
    change(gone, active=False)
    change(short, stock_on_hand=4)
    change(sold_out, stock_on_hand=0)
    assert carts.remove_unavailable(clinician) == 3
    view = carts.view_cart(clinician)
    assert [row.variant.sku for row in view.rows] == [good.sku]
    assert view.can_check_out


def test_the_cart_totals_use_the_shops_shipping_and_tax(clinician):
    variant = variant_with_breaks(price_cents=12900)
    carts.add_to_cart(clinician, variant.sku, 1)
    totals = carts.view_cart(clinician).totals
    assert (totals.subtotal_cents, totals.shipping_cents) == (12900, 1500)
    assert totals.tax_cents == 3312  # 23% of 144.00
    assert totals.total_cents == 12900 + 1500 + 3312
    carts.add_to_cart(clinician, variant.sku, 3)  # 4 x 129.00 = 516.00, above the threshold
    totals = carts.view_cart(clinician).totals
    assert (totals.subtotal_cents, totals.shipping_cents, totals.tax_cents) == (51600, 0, 11868)


# --- never charged at a price the clinician did not see ---------------------------------


def test_an_order_is_refused_while_a_price_change_is_pending(clinician):
    variant = variant_with_breaks(price_cents=10000)
    carts.add_to_cart(clinician, variant.sku, 2)
    change(variant, price_cents=15000)
    current_total = carts.view_cart(clinician).totals.total_cents  # even the right new total
    with pytest.raises(PriceChanged):
        place_order(clinician, expected_total_cents=current_total)
    assert row_count(Order) == 0
    assert reload(Variant, variant.id).stock_on_hand == 50
    assert only_row(clinician).line.quantity == 2

    carts.accept_current_prices(clinician)
    order = place_order(clinician)
    assert [(line.unit_price_cents, line.line_total_cents) for line in order.lines] == [(15000, 30000)]


def test_an_order_is_refused_when_the_total_differs_from_the_one_shown(clinician):
    variant = variant_with_breaks(price_cents=10000)
    carts.add_to_cart(clinician, variant.sku, 2)
    total = carts.view_cart(clinician).totals.total_cents
    with pytest.raises(PriceChanged):
        place_order(clinician, expected_total_cents=total - 1)
    assert row_count(Order) == 0


@pytest.mark.parametrize(("values", "refusal"), [({"active": False}, NotEligible), ({"stock_on_hand": 4}, OutOfStock)])
def test_an_order_is_refused_while_a_line_is_unavailable(clinician, values, refusal):
    variant = variant_with_breaks(stock=50)
    carts.add_to_cart(clinician, variant.sku, 5)
    change(variant, **values)
    with pytest.raises(refusal):
        place_order(clinician)
    assert row_count(Order) == 0
    assert only_row(clinician).line.quantity == 5


def test_an_order_is_charged_at_the_volume_price_of_its_quantity(clinician):
    variant = variant_with_breaks(price_cents=10000, stock=50)
    carts.add_to_cart(clinician, variant.sku, 10)
    order = place_order(clinician)
    assert [(line.quantity, line.unit_price_cents, line.line_total_cents) for line in order.lines] == [
        (10, 9000, 90000)
    ]
    assert order.subtotal_cents == 90000 and order.shipping_cents == 0 and order.tax_cents == 20700
    assert carts.view_cart(clinician).is_empty


# --- quick order and reorder ------------------------------------------------------------


def test_quick_order_adds_each_line_on_its_own_and_reports_on_every_one(clinician):
    good = variant_with_breaks(stock=50)
    scarce = variant_with_breaks(stock=2)
    report = bulk.quick_order(
        clinician,
        [
            QuickLine(1, f"{good.sku} 3", good.sku, 3),
            QuickLine(2, "what is this", problem="Not understood: write the SKU, then the quantity."),
            QuickLine(3, "NOPE-1 2", "NOPE-1", 2),
            QuickLine(4, f"{scarce.sku} 5", scarce.sku, 5),
            QuickLine(5, f"{good.sku} 2", good.sku, 2),
        ],
    )
    assert [(line.line_number, line.added) for line in report] == [
        (1, True),
        (2, False),
        (3, False),
        (4, False),
        (5, True),
    ]
    assert "Not understood" in report[1].message
    assert "NOPE-1" in report[2].message
    assert "Only 2" in report[3].message
    assert only_row(clinician).line.quantity == 5


def test_a_quick_order_of_more_than_200_lines_adds_nothing(clinician):
    variant = variant_with_breaks(stock=999)
    lines = [QuickLine(n, f"{variant.sku} 1", variant.sku, 1) for n in range(1, 202)]
    with pytest.raises(NotEligible, match="at most 200"):
        bulk.quick_order(clinician, lines)
    assert row_count(CartLine) == 0
    assert len(bulk.quick_order(clinician, lines[:200])) == 200
    assert only_row(clinician).line.quantity == 200


def test_reorder_puts_the_lines_back_and_reports_what_is_gone(clinician):
    kept, dropped = variant_with_breaks(price_cents=10000), variant_with_breaks(price_cents=5000)
    carts.add_to_cart(clinician, kept.sku, 2)
    carts.add_to_cart(clinician, dropped.sku, 1)
    order = place_order(clinician)
    change(dropped, active=False)
    change(kept, price_cents=11000)

    report = bulk.reorder(clinician, reload(Order, order.id).lines)
    assert [(line.added, kept.sku in line.text or dropped.sku in line.text) for line in report] == [
        (True, True),
        (False, True),
    ]
    assert "no longer sold" in report[1].message
    row = only_row(clinician)
    assert (row.variant.sku, row.line.quantity, row.unit_price_cents, row.price_changed) == (kept.sku, 2, 11000, False)
