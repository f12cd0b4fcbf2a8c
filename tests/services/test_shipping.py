"""Shipments by lot: the desk is offered the lots that expire first, an order ships in one or
more parcels split across lots, a lot that may not leave (expired, held, recalled, short-dated)
or a scan of another product is refused, two desks packing the last packs of a lot never both
get them, and the clinic sees every lot in the email, on the order page and on the invoice."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select

from shop import clock
from shop.accounts.models import User
from shop.core import mailer
from shop.errors import InvalidTransition, LotRefusal, ShopError
from shop.extensions import db
from shop.invoicing.documents import invoice_pdf
from shop.lots import holds
from shop.lots.models import Lot, LotStatus
from shop.ordering import orders
from shop.ordering.models import CancelCause, Order, OrderStatus
from shop.shipping import packing
from shop.shipping.models import ShipmentLine
from tests.factories import clinician_with_cart, make_lot, make_staff, make_variant, place_order
from tests.helpers import pdf_text, reload, stock_of
from tests.smtp import text_of

GTIN = "07640000000018"


@pytest.fixture
def desk():
    return make_staff(full_name="Siobhan Daly")


def _confirmed(desk, *lines, user=None) -> Order:
    order = place_order(user or clinician_with_cart(*lines))
    orders.confirm(order, desk)
    return reload(Order, order.id)


def _parcel(order: Order, *picks: tuple[str, int], carrier="DHL", tracking="JD1") -> packing.Parcel:
    """Picks as (lot, packs) for the order's first line."""
    line_id = order.lines[0].id
    return packing.Parcel(carrier, tracking, tuple(packing.Pick(line_id, lot, packs) for lot, packs in picks))


def _variant_with_lots(sku="FEFO-1", *lots: tuple[str, int, int]):
    """A variant whose stock is the given lots: (number, packs, days to expiry)."""
    variant = make_variant(sku, stock=0, lots=False)
    variant.gtin = GTIN
    for number, packs, days in lots:
        make_lot(variant, number, on_hand=packs, expires_on=clock.today() + timedelta(days=days))
    return variant


def test_the_desk_is_offered_the_lot_that_expires_first_split_across_lots_and_never_a_short_dated_one(ctx, desk):
    _variant_with_lots("FEFO-1", ("LATE", 50, 700), ("SOON", 3, 200), ("SHORT", 9, 60), ("HELD", 9, 150))
    holds.quarantine(desk, db.session.scalar(select(Lot).where(Lot.lot_number == "HELD")), "Damaged carton.")
    order = _confirmed(desk, ("FEFO-1", 5))

    [(line_id, plan)] = packing.suggest(order).items()
    assert [(lot.lot_number, packs) for lot, packs in plan] == [("SOON", 3), ("LATE", 2)]


def test_an_order_ships_in_parcels_and_ships_when_the_last_pack_has_left(ctx, desk, settled, mailbox):
    _variant_with_lots("FEFO-1", ("SOON", 3, 200), ("LATE", 50, 700))
    user = clinician_with_cart(("FEFO-1", 5))
    order = _confirmed(desk, user=user)
    settled()

    first = packing.ship(desk, order, _parcel(order, ("soon", 3), tracking="JD1"))
    assert reload(Order, order.id).status == OrderStatus.PROCESSING
    assert first.reference == f"{order.number}/1"
    with pytest.raises(InvalidTransition, match="has shipped"):
        orders.cancel(reload(Order, order.id), desk, "Changed mind.", CancelCause.STAFF)

    order = reload(Order, order.id)
    packing.ship(desk, order, _parcel(order, ("LATE", 2), carrier="UPS", tracking="1Z9"))
    order = reload(Order, order.id)
    assert order.status == OrderStatus.SHIPPED and (order.carrier, order.tracking_number) == ("UPS", "1Z9")
    assert order.lines[0].shipped_quantity == 5
    lots = {lot.lot_number: lot.on_hand for lot in db.session.scalars(select(Lot))}
    assert lots == {"SOON": 0, "LATE": 48}
    assert stock_of("FEFO-1") == 48  # reserved at checkout; shipping takes from the shelf, not again from the stock

    mailer.deliver_due()
    subjects = [m["Subject"] for m in mailbox.to(user.email) if "on its way" in m["Subject"]]
    assert subjects == [
        f"Part of your order is on its way (parcel 1) ({order.number})",
        f"Your order is on its way ({order.number})",
    ]
    partial = next(m for m in mailbox.to(user.email) if "parcel 1" in m["Subject"])
    body = text_of(partial)
    assert "3 x lot SOON, expires" in body and "Still to come" in body and "FEFO-1" in body


@pytest.mark.parametrize(
    ("status", "days", "message"),
    [
        (LotStatus.QUARANTINED, 400, "is quarantined"),
        (LotStatus.RECALLED, 400, "is recalled"),
        (LotStatus.AVAILABLE, 30, "within the 90 days of shelf life"),
        (LotStatus.AVAILABLE, -1, "expired on"),
    ],
)
def test_a_lot_that_may_not_leave_is_refused_and_nothing_is_recorded(ctx, desk, status, days, message):
    variant = _variant_with_lots("FEFO-1", ("GOOD", 10, 400))
    order = _confirmed(desk, ("FEFO-1", 2))
    bad = make_lot(variant, "BAD", on_hand=5, status=status, expires_on=clock.today() + timedelta(days=days))
    with pytest.raises(LotRefusal, match=message):
        packing.ship(desk, order, _parcel(order, ("BAD", 2)))
    assert reload(Lot, bad.id).on_hand == 5
    assert db.session.scalar(select(ShipmentLine)) is None
    assert reload(Order, order.id).lines[0].shipped_quantity == 0


