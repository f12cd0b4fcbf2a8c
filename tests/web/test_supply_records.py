"""Records for an inspector: every supply for a practice, a product, a lot or a period, on the
page and as CSV and PDF, with the clinician and licence on record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from shop import clock
from shop.access import Desk
from shop.ordering import orders
from shop.ordering.models import Order
from tests.factories import clinician_with_cart, make_lot, make_staff, make_variant, place_order, ship_order
from tests.helpers import field_error, pdf_text, reload, text


@pytest.fixture
def staff():
    return make_staff(full_name="Rowan Quinn", desks=[Desk.RECALLS, Desk.ORDERS])


@pytest.fixture
def desk(signed_in, staff):
    return signed_in(staff)


@pytest.fixture
def supplied(staff):
    """Two practices supplied in March and May 2027 from lots A-1 (VIT) and B-1 (MESO)."""
    with time_machine.travel(datetime(2027, 3, 10, 10, tzinfo=UTC), tick=False) as traveller:
        vit = make_variant("VIT-9", stock=0, lots=False, name="Vital Booster")
        meso = make_variant("MESO-9", stock=0, lots=False, name="Meso Cocktail")
        make_lot(vit, "A-1", on_hand=30, expires_on=clock.today() + timedelta(days=700))
        make_lot(meso, "B-1", on_hand=30, expires_on=clock.today() + timedelta(days=700))
        march = clinician_with_cart(
            ("VIT-9", 2), ("MESO-9", 1), practice_name="Harbour Clinic", on_account=True, licence_number="MC-11111"
        )
        _ship(staff, march)
        traveller.move_to(datetime(2027, 5, 20, 10, tzinfo=UTC))
        may = clinician_with_cart(
            ("VIT-9", 5), practice_name="Northside Skin", on_account=True, full_name="Dr Sam Okafor"
        )
        _ship(staff, may)
    return vit, meso, march, may


def _ship(staff, user):
    order = place_order(user)
    orders.confirm(order, staff)
    ship_order(reload(Order, order.id), staff)


def test_supplies_of_a_lot_list_every_practice_with_clinician_and_licence(desk, supplied):
    page = text(desk.get("/staff/supplies?lot=a-1"))
    assert "Harbour Clinic" in page and "Northside Skin" in page and "MC-11111" in page and "Dr Sam Okafor" in page
    assert "MESO-9" not in page


def test_supplies_are_found_by_product_practice_and_period(desk, supplied):
    vit, meso, march, may = supplied
    by_product = text(desk.get(f"/staff/supplies?product_id={meso.product_id}"))
    assert "Harbour Clinic" in by_product and "Northside Skin" not in by_product
    by_practice = text(desk.get(f"/staff/supplies?practice_id={may.practice_id}"))
    assert "Northside Skin" in by_practice and "Harbour Clinic" not in by_practice
    in_may = text(desk.get("/staff/supplies?shipped_from=2027-05-01&shipped_to=2027-05-31"))
    assert "Northside Skin" in in_may and "Harbour Clinic" not in in_may
    assert "no supply matches" in text(desk.get("/staff/supplies?lot=NOPE"))


def test_the_files_hold_the_supplies_asked_for(desk, supplied):
    csv = desk.get("/staff/supplies.csv?lot=A-1").get_data(as_text=True)
    lines = csv.strip().splitlines()
    assert lines[0].lstrip("\ufeff").startswith("Shipped,Practice,Order")
    assert len(lines) == 3 and "MC-11111" in csv and "A-1" in csv
    pdf = desk.get("/staff/supplies.pdf?lot=A-1")
    assert pdf.mimetype == "application/pdf"
    words = pdf_text(pdf.data)
    assert "Record of supply" in words and "Harbour Clinic" in words and "7 packs in 2 supplies" in words


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("shipped_from=2027-13-01", "shipped_from"),
        ("practice_id=abc", "practice_id"),
        ("practice_id=99999999999999", "practice_id"),
        ("product_id=x", "product_id"),
        ("lot=" + "x" * 50, "lot"),
    ],
)
def test_a_filter_that_does_not_parse_gets_a_message_not_an_error(desk, supplied, query, field):
    response = desk.get(f"/staff/supplies?{query}")
    assert response.status_code == 422 and field_error(response, field)
    assert desk.get(f"/staff/supplies.csv?{query}").status_code == 200
    assert desk.get(f"/staff/supplies.pdf?{query}").status_code == 200


def test_the_orders_desk_may_read_the_records(signed_in, supplied):
    orders_desk = signed_in(make_staff(desks=[Desk.ORDERS]))
    assert "Harbour Clinic" in text(orders_desk.get("/staff/supplies?lot=A-1"))
    verification = signed_in(make_staff(desks=[Desk.VERIFICATION]))
    assert verification.get("/staff/supplies?lot=A-1").status_code == 403


def test_the_files_links_carry_only_the_filters(desk, supplied):
    page = desk.get("/staff/supplies?lot=A-1&_method=POST&_external=1")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/staff/supplies.csv?lot=A-1" in html and "_method" not in html
    assert desk.get("/staff/lots?q=A&_method=POST&page=2").status_code == 200
