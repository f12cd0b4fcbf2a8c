"""Stock by lot: goods received per lot (typed or scanned), a variant's stock that counts only
its lots on sale, quarantine and release, expiry with the clock, and the events and audit
entries of each."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import select

from shop.catalogue.stock import Adjustment, Movement, StockMovement
from shop.core.audit import AuditEntry
from shop.errors import InvalidTransition, LotRefusal, OutOfStock
from shop.extensions import db
from shop.lots import holds, receiving
from shop.lots.models import Lot, LotStatus
from shop.lots.receiving import LotEntry
from tests.factories import clinician_with_cart, make_staff, make_variant, place_order
from tests.helpers import reload, stock_of

GTIN = "07640000000018"
GS = "\x1d"


def scanned(gtin: str = GTIN, expiry: str = "290630", lot: str = "HX-2291") -> str:
    """What a keyboard-wedge scanner types for a GS1 DataMatrix: GTIN, expiry, lot, serial."""
    return f"01{gtin}17{expiry}10{lot}{GS}21SN0001"


@pytest.fixture
def clerk():
    return make_staff(full_name="Casey Moreau")


@pytest.fixture
def booster():
    variant = make_variant("LOT-1", stock=0)
    variant.gtin = GTIN
    db.session.commit()
    return variant


def receive(clerk, variant, quantity, lot="HX-2291", expires=date(2029, 6, 30), kind=Movement.RECEIVED, **more):
    return receiving.record(clerk, variant, Adjustment(kind, quantity, **more), LotEntry(lot, expires))


def test_goods_received_by_lot_go_into_the_stock_and_a_second_delivery_adds_to_the_lot(ctx, clerk, booster):
    lot = receive(clerk, booster, 12, reference="DN-100")
    receive(clerk, booster, 8, lot="hx-2291")  # typed in small letters: the same lot
    other = receive(clerk, booster, 5, lot="HX-3000", expires=date(2030, 1, 31))

    assert stock_of("LOT-1") == 25
    lot = reload(Lot, lot.id)
    assert (lot.lot_number, lot.on_hand, lot.received, lot.supplier_reference) == ("HX-2291", 20, 20, "DN-100")
    assert reload(Lot, other.id).on_hand == 5
    movements = db.session.execute(
        select(StockMovement.kind, StockMovement.quantity, StockMovement.lot_id).order_by(StockMovement.id)
    ).all()
    assert movements == [
        (Movement.RECEIVED, 12, lot.id),
        (Movement.RECEIVED, 8, lot.id),
        (Movement.RECEIVED, 5, other.id),
    ]
    actions = db.session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.object_type == "lot", AuditEntry.object_id == str(lot.id))
        .order_by(AuditEntry.id)
    ).all()
    assert actions == ["lot.created", "lot.received", "lot.received"]


def test_a_scan_fills_the_lot_and_expiry_and_must_be_of_this_variant(ctx, clerk, booster):
    lot = receiving.record(clerk, booster, Adjustment(Movement.RECEIVED, 4), LotEntry(scan=scanned()))
    assert (lot.lot_number, lot.expires_on) == ("HX-2291", date(2029, 6, 30))
    # The bracketed form printed under the code reads the same; day 00 is the month's last day.
    lot = receiving.record(
        clerk, booster, Adjustment(Movement.RECEIVED, 1), LotEntry(scan="(01)07640000000018(17)300200(10)B7")
    )
    assert (lot.lot_number, lot.expires_on) == ("B7", date(2030, 2, 28))

    with pytest.raises(LotRefusal, match="It is another product") as refused:
        receiving.record(
            clerk, booster, Adjustment(Movement.RECEIVED, 4), LotEntry(scan=scanned(gtin="07640000000025"))
        )
    assert refused.value.field == "scan"
    assert stock_of("LOT-1") == 5


@pytest.mark.parametrize(
    ("scan", "message"),
    [
        ("hello", "That is not a GS1 code"),
        ("0107640000000019", "wrong check digit"),
        ("17290630" + "10AB", "has no GTIN"),
        ("01076400000000181729133210X", "not a GS1 code"),
        ("01076400000000181\x0010X", "not a GS1 code"),
        ("9" * 500, "not a GS1 code"),
    ],
)
def test_a_scan_that_cannot_be_read_is_refused_with_why(ctx, clerk, booster, scan, message):
    with pytest.raises(LotRefusal, match=message):
        receiving.record(clerk, booster, Adjustment(Movement.RECEIVED, 1), LotEntry(scan=scan))
    assert db.session.scalar(select(Lot.id)) is None


def test_a_pack_past_its_expiry_or_with_another_expiry_than_its_lot_is_refused(ctx, clerk, booster):
    with (
        time_machine.travel(datetime(2029, 7, 2, 9, tzinfo=UTC), tick=False),
        pytest.raises(LotRefusal, match="expired on 30 Jun 2029"),
    ):
        receiving.record(clerk, booster, Adjustment(Movement.RECEIVED, 1), LotEntry(scan=scanned()))
    receive(clerk, booster, 3)
    with pytest.raises(LotRefusal, match="on record as expiring on 30 Jun 2029") as refused:
        receive(clerk, booster, 3, expires=date(2029, 7, 31))
    assert refused.value.field == "expires_on"
    assert stock_of("LOT-1") == 3


def test_a_variant_without_a_gtin_cannot_be_scanned_but_can_be_typed(ctx, clerk):
    variant = make_variant("LOT-NOGTIN", stock=0)
    with pytest.raises(LotRefusal, match="has no GTIN on record"):
        receiving.record(clerk, variant, Adjustment(Movement.RECEIVED, 1), LotEntry(scan=scanned()))
    receive(clerk, variant, 2)
    assert stock_of("LOT-NOGTIN") == 2


def test_a_quarantined_lot_stops_being_sold_at_once_and_release_brings_it_back(ctx, clerk, booster):
    held = receive(clerk, booster, 4)
    receive(clerk, booster, 6, lot="HX-3000")
    holds.quarantine(clerk, reload(Lot, held.id), "Carton crushed in transit.")
    assert stock_of("LOT-1") == 6
    with pytest.raises(OutOfStock):
        place_order(clinician_with_cart(("LOT-1", 7)))

    # More packs of a held lot are held too; written off, they leave the shelf, not the stock.
    receive(clerk, booster, 2)
    receive(clerk, booster, 1, kind=Movement.WRITTEN_OFF, reason="Crushed.")
    assert stock_of("LOT-1") == 6 and reload(Lot, held.id).on_hand == 5

    holds.release(clerk, reload(Lot, held.id), "Manufacturer confirmed the packs are sound.")
    assert stock_of("LOT-1") == 11
    assert reload(Lot, held.id).status == LotStatus.AVAILABLE
    with pytest.raises(InvalidTransition):
        holds.release(clerk, reload(Lot, held.id), "Again.")
    with pytest.raises(LotRefusal, match="Say why"):
        holds.quarantine(clerk, reload(Lot, held.id), "   ")
    actions = db.session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.object_type == "lot", AuditEntry.object_id == str(held.id))
        .order_by(AuditEntry.id)
    ).all()
    assert actions == [
        "lot.created",
        "lot.received",
        "lot.quarantined",
        "lot.received",
        "lot.written_off",
        "lot.released",
    ]


def test_a_lot_quarantined_after_orders_reserved_it_shows_what_is_no_longer_covered(ctx, clerk, booster):
    lot = receive(clerk, booster, 5)
    place_order(clinician_with_cart(("LOT-1", 3)))
    holds.quarantine(clerk, reload(Lot, lot.id), "Temperature excursion.")
    assert stock_of("LOT-1") == -3  # three packs ordered, none on sale to cover them
    receive(clerk, booster, 10, lot="HX-4000")
    assert stock_of("LOT-1") == 7


def test_a_lot_leaves_the_stock_the_day_after_its_expiry(ctx, clerk, booster):
    with time_machine.travel(datetime(2029, 6, 1, 9, tzinfo=UTC), tick=False) as clock:
        lot = receive(clerk, booster, 4)
        receive(clerk, booster, 2, lot="LATER", expires=date(2030, 6, 30))
        clock.move_to(datetime(2029, 6, 30, 21, tzinfo=UTC))  # 22:00 in Dublin on the expiry date
        assert holds.withdraw_expired() == 0 and stock_of("LOT-1") == 6
        clock.move_to(datetime(2029, 6, 30, 23, 1, tzinfo=UTC))  # past midnight in Dublin
        assert holds.withdraw_expired() == 1
        assert stock_of("LOT-1") == 2
        assert reload(Lot, lot.id).status == LotStatus.EXPIRED
        assert holds.withdraw_expired() == 0 and stock_of("LOT-1") == 2
        with pytest.raises(LotRefusal, match="expired"):
            receive(clerk, booster, 1, kind=Movement.RETURNED)


def test_an_expired_lot_in_quarantine_is_not_released(ctx, clerk, booster):
    with time_machine.travel(datetime(2029, 6, 1, 9, tzinfo=UTC), tick=False) as clock:
        lot = receive(clerk, booster, 4)
        holds.quarantine(clerk, reload(Lot, lot.id), "Awaiting the manufacturer.")
        clock.move_to(datetime(2029, 7, 5, 9, tzinfo=UTC))
        with pytest.raises(InvalidTransition, match="expired on 30 Jun 2029"):
            holds.release(clerk, reload(Lot, lot.id), "Fine after all.")
        assert stock_of("LOT-1") == 0


def test_stock_on_the_shelf_before_lots_were_kept_is_recorded_by_lot_without_counting_it_twice(ctx, clerk):
    variant = make_variant("LOT-OLD", stock=9, lots=False)
    lot = receive(clerk, variant, 9, kind=Movement.LOT_RECORDED)
    assert stock_of("LOT-OLD") == 9 and reload(Lot, lot.id).on_hand == 9


def test_more_packs_than_a_lot_holds_cannot_be_written_off(ctx, clerk, booster):
    receive(clerk, booster, 2)
    with pytest.raises(LotRefusal, match="has only 2 on the shelf"):
        receive(clerk, booster, 3, kind=Movement.WRITTEN_OFF, reason="Broken.")
    with pytest.raises(LotRefusal, match="no lot NOPE on record"):
        receive(clerk, booster, 1, lot="NOPE", kind=Movement.WRITTEN_OFF, reason="Broken.")
    assert stock_of("LOT-1") == 2


def test_the_expire_lots_command_takes_lots_past_their_expiry_off_sale(ctx, clerk, booster):
    with time_machine.travel(datetime(2029, 6, 1, 9, tzinfo=UTC), tick=False) as clock:
        lot = receive(clerk, booster, 4)
        clock.move_to(datetime(2029, 7, 2, 9, tzinfo=UTC))
        result = ctx.test_cli_runner().invoke(args=["expire-lots"])
    assert result.exit_code == 0 and "1 lot expired" in result.output
    assert reload(Lot, lot.id).status == LotStatus.EXPIRED and stock_of("LOT-1") == 0


def test_packs_written_off_from_a_lot_past_its_expiry_leave_the_stock_once(ctx, clerk, booster):
    with time_machine.travel(datetime(2029, 6, 1, 9, tzinfo=UTC), tick=False) as clock:
        receive(clerk, booster, 10)
        clock.move_to(datetime(2029, 7, 2, 9, tzinfo=UTC))  # expired, not yet withdrawn by housekeeping
        receive(clerk, booster, 10, kind=Movement.WRITTEN_OFF, reason="Expired, destroyed.")
        holds.withdraw_expired()
    assert stock_of("LOT-1") == 0


def test_stock_found_on_the_shelf_and_put_in_a_held_lot_leaves_the_stock(ctx, clerk):
    variant = make_variant("LOT-SHELF", stock=10, lots=False)
    lot = receive(clerk, variant, 3, lot="Q1")
    holds.quarantine(clerk, reload(Lot, lot.id), "Damaged cartons.")
    assert stock_of("LOT-SHELF") == 10
    receive(clerk, variant, 5, lot="Q1", kind=Movement.LOT_RECORDED)
    assert stock_of("LOT-SHELF") == 5  # the five found packs are held with their lot
    holds.release(clerk, reload(Lot, lot.id), "Cartons inspected: sound.")
    assert stock_of("LOT-SHELF") == 13 and reload(Lot, lot.id).on_hand == 8


def test_once_a_variant_has_lots_every_change_names_one_and_a_count_is_per_lot(ctx, clerk, booster):
    receive(clerk, booster, 10)
    with pytest.raises(LotRefusal, match="kept by lot") as refused:
        receiving.adjust_unlotted(clerk, booster, Adjustment(Movement.WRITTEN_OFF, 2, reason="Broken."))
    assert refused.value.field == "lot_number"
    receive(clerk, booster, 7, kind=Movement.COUNTED, reason="Monthly count.")
    assert stock_of("LOT-1") == 7 and db.session.scalar(select(Lot.on_hand)) == 7
    with pytest.raises(LotRefusal, match="Say why"):
        receive(clerk, booster, 7, kind=Movement.COUNTED)


def test_a_bare_symbology_prefix_is_not_a_scan(ctx, clerk, booster):
    for scan in ("]", "]Y", "]d2"):
        with pytest.raises(LotRefusal, match="not a GS1 code"):
            receiving.record(clerk, booster, Adjustment(Movement.RECEIVED, 1), LotEntry(scan=scan))
