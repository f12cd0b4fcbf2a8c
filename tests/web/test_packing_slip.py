"""The orders desk prints a packing slip per order: what goes in the box and where it goes
(lines, quantities, ship-to, PO and order numbers), and never a price."""

from __future__ import annotations

import re

from shop.access import Desk
from shop.core.formatting import money
from shop.ordering import orders
from shop.ordering.models import CancelCause, Order, OrderStatus
from tests.factories import clinician_with_cart, make_staff, make_variant, place_order
from tests.helpers import pdf_text, reload


def _order() -> Order:
    make_variant("SLIP-A", name="Hydra Boost", price_cents=12_345, stock=20)
    make_variant("SLIP-B", name="Lipo Clear", price_cents=6_789, stock=20)
    clinician = clinician_with_cart(("SLIP-A", 3), ("SLIP-B", 7))
    return place_order(clinician, po_number="PO-7781", note="Deliver before 10am, side entrance.")


def test_the_slip_lists_what_to_pack_and_where_to_send_it_and_no_price(signed_in):
    order = _order()
    desk = signed_in(make_staff(desks={Desk.ORDERS}))

    page = desk.get(f"/staff/orders/{order.number}")
    assert f'href="/staff/orders/{order.number}/packing-slip.pdf"' in page.text
    response = desk.get(f"/staff/orders/{order.number}/packing-slip.pdf")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert f"{order.number}-packing-slip.pdf" in response.headers["Content-Disposition"]
    text = pdf_text(response.data)
    assert f"Packing slip {order.number}" in text
    assert "PO number: PO-7781" in text
    assert re.search(r"SLIP-A\s+Hydra Boost.*\s3\n", text, re.S)
    assert re.search(r"SLIP-B\s+Lipo Clear.*\s7\n", text, re.S)
    assert "10 packs on 2 lines" in text
    for line in order.ship_to.splitlines():
        assert line in text
    assert "Deliver before 10am, side entrance." in text
    for amount in (order.lines[0].unit_price_cents, order.lines[1].unit_price_cents, order.total_cents):
        assert money(amount, order.currency) not in text
    assert not re.search(r"\d+\.\d\d\b", text.replace(order.number, ""))


def test_an_order_with_nothing_to_pack_or_an_unknown_one_has_no_slip(signed_in):
    order = _order()
    desk = signed_in(make_staff(desks={Desk.ORDERS}))
    orders.cancel(order, None, "The clinic called to cancel.", CancelCause.STAFF)
    assert reload(Order, order.id).status == OrderStatus.CANCELLED

    assert desk.get(f"/staff/orders/{order.number}/packing-slip.pdf").status_code == 404
    assert "packing-slip.pdf" not in desk.get(f"/staff/orders/{order.number}").text
    assert desk.get("/staff/orders/ORD-999999/packing-slip.pdf").status_code == 404


def test_only_the_orders_desk_prints_a_slip(signed_in, client):
    order = _order()
    url = f"/staff/orders/{order.number}/packing-slip.pdf"
    clinician = signed_in(reload(Order, order.id).placed_by)

    assert signed_in(make_staff(desks={Desk.QUOTES})).get(url).status_code == 403
    assert clinician.get(url).status_code in (403, 404)
    assert client.get(url).status_code in (302, 303)
