"""The stock ledger: goods received, counts, write-offs and returns recorded by the catalogue
desk, reservations and releases recorded by the shop, a stock that is always the sum of its
ledger and never negative, and a clerk's change that loses nothing while checkouts race it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from shop.access import Desk
from shop.accounts.models import User
from shop.catalogue import stock
from shop.catalogue.models import Variant
from shop.catalogue.stock import Adjustment, Movement, StockMovement
from shop.core.audit import AuditEntry
from shop.errors import ShopError
from shop.extensions import db
from shop.ordering import orders
from shop.ordering.models import CancelCause
from tests.factories import clinician_with_cart, make_staff, make_variant, place_order
from tests.helpers import field_error, flashes, redirect_path, reload, stock_of, text


@pytest.fixture
def clerk():
    return make_staff(full_name="Casey Moreau", desks=[Desk.CATALOGUE])


@pytest.fixture
def desk(signed_in, clerk):
    return signed_in(clerk)


def _page(variant: Variant) -> str:
    return f"/staff/catalogue/{variant.product_id}/variants/{variant.id}/stock"


def ledger(sku: str) -> list[tuple[str, int, int, str]]:
    variant = db.session.scalar(select(Variant).where(Variant.sku == sku))
    rows = db.session.scalars(
        select(StockMovement).where(StockMovement.variant_id == variant.id).order_by(StockMovement.id)
    )
    return [(m.kind.value, m.quantity, m.balance_after, m.reference) for m in rows]


def assert_stock_is_the_sum_of_its_ledger() -> None:
    db.session.expire_all()
    sums = dict(
        db.session.execute(
            select(StockMovement.variant_id, func.sum(StockMovement.quantity)).group_by(StockMovement.variant_id)
        ).all()
    )
    for variant in db.session.scalars(select(Variant)):
        assert variant.stock_on_hand == sums.get(variant.id, 0), variant.sku
        assert variant.stock_on_hand >= 0


def test_the_desk_receives_counts_writes_off_and_takes_back_stock_each_a_ledger_row(desk, clerk):
    variant = make_variant("LED-1", stock=10, lots=False)

    received = desk.post(
        _page(variant),
        {
            "kind": "received",
            "quantity": "24",
            "reference": "DN-55102",
            "lot_number": "l-7731",
            "expires_on": "2031-05-31",
        },
    )
    assert redirect_path(received) == _page(variant), text(received)
    assert ("success", "24 received: LED-1 now has 34 in stock. (lot L-7731)") in flashes(desk.get(_page(variant)))
    lot = {"lot_number": "L-7731", "expires_on": "2031-05-31"}
    desk.post(_page(variant), {"kind": "written_off", "quantity": "4", "reason": "Cold chain broken.", **lot})
    desk.post(_page(variant), {"kind": "counted", "quantity": "18", "reason": "Monthly count.", **lot})
    desk.post(_page(variant), {"kind": "returned", "quantity": "1", "reference": "RMA-7", **lot})

    assert stock_of("LED-1") == 29
    assert ledger("LED-1") == [
        ("opening", 10, 10, ""),
        ("received", 24, 34, "DN-55102"),
        ("written_off", -4, 30, ""),
        ("counted", -2, 28, ""),
        ("returned", 1, 29, "RMA-7"),
    ]
    page = text(desk.get(_page(variant)))
    for expected in ("Goods received", "DN-55102", "Cold chain broken.", "Casey Moreau", "Count correction", "-2"):
        assert expected in page, expected
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.object_type == "lot").order_by(AuditEntry.id)
    ).all()
    assert actions == ["lot.created", "lot.received", "lot.written_off", "lot.counted", "lot.returned"]
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "lot.counted")).one()
    assert (entry.changes["on_hand"], entry.note, entry.actor_id) == ([20, 18], "-2 packs · Monthly count.", clerk.id)
    assert_stock_is_the_sum_of_its_ledger()


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"kind": "written_off", "quantity": "11", "reason": "Broken."}, "quantity", "Only 10 in stock"),
        ({"kind": "written_off", "quantity": "1"}, "reason", "Say why, for the record."),
        ({"kind": "counted", "quantity": "3"}, "reason", "Say why, for the record."),
        (
            {"kind": "received", "quantity": "0", "lot_number": "A1", "expires_on": "2031-01-31"},
            "quantity",
            "between 1 and 1,000,000",
        ),
        ({"kind": "received", "quantity": "5"}, "lot_number", "Enter the lot number printed on the pack."),
        (
            {"kind": "received", "quantity": "5", "lot_number": "A1"},
            "expires_on",
            "Enter the expiry date printed on the pack.",
        ),
        (
            {"kind": "received", "quantity": "5", "lot_number": "A1", "expires_on": "31/01/2031"},
            "expires_on",
            "Not a valid date value.",
        ),
        ({"kind": "received", "quantity": "-5"}, "quantity", "Between 0 and 1,000,000."),
        ({"kind": "received", "quantity": "ten"}, "quantity", "Not a valid integer value."),
        ({"kind": "received", "quantity": "99999999999999999999"}, "quantity", "Between 0 and 1,000,000."),
        ({"kind": "reserved", "quantity": "5"}, "kind", "Not a valid choice."),
    ],
)
def test_a_change_that_does_not_add_up_is_refused_next_to_its_field_and_changes_nothing(desk, form, field, message):
    variant = make_variant("LED-2", stock=10, lots=False)
    response = desk.post(_page(variant), form)
    assert response.status_code == 422
    assert message in field_error(response, field), text(response)
    assert stock_of("LED-2") == 10
    assert ledger("LED-2") == [("opening", 10, 10, "")]


def test_checkouts_and_cancellations_are_in_the_ledger_with_the_order_number():
    make_variant("LED-3", stock=10)
    order = place_order(clinician_with_cart(("LED-3", 3)))
    orders.cancel(order, make_staff(), "The practice asked.", CancelCause.STAFF)

    assert ledger("LED-3") == [
        ("opening", 10, 10, ""),
        ("reserved", -3, 7, order.number),
        ("released", 3, 10, order.number),
    ]
    assert_stock_is_the_sum_of_its_ledger()


def test_a_checkout_never_takes_the_stock_below_zero():
    make_variant("LED-4", stock=1)
    with pytest.raises(ShopError):
        place_order(clinician_with_cart(("LED-4", 2)))
    assert stock_of("LED-4") == 1


def test_only_staff_change_stock_and_only_the_catalogue_desk_opens_the_page(signed_in, desk):
    variant = make_variant("LED-5", stock=4)
    with pytest.raises(ShopError):
        stock.adjust(clinician_with_cart(), reload(Variant, variant.id), Adjustment(Movement.RECEIVED, 5))
    orders_desk = signed_in(make_staff(desks=[Desk.ORDERS]))
    assert orders_desk.get(_page(variant)).status_code == 403
    assert orders_desk.post(_page(variant), {"kind": "received", "quantity": "5"}).status_code == 403
    other = make_variant("LED-6")
    assert desk.get(f"/staff/catalogue/{other.product_id}/variants/{variant.id}/stock").status_code == 404
    assert stock_of("LED-5") == 4


THREADS = 8


def test_a_delivery_booked_while_clinicians_check_out_loses_nothing(ctx, clerk):
    make_variant("LED-RACE", stock=40, lots=False)
    buyers = [clinician_with_cart(("LED-RACE", 3)).id for _ in range(THREADS)]
    variant_id = db.session.scalar(select(Variant.id).where(Variant.sku == "LED-RACE"))
    clerk_id = clerk.id
    start = threading.Barrier(THREADS + 2)

    def buy(user_id: int):
        with ctx.app_context():
            try:
                user = db.session.get(User, user_id)
                db.session.rollback()
                start.wait(timeout=30)
                return place_order(user).number
            finally:
                db.session.remove()

    def book(adjustment: Adjustment):
        with ctx.app_context():
            try:
                staff = db.session.get(User, clerk_id)
                variant = db.session.get(Variant, variant_id)
                db.session.rollback()
                start.wait(timeout=30)
                return stock.adjust(staff, variant, adjustment).stock_on_hand
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=THREADS + 2) as pool:
        futures = [pool.submit(buy, user_id) for user_id in buyers]
        futures.append(pool.submit(book, Adjustment(Movement.RETURNED, 100, reference="DN-1")))
        futures.append(pool.submit(book, Adjustment(Movement.WRITTEN_OFF, 5, reason="Damaged in transit.")))
        results = [future.result(timeout=120) for future in futures]

    assert all(isinstance(result, (str, int)) for result in results)
    assert stock_of("LED-RACE") == 40 + 100 - 5 - 3 * THREADS
    assert_stock_is_the_sum_of_its_ledger()
    balances = [row[2] for row in ledger("LED-RACE")]
    assert len(set(balances[1:])) == len(balances) - 1  # each change saw the one before it
