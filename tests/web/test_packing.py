"""The orders desk's packing page: lots offered first expiry first, a parcel recorded from the
form, the lots on the clinician's order page, and nothing typed that breaks the page."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shop import clock
from shop.access import Desk
from shop.ordering import orders
from shop.ordering.models import Order, OrderStatus
from tests.factories import clinician_with_cart, make_lot, make_staff, make_variant, place_order
from tests.helpers import flashes, redirect_path, reload, text


@pytest.fixture
def staff():
    return make_staff(full_name="Siobhan Daly", desks=[Desk.ORDERS])


@pytest.fixture
def packer(signed_in, staff):
    return signed_in(staff)


@pytest.fixture
def order(staff):
    variant = make_variant("PACK-1", stock=0, lots=False)
    make_lot(variant, "LATER", on_hand=20, expires_on=clock.today() + timedelta(days=500))
    make_lot(variant, "FIRST", on_hand=2, expires_on=clock.today() + timedelta(days=200))
    user = clinician_with_cart(("PACK-1", 3))
    placed = place_order(user)
    orders.confirm(placed, staff)
    return reload(Order, placed.id)


def _form(order: Order, **rows) -> dict:
    line = order.lines[0].id
    form = {"carrier": "DHL Express", "tracking_number": "JD0146"}
    for row, (lot, packs) in rows.items():
        form[f"pick-{line}-{row[-1]}-lot"] = lot
        form[f"pick-{line}-{row[-1]}-qty"] = str(packs)
    return form


def test_the_page_offers_the_lots_that_expire_first_and_records_the_parcel(packer, order, signed_in):
    page = packer.get(f"/staff/orders/{order.number}/ship").get_data(as_text=True)
    assert 0 < page.index('value="FIRST"') < page.index('value="LATER"')

    response = packer.post(f"/staff/orders/{order.number}/ship", _form(order, r0=("FIRST", 2), r1=("later", 1)))
    assert redirect_path(response) == f"/staff/orders/{order.number}"
    shown = flashes(packer.get(f"/staff/orders/{order.number}"))
    assert (
        "success",
        f"Parcel {order.number}/1 recorded with its lots; the order is shipped. The clinician has been emailed.",
    ) in shown
    assert reload(Order, order.id).status == OrderStatus.SHIPPED

    clinician = signed_in(reload(Order, order.id).placed_by)
    mine = text(clinician.get(f"/orders/{order.number}"))
    assert "Shipped: parcels and lots" in mine and "FIRST" in mine and "LATER" in mine and "JD0146" in mine


@pytest.mark.parametrize(
    "rows",
    [
        {"r0": ("FIRST", "two")},
        {"r0": ("FIRST", "-1")},
        {"r0": ("FIRST", "9" * 40)},
        {"r0": ("FIRST\x00", 1)},
        {"r0": ("\u0663\u0663", 1)},
        {"r0": ("x" * 5000, 1)},
        {},
    ],
)
def test_nothing_typed_breaks_the_packing_page_and_nothing_ships(packer, order, rows):
    response = packer.post(f"/staff/orders/{order.number}/ship", _form(order, **rows))
    assert response.status_code == 422
    assert ("error", "") not in flashes(response)
    assert reload(Order, order.id).lines[0].shipped_quantity == 0


def test_an_order_not_being_prepared_has_nothing_to_pack(packer, staff):
    make_variant("PACK-2", stock=5)
    placed = place_order(clinician_with_cart(("PACK-2", 1)))
    response = packer.post(f"/staff/orders/{placed.number}/ship", {"carrier": "DHL", "tracking_number": "1"})
    assert redirect_path(response) == f"/staff/orders/{placed.number}"
    assert packer.get("/staff/orders/ORD-999999/ship").status_code == 404
