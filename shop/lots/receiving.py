"""Goods in and out by lot: a delivery received (or stock already on the shelf recorded by its
lot), packs of a lot written off or returned. Each is a row in the variant's stock ledger, an
event on the lot and an entry in the audit log, in one transaction.

Packs of a lot that is not sellable (quarantined, expired, recalled) are on the shelf but not
in the stock: receiving into a quarantined lot, or writing off from it, leaves the stock as it
is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update

from shop import clock
from shop.accounts.models import User
from shop.catalogue import stock
from shop.catalogue.models import Variant
from shop.catalogue.stock import MAX_ADJUSTMENT, Adjustment, Movement
from shop.core import events
from shop.core.db import hold, unit_of_work
from shop.errors import LotRefusal, NotEligible
from shop.extensions import db
from shop.lots import gs1
from shop.lots.models import LOT_NUMBER_LENGTH, Lot, LotStatus

LOT_MOVEMENTS = frozenset(
    {Movement.RECEIVED, Movement.LOT_RECORDED, Movement.WRITTEN_OFF, Movement.RETURNED, Movement.COUNTED}
)
INCOMING = frozenset({Movement.RECEIVED, Movement.LOT_RECORDED, Movement.RETURNED})


@dataclass(frozen=True)
class LotEntry:
    """The lot a change is about, as typed or scanned at the desk."""

    lot_number: str = ""
    expires_on: date | None = None
    scan: str = ""


def resolve(variant: Variant, entry: LotEntry) -> LotEntry:
    """The lot number and expiry to record: a scan's, checked against the variant (its GTIN, an
    expiry not already past), else what was typed. Raises LotRefusal on the field at fault."""
    lot_number, expires_on = entry.lot_number.strip().upper(), entry.expires_on
    if entry.scan.strip():
        scan = gs1.read(entry.scan)
        if not variant.gtin:
            raise LotRefusal(
                f"{variant.sku} has no GTIN on record, so a scan cannot be matched to it: add its GTIN "
                "in the catalogue, or type the lot and expiry.",
                field="scan",
            )
        if scan.gtin != gs1.gtin14(variant.gtin):
            raise LotRefusal(
                f"This pack's GTIN is {scan.gtin}; {variant.sku} is {gs1.gtin14(variant.gtin)}. "
                "It is another product: check the pack.",
                field="scan",
            )
        lot_number = (scan.lot_number or lot_number).upper()
        expires_on = scan.expires_on or expires_on
    if not lot_number:
        raise LotRefusal("Enter the lot number printed on the pack.", field="lot_number")
    if len(lot_number) > LOT_NUMBER_LENGTH or not lot_number.isprintable():
        raise LotRefusal(f"A lot number is at most {LOT_NUMBER_LENGTH} letters and digits.", field="lot_number")
    if expires_on is None:
        raise LotRefusal("Enter the expiry date printed on the pack.", field="expires_on")
    return LotEntry(lot_number=lot_number, expires_on=expires_on)


def lot_of(variant_id: int, lot_number: str) -> Lot | None:
    return db.session.scalar(select(Lot).where(Lot.variant_id == variant_id, Lot.lot_number == lot_number))


def record(staff: User, variant: Variant, adjustment: Adjustment, entry: LotEntry) -> Lot:
    """A clerk's change to one lot: goods received (or found on the shelf) into the lot, created
    on its first delivery; packs of it written off or returned. The stock changes with it while
    the lot is sellable. Raises LotRefusal (a scan of another product, an expired pack, an expiry
    that disagrees with the lot on record, more packs than the lot has) or NotEligible."""
    if not staff.is_staff:
        raise NotEligible("Only the catalogue desk can change stock.")
    kind, quantity = adjustment.kind, adjustment.quantity
    if kind not in LOT_MOVEMENTS:
        raise LotRefusal("Choose what happened to the lot.", field="kind")
    if not (0 if kind == Movement.COUNTED else 1) <= quantity <= MAX_ADJUSTMENT:
        raise LotRefusal(f"Enter a number of packs between 1 and {MAX_ADJUSTMENT:,}.", field="quantity")
    if kind in (Movement.WRITTEN_OFF, Movement.COUNTED) and not adjustment.reason.strip():
        raise LotRefusal("Say why, for the record.", field="reason")
    entry = resolve(variant, entry)
    today = clock.today()
    incoming = kind in INCOMING
    with unit_of_work(conflict=LotRefusal("Someone recorded this lot a moment ago: try again.")):
        lot = lot_of(variant.id, entry.lot_number)
        if lot is None:
            if kind not in (Movement.RECEIVED, Movement.LOT_RECORDED):
                raise LotRefusal(f"{variant.sku} has no lot {entry.lot_number} on record.", field="lot_number")
            lot = _new_lot(staff, variant, entry, adjustment.reference)
        else:
            hold(Lot.received, lot.id)
            db.session.refresh(lot)
        if lot.expires_on != entry.expires_on:
            raise LotRefusal(
                f"Lot {lot.lot_number} is on record as expiring on {lot.expires_on:%d %b %Y}: check the pack.",
                field="expires_on",
            )
        if incoming and lot.is_expired(today):
            raise LotRefusal(f"Lot {lot.lot_number} expired on {lot.expires_on:%d %b %Y}: it cannot be taken in.")
        if incoming and lot.status == LotStatus.RECALLED:
            raise LotRefusal(f"Lot {lot.lot_number} is recalled: it cannot be taken into stock.")
        # A count replaces what the books say of the lot.
        change = quantity - lot.on_hand if kind == Movement.COUNTED else (quantity if incoming else -quantity)
        _change(staff, lot, kind, change, adjustment)
    db.session.refresh(variant)
    return lot


def adjust_unlotted(staff: User, variant: Variant, adjustment: Adjustment) -> None:
    """A change to stock that no lot holds (a variant stocked before lots were kept). Once a
    variant has lots, every change names one: otherwise the stock and its lots would part."""
    if db.session.scalar(select(Lot.id).where(Lot.variant_id == variant.id).limit(1)) is not None:
        raise LotRefusal(
            f"{variant.sku}'s stock is kept by lot: name the lot (scan the pack or type its lot and expiry).",
            field="lot_number",
        )
    stock.adjust(staff, variant, adjustment)


def _new_lot(staff: User, variant: Variant, entry: LotEntry, reference: str) -> Lot:
    lot = Lot(
        variant_id=variant.id,
        lot_number=entry.lot_number,
        expires_on=entry.expires_on,
        status=LotStatus.AVAILABLE,
        on_hand=0,
        received=0,
        supplier_reference=reference[:120],
        created_at=clock.now(),
    )
    db.session.add(lot)
    db.session.flush()
    events.record(lot, staff, "created", None, LotStatus.AVAILABLE.value, f"Expires {entry.expires_on:%d %b %Y}")
    return lot


def _change(staff: User, lot: Lot, kind: Movement, change: int, adjustment: Adjustment) -> None:
    statement = update(Lot).where(Lot.id == lot.id)
    if change < 0:
        statement = statement.where(Lot.on_hand >= -change)
    values = {"on_hand": Lot.on_hand + change}
    if kind == Movement.RECEIVED:
        values["received"] = Lot.received + change
    before = lot.on_hand
    after = db.session.scalar(
        statement.values(**values).returning(Lot.on_hand).execution_options(synchronize_session=False)
    )
    if after is None:
        raise LotRefusal(f"Lot {lot.lot_number} has only {before} on the shelf.", field="quantity")
    # The stock counts what an available lot holds (until housekeeping marks it expired). Packs
    # found on the shelf are in the stock already: attributed to a held lot, they leave it.
    if kind == Movement.LOT_RECORDED:
        stock_change = 0 if lot.status == LotStatus.AVAILABLE else -change
    else:
        stock_change = change if lot.status == LotStatus.AVAILABLE else 0
    if stock_change:
        stock.book(
            lot.variant_id,
            kind,
            stock_change,
            lot_id=lot.id,
            reference=adjustment.reference,
            reason=adjustment.reason,
            actor=staff,
        )
    note = " · ".join(part for part in (f"{change:+d} packs", adjustment.reference, adjustment.reason) if part)
    events.record_note(lot, staff, kind.value, note, changes={"on_hand": (before, after)})
    db.session.expire(lot)
