"""The catalogue desk's lot pages: a delivery scanned into one field, a scan of another product
refused next to that field, a lot quarantined and released from its page, the list of lots
found by number, and no input that breaks a page."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shop.access import Desk
from shop.extensions import db
from shop.lots.models import Lot, LotStatus
from tests.factories import clinician_with_cart, make_staff, make_variant, place_order
from tests.helpers import field_error, flashes, redirect_path, reload, stock_of, text

GTIN = "07640000000018"


@pytest.fixture
def desk(signed_in):
    return signed_in(make_staff(full_name="Casey Moreau", desks=[Desk.CATALOGUE]))


@pytest.fixture
def variant():
    variant = make_variant("SCAN-1", stock=0)
    variant.gtin = GTIN
    db.session.commit()
    return variant


def _page(variant) -> str:
    return f"/staff/catalogue/{variant.product_id}/variants/{variant.id}/stock"


def test_a_delivery_scanned_into_one_field_is_received_into_its_lot(desk, variant):
    scan = f"01{GTIN}17290600" + "10HX-2291\x1d21SN000917"
    response = desk.post(_page(variant), {"kind": "received", "quantity": "12", "scan": scan, "reference": "DN-1"})
    assert redirect_path(response) == _page(variant)
    page = desk.get(_page(variant))
    assert ("success", "12 received: SCAN-1 now has 12 in stock. (lot HX-2291)") in flashes(page)
    lot = db.session.scalar(select(Lot))
    assert (lot.lot_number, lot.expires_on.isoformat(), lot.on_hand) == ("HX-2291", "2029-06-30", 12)
    assert "HX-2291" in text(page) and "30 Jun 2029" in text(page)


def test_a_scan_of_another_product_is_refused_next_to_the_scan_field_and_nothing_is_received(desk, variant):
    response = desk.post(
        _page(variant), {"kind": "received", "quantity": "12", "scan": "0107640000000025172906001" + "0X1"}
    )
    assert response.status_code == 422
    assert "It is another product" in field_error(response, "scan")
    assert stock_of("SCAN-1") == 0 and db.session.scalar(select(Lot)) is None


@pytest.mark.parametrize(
    "form",
    [
        {"kind": "received", "quantity": "1", "scan": "\x00\x01"},
        {"kind": "received", "quantity": "1", "scan": "x" * 5000},
        {"kind": "received", "quantity": "1", "lot_number": "A" * 300, "expires_on": "2030-01-01"},
        {"kind": "received", "quantity": "1", "lot_number": "ÄÖ\u0663", "expires_on": "9999-99-99"},
        {"kind": "written_off", "quantity": "1", "lot_number": "NOPE", "reason": "x"},
    ],
)
def test_nothing_typed_or_scanned_breaks_the_stock_page(desk, variant, form):
    response = desk.post(_page(variant), form)
    assert response.status_code == 422, text(response)
    assert stock_of("SCAN-1") == 0


def test_a_lot_is_quarantined_and_released_from_its_page(desk, variant):
    desk.post(_page(variant), {"kind": "received", "quantity": "5", "lot_number": "Q1", "expires_on": "2030-01-31"})
    lot = db.session.scalar(select(Lot))
    page = f"/staff/lots/{lot.id}"
    assert "Quarantine lot Q1" in text(desk.get(page))

    refused = desk.post(page, {"action": "quarantine", "reason": ""})
    assert redirect_path(refused) == page and reload(Lot, lot.id).status == LotStatus.AVAILABLE

    desk.post(page, {"action": "quarantine", "reason": "Carton crushed."})
    assert ("success", "Lot Q1 quarantined: no longer sold.") in flashes(desk.get(page))
    assert stock_of("SCAN-1") == 0
    assert "Release lot Q1" in text(desk.get(page))

    desk.post(page, {"action": "release", "reason": "Inspected: sound."})
    assert reload(Lot, lot.id).status == LotStatus.AVAILABLE and stock_of("SCAN-1") == 5
    history = text(desk.get(page))
    assert "Carton crushed." in history and "Inspected: sound." in history and "Casey Moreau" in history
    assert desk.get("/staff/lots/999999").status_code == 404


def test_the_stock_page_says_how_many_packs_ordered_a_withdrawn_lot_no_longer_covers(desk, variant):
    desk.post(_page(variant), {"kind": "received", "quantity": "5", "lot_number": "Q2", "expires_on": "2030-01-31"})
    place_order(clinician_with_cart(("SCAN-1", 2)))
    lot = db.session.scalar(select(Lot))
    desk.post(f"/staff/lots/{lot.id}", {"action": "quarantine", "reason": "Temperature excursion."})
    assert "2 packs already ordered are no longer covered by a lot on sale" in text(desk.get(_page(variant)))


def test_lots_are_found_by_number_and_status(desk, variant):
    for number in ("HX-1", "HX-2", "ZZ-9"):
        desk.post(
            _page(variant), {"kind": "received", "quantity": "1", "lot_number": number, "expires_on": "2030-01-31"}
        )
    desk.get(_page(variant))  # the confirmations are read
    found = text(desk.get("/staff/lots?q=hx"))
    assert "HX-1" in found and "HX-2" in found and "ZZ-9" not in found
    assert "No lot matches" in text(desk.get("/staff/lots?status=recalled"))
    assert desk.get("/staff/lots?status=bogus&q=%25").status_code == 200


def test_the_recall_desk_reads_a_lot_but_does_not_hold_it(signed_in, desk, variant):
    desk.post(_page(variant), {"kind": "received", "quantity": "5", "lot_number": "R1", "expires_on": "2030-01-31"})
    lot = db.session.scalar(select(Lot))
    recall_desk = signed_in(make_staff(desks=[Desk.RECALLS]))
    page = recall_desk.get(f"/staff/lots/{lot.id}")
    assert page.status_code == 200 and "Open a recall for this lot" in text(page)
    assert "Quarantine lot R1" not in text(page)
    assert recall_desk.post(f"/staff/lots/{lot.id}", {"action": "quarantine", "reason": "x"}).status_code == 403
    assert reload(Lot, lot.id).status == LotStatus.AVAILABLE
