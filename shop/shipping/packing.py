"""Packing an order: the desk is offered the lots that expire first (FEFO), takes packs from the
lots it chooses (typed or scanned), and records the parcel. A lot that is not on sale, past its
expiry or within the shelf life a clinic is promised (MIN_SHELF_LIFE_DAYS) is refused, as is a
scan of another product. When the last pack has left, the order is shipped.

Two desks packing the last packs of a lot at once: each take is a conditional UPDATE of the
lot's row, so one gets the packs and the other is told the lot ran out, and nothing is half
recorded.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select, update

from shop import clock
from shop.accounts.models import User
from shop.catalogue.models import Variant
from shop.core import events
from shop.core.db import hold, unit_of_work
from shop.errors import LotRefusal, NotEligible
from shop.extensions import db
from shop.lots import gs1
from shop.lots.models import Lot, LotStatus
from shop.lots.receiving import lot_of
from shop.ordering import orders
from shop.ordering.models import Order, OrderAction, OrderLine
from shop.shipping.mail import email_shipment
from shop.shipping.models import Shipment, ShipmentLine


@dataclass(frozen=True)
class Pick:
    """Packs of one order line taken from one lot: its number, or what the scanner typed."""

    order_line_id: int
    lot: str
    quantity: int


@dataclass(frozen=True)
class Parcel:
    carrier: str
    tracking_number: str
    picks: tuple[Pick, ...]


def min_shelf_life() -> int:
    return current_app.config["MIN_SHELF_LIFE_DAYS"]


def suggest(order: Order) -> dict[int, list[tuple[Lot, int]]]:
    """For each line still to ship, the lots to take it from, first expiry first, among the lots
    that may leave today; what no lot covers is left out (the page says how many are missing)."""
    today = clock.today()
    variant_ids = {line.variant_id for line in order.lines if line.to_ship and line.variant_id}
    lots = db.session.scalars(
        select(Lot)
        .where(
            Lot.variant_id.in_(variant_ids),
            Lot.status == LotStatus.AVAILABLE,
            Lot.on_hand > 0,
            Lot.expires_on >= today + timedelta(days=min_shelf_life()),
        )
        .order_by(Lot.expires_on, Lot.id)
    ).all()
    left = {lot.id: lot.on_hand for lot in lots}
    by_variant: dict[int, list[Lot]] = defaultdict(list)
    for lot in lots:
        by_variant[lot.variant_id].append(lot)
    plan: dict[int, list[tuple[Lot, int]]] = {}
    for line in order.lines:
        wanted, plan[line.id] = line.to_ship, []
        for lot in by_variant.get(line.variant_id, []):
            take = min(wanted, left[lot.id])
            if take:
                plan[line.id].append((lot, take))
                left[lot.id] -= take
                wanted -= take
    return plan


def ship(staff: User, order: Order, parcel: Parcel) -> Shipment:
    """Record a parcel of `order` with the lots its packs came from; ship the order when nothing
    is left to send. Raises NotEligible (no carrier or tracking, nothing picked), LotRefusal (a
    lot that may not leave, another product's scan, more packs than the line or the lot has) or
    InvalidTransition (the order is not being prepared)."""
    order.require(OrderAction.SHIP)
    carrier, tracking = parcel.carrier.strip(), parcel.tracking_number.strip()
    if not carrier:
        raise NotEligible("Enter the carrier.", field="carrier")
    if not tracking:
        raise NotEligible("Enter the tracking number.", field="tracking_number")
    picks = [pick for pick in parcel.picks if pick.quantity]
    if not picks:
        raise NotEligible("Enter the packs that go in this parcel, with their lot.")
    with unit_of_work():
        hold(Order.carrier, order.id)  # one parcel of an order at a time
        db.session.refresh(order)
        for line in order.lines:
            db.session.refresh(line)
        order.require(OrderAction.SHIP)
        shipment = Shipment(
            order_id=order.id,
            practice_id=order.practice_id,
            sequence=len(order.shipments) + 1,
            carrier=carrier,
            tracking_number=tracking,
            shipped_at=clock.now(),
            shipped_by_id=staff.id,
        )
        db.session.add(shipment)
        db.session.flush()
        _take(staff, order, shipment, picks)
        lots = ", ".join(f"{line.order_line.sku} lot {line.lot_number} × {line.quantity}" for line in shipment.lines)
        orders.note_event(
            order, staff, "parcel_shipped", f"Parcel {shipment.reference}: {carrier}, tracking {tracking}; {lots}"
        )
        if not any(line.to_ship for line in order.lines):
            orders.mark_shipped(order, staff, carrier, tracking)
        email_shipment(shipment)
    return shipment


def _take(staff: User, order: Order, shipment: Shipment, picks: list[Pick]) -> None:
    lines = {line.id: line for line in order.lines}
    today, margin = clock.today(), min_shelf_life()
    for pick in picks:
        line = lines.get(pick.order_line_id)
        if line is None or line.variant_id is None:
            raise LotRefusal("That line is not one of this order's.")
        if pick.quantity < 0 or pick.quantity > line.to_ship:
            raise LotRefusal(f"{line.sku}: {line.to_ship} left to ship, not {pick.quantity}.")
        lot = _lot_for(line, pick.lot, today)
        refusal = lot.why_not_shippable(today, margin)
        if refusal:
            raise LotRefusal(f"{line.sku}: {refusal}")
        taken = db.session.scalar(
            update(Lot)
            .where(Lot.id == lot.id, Lot.on_hand >= pick.quantity, Lot.status == LotStatus.AVAILABLE)
            .values(on_hand=Lot.on_hand - pick.quantity)
            .returning(Lot.on_hand)
            .execution_options(synchronize_session=False)
        )
        if taken is None:
            db.session.refresh(lot)
            raise LotRefusal(
                f"{line.sku}: lot {lot.lot_number} has only {lot.on_hand} on the shelf (packed for another order "
                "a moment ago?): take the rest from another lot."
            )
        db.session.execute(
            update(OrderLine)
            .where(OrderLine.id == line.id)
            .values(shipped_quantity=OrderLine.shipped_quantity + pick.quantity)
            .execution_options(synchronize_session=False)
        )
        line.shipped_quantity += pick.quantity
        db.session.add(
            ShipmentLine(
                shipment=shipment,
                order_line_id=line.id,
                lot_id=lot.id,
                quantity=pick.quantity,
                lot_number=lot.lot_number,
                expires_on=lot.expires_on,
            )
        )
        events.record_note(
            lot,
            staff,
            "shipped",
            f"{pick.quantity} packs to {order.practice_name} in parcel {shipment.reference}",
            changes={"on_hand": (taken + pick.quantity, taken)},
        )
        db.session.expire(lot)
    db.session.flush()
    db.session.refresh(shipment)


def _lot_for(line: OrderLine, typed: str, today: date) -> Lot:
    """The lot a pick names: a number typed, or a scan of the pack (which must be this line's
    product and not past its expiry)."""
    typed = (typed or "").strip()
    if not typed:
        raise LotRefusal(f"{line.sku}: enter or scan the lot the packs come from.")
    if len(typed) > gs1.MAX_SCAN_LENGTH or not typed.replace(gs1.GROUP_SEPARATOR, "").isprintable():
        raise LotRefusal(f"{line.sku}: that is neither a lot number nor a scan of the pack.")
    number = typed.upper()
    if _is_scan(typed):
        scan = gs1.read(typed)
        gtin = db.session.scalar(select(Variant.gtin).where(Variant.id == line.variant_id))
        if gtin is None or scan.gtin != gs1.gtin14(gtin):
            raise LotRefusal(f"{line.sku}: the pack scanned (GTIN {scan.gtin}) is another product.")
        if scan.expires_on is not None and scan.expires_on < today:
            raise LotRefusal(f"{line.sku}: the pack scanned expired on {scan.expires_on:%d %b %Y}.")
        if not scan.lot_number:
            raise LotRefusal(f"{line.sku}: the code scanned has no lot number (10).")
        number = scan.lot_number.upper()
    lot = lot_of(line.variant_id, number)
    if lot is None:
        raise LotRefusal(f"{line.sku}: no lot {number} of this product on record.")
    return lot


def _is_scan(value: str) -> bool:
    return value.startswith("(01)") or gs1.GROUP_SEPARATOR in value or (value.startswith("01") and len(value) > 20)
