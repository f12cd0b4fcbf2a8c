"""A lot taken off sale and put back: quarantine and release by the desk, expiry by the shop's
housekeeping, recall by the recall desk. Each moves the lot's status (through its transition
table) and moves its packs out of or back into the variant's stock in the same transaction.
"""

from __future__ import annotations

from sqlalchemy import select

from shop import clock
from shop.accounts.models import User
from shop.catalogue import stock
from shop.catalogue.stock import Movement
from shop.core import events
from shop.core.db import hold, unit_of_work
from shop.errors import InvalidTransition, LotRefusal, NotEligible
from shop.extensions import db
from shop.lots.models import Lot, LotStatus

MAX_REASON = 1000


def quarantine(staff: User, lot: Lot, reason: str) -> Lot:
    """Stop selling the lot at once: its packs leave the stock. Raises InvalidTransition if the
    lot is not available, LotRefusal without a reason."""
    with unit_of_work():
        _withdraw(staff, lot, LotStatus.QUARANTINED, Movement.QUARANTINED, "quarantined", _reason(staff, reason))
    return lot


def release(staff: User, lot: Lot, reason: str) -> Lot:
    """Put a quarantined lot back on sale: its packs return to the stock. An expired lot is not
    released (it goes on being held until it is written off)."""
    reason = _reason(staff, reason)
    with unit_of_work():
        hold(Lot.received, lot.id)
        db.session.refresh(lot)
        if lot.is_expired(clock.today()):
            raise InvalidTransition(
                f"Lot {lot.lot_number} expired on {lot.expires_on:%d %b %Y}: it cannot go back on sale."
            )
        events.advance(lot, LotStatus.AVAILABLE, staff, "released", reason)
        stock.book(lot.variant_id, Movement.UNQUARANTINED, lot.on_hand, lot_id=lot.id, reason=reason, actor=staff)
    db.session.refresh(lot)
    return lot


def recall_in_transaction(lot: Lot, actor: User, note: str) -> None:
    """The lot is recalled: never sold again. What was on sale leaves the stock. In the caller's
    unit of work (the recall's)."""
    if lot.status == LotStatus.RECALLED:
        return
    _withdraw(actor, lot, LotStatus.RECALLED, Movement.RECALLED, "recalled", note)


def withdraw_expired() -> int:
    """Housekeeping: every available lot past its expiry leaves the stock. Returns how many
    lots expired. Safe to run at any time and from two processes at once."""
    today = clock.today()
    due = db.session.scalars(
        select(Lot.id).where(Lot.status == LotStatus.AVAILABLE, Lot.expires_on < today).order_by(Lot.id)
    ).all()
    expired = 0
    for lot_id in due:
        lot = db.session.get(Lot, lot_id)
        try:
            with unit_of_work():
                _withdraw(
                    None, lot, LotStatus.EXPIRED, Movement.EXPIRED, "expired", f"Expired {lot.expires_on:%d %b %Y}"
                )
        except InvalidTransition:
            continue  # quarantined or recalled by someone a moment ago: no longer on sale anyway
        expired += 1
    return expired


def _withdraw(actor: User | None, lot: Lot, target: LotStatus, kind: Movement, action: str, note: str) -> None:
    hold(Lot.received, lot.id)
    db.session.refresh(lot)
    was_on_sale = lot.status == LotStatus.AVAILABLE
    events.advance(lot, target, actor, action, note)
    if was_on_sale and lot.on_hand:
        stock.book(lot.variant_id, kind, -lot.on_hand, lot_id=lot.id, reason=note, actor=actor)
    db.session.expire(lot)


def _reason(staff: User, reason: str) -> str:
    if not staff.is_staff:
        raise NotEligible("Only staff can hold or release a lot.")
    reason = (reason or "").strip()
    if not reason:
        raise LotRefusal("Say why, for the record.", field="reason")
    if len(reason) > MAX_REASON or not reason.replace("\n", "").replace("\r", "").isprintable():
        raise LotRefusal(f"Keep the reason under {MAX_REASON} characters of plain text.", field="reason")
    return reason