def test_the_shelf_life_margin_is_configuration(ctx, desk):
    _variant_with_lots("FEFO-1", ("SOON", 10, 40))
    order = _confirmed(desk, ("FEFO-1", 1))
    with pytest.raises(LotRefusal, match="within the 90 days"):
        packing.ship(desk, order, _parcel(order, ("SOON", 1)))
    config = ctx.config
    config["MIN_SHELF_LIFE_DAYS"] = 30
    try:
        packing.ship(desk, reload(Order, order.id), _parcel(reload(Order, order.id), ("SOON", 1)))
    finally:
        config["MIN_SHELF_LIFE_DAYS"] = 90
    assert reload(Order, order.id).status == OrderStatus.SHIPPED


def test_a_scanned_pack_is_matched_to_the_line_and_an_other_product_or_expired_pack_is_refused(ctx, desk):
    _variant_with_lots("FEFO-1", ("HX-2291", 10, 400))
    order = _confirmed(desk, ("FEFO-1", 3))
    expiry = (clock.today() + timedelta(days=400)).strftime("%y%m%d")
    with pytest.raises(LotRefusal, match="is another product"):
        packing.ship(desk, order, _parcel(order, (f"010764000000002517{expiry}10HX-2291", 1)))
    past = (clock.today() - timedelta(days=3)).strftime("%y%m%d")
    with pytest.raises(LotRefusal, match="the pack scanned expired"):
        packing.ship(desk, order, _parcel(order, (f"01{GTIN}17{past}10HX-2291", 1)))
    with pytest.raises(LotRefusal, match="neither a lot number nor a scan"):
        packing.ship(desk, order, _parcel(order, ("HX\x00", 1)))
    packing.ship(desk, order, _parcel(order, (f"01{GTIN}17{expiry}10HX-2291\x1d21SN1", 3)))
    assert reload(Order, order.id).status == OrderStatus.SHIPPED


def test_more_than_a_line_needs_or_a_lot_holds_is_refused(ctx, desk):
    _variant_with_lots("FEFO-1", ("A", 2, 400), ("B", 10, 500))
    order = _confirmed(desk, ("FEFO-1", 3))
    with pytest.raises(LotRefusal, match="3 left to ship, not 4"):
        packing.ship(desk, order, _parcel(order, ("B", 4)))
    with pytest.raises(LotRefusal, match="lot A has only 2 on the shelf"):
        packing.ship(desk, order, _parcel(order, ("A", 3)))
    with pytest.raises(LotRefusal, match="no lot NOPE"):
        packing.ship(desk, order, _parcel(order, ("NOPE", 1)))
    with pytest.raises(ShopError, match="Enter the carrier"):
        packing.ship(desk, order, _parcel(order, ("A", 1), carrier=" "))


def test_the_lots_delivered_are_on_the_invoice(ctx, desk):
    _variant_with_lots("FEFO-1", ("HX-2291", 10, 400))
    order = _confirmed(desk, ("FEFO-1", 2))
    assert "Lots delivered" not in pdf_text(invoice_pdf(order.invoice))
    packing.ship(desk, order, _parcel(order, ("HX-2291", 2)))
    text = pdf_text(invoice_pdf(reload(Order, order.id).invoice))
    assert "Lots delivered" in text and "FEFO-1: 2 × lot HX-2291" in text


def test_two_desks_packing_the_last_packs_of_a_lot_never_both_get_them(ctx, desk):
    _variant_with_lots("FEFO-1", ("LAST", 3, 400), ("NEXT", 10, 500))
    first = _confirmed(desk, ("FEFO-1", 3))
    second = _confirmed(desk, ("FEFO-1", 3))
    desks = [desk.id, make_staff().id]
    start = threading.Barrier(2)

    def pack(order_id: int, staff_id: int):
        with ctx.app_context():
            try:
                staff, order = db.session.get(User, staff_id), db.session.get(Order, order_id)
                parcel = _parcel(order, ("LAST", 3))
                db.session.rollback()
                start.wait(timeout=30)
                try:
                    return packing.ship(staff, db.session.get(Order, order_id), parcel).reference
                except LotRefusal as refused:
                    return refused.message
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(pack, [first.id, second.id], desks))

    shipped = [r for r in results if "/" in r and "on the shelf" not in r]
    refused = [r for r in results if "has only 0 on the shelf" in r]
    assert len(shipped) == 1 and len(refused) == 1, results
    db.session.expire_all()
    assert db.session.scalar(select(Lot.on_hand).where(Lot.lot_number == "LAST")) == 0
    assert sum(db.session.scalars(select(ShipmentLine.quantity))) == 3


def test_a_cancellation_decided_on_a_page_loaded_before_a_parcel_left_is_refused(ctx, desk):
    _variant_with_lots("FEFO-1", ("A", 10, 400))
    order = _confirmed(desk, ("FEFO-1", 4))
    stale = reload(Order, order.id)
    assert not stale.part_shipped  # the other desk's page, as it was loaded

    def pack():
        with ctx.app_context():
            try:
                packer = db.session.get(User, desk.id)
                fresh = db.session.get(Order, order.id)
                packing.ship(packer, fresh, _parcel(fresh, ("A", 3)))
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(pack).result(timeout=60)

    with pytest.raises(InvalidTransition, match="has shipped"):
        orders.cancel(stale, desk, "The clinic changed its mind.", CancelCause.STAFF)
    db.session.expire_all()
    order = reload(Order, order.id)
    assert order.status == OrderStatus.PROCESSING and order.lines[0].shipped_quantity == 3
    assert order.invoice.credit_notes == []
