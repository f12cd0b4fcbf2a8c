"""The recall desk's verbs. Opening a recall takes its lots off sale at once (what is left on
the shelf stays there, recalled) and lists a notice for every practice that received them;
notifying emails each practice's members and the customer-care desk through the outbox; a
notice can be sent again; closing needs every practice told, and keeps the report.

Each verb is one transaction with its event row and audit entry; raises NotEligible or
RecallRefusal (shop.errors.LotRefusal) with a message for the desk.
"""

from __future__ import annotations

from sqlalchemy import select, update

from shop import clock
from shop.access import Desk
from shop.accounts.models import User
from shop.catalogue.models import Product, Variant
from shop.core import events
from shop.core.db import unit_of_work
from shop.core.formatting import plural
from shop.errors import LotRefusal, NotEligible
from shop.extensions import db
from shop.lots import holds
from shop.lots.models import Lot
from shop.recalls.mail import email_desk_summary, email_notice
from shop.recalls.models import Recall, RecallLot, RecallNotice, RecallStatus
from shop.shipping.records import SupplyFilter, supplies

MAX_REASON = 2000


def _require_desk(staff: User) -> None:
    if not staff.works(Desk.RECALLS):
        raise NotEligible("Only the recall desk can do this.")


def _text(value: str, field: str, missing: str, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        raise LotRefusal(missing, field=field)
    if len(value) > limit or not value.replace("\n", "").replace("\r", "").isprintable():
        raise LotRefusal(f"Keep it under {limit} characters of plain text.", field=field)
    return value


def open_recall(staff: User, product: Product, lot_ids: list[int], reason: str, reference: str) -> Recall:
    """Recall these lots of `product`: each leaves the stock (its packs on the shelf stay, held
    as recalled), and every practice that received one gets a notice to be sent."""
    _require_desk(staff)
    reason = _text(reason, "reason", "Give the manufacturer's reason for the recall.", MAX_REASON)
    reference = _text(reference, "manufacturer_reference", "Enter the manufacturer's recall reference.", 80)
    variant_ids = select(Variant.id).where(Variant.product_id == product.id)
    lots = db.session.scalars(
        select(Lot).where(Lot.id.in_(lot_ids or [0]), Lot.variant_id.in_(variant_ids)).order_by(Lot.id)
    ).all()
    if not lots or len(lots) != len(set(lot_ids)):
        raise LotRefusal(f"Choose the lots of {product.name} that are recalled.", field="lot_ids")
    with unit_of_work():
        recall = Recall(
            product_id=product.id,
            status=RecallStatus.OPEN,
            reason=reason,
            manufacturer_reference=reference,
            opened_at=clock.now(),
            opened_by_id=staff.id,
        )
        db.session.add(recall)
        db.session.flush()
        for lot in lots:
            db.session.add(RecallLot(recall_id=recall.id, lot_id=lot.id))
            holds.recall_in_transaction(lot, staff, f"Recall {recall.number}: {reference}")
        practices = {supply.practice_id for supply in supplies(SupplyFilter(lot_ids=tuple(lot.id for lot in lots)))}
        for practice_id in sorted(practices):
            db.session.add(RecallNotice(recall_id=recall.id, practice_id=practice_id))
        events.record(
            recall,
            staff,
            "opened",
            None,
            RecallStatus.OPEN.value,
            f"Lots {', '.join(lot.lot_number for lot in lots)} · {reference} · {plural(len(practices), 'practice')} affected",
        )
    return recall


def notify(staff: User, recall: Recall) -> int:
    """Send the notice to every affected practice not yet told; returns how many were."""
    _require_desk(staff)
    _require_open(recall)
    with unit_of_work():
        due = [notice for notice in recall.notices if notice.first_notified_at is None]
        for notice in due:
            _send(notice)
        if due:
            email_desk_summary(recall, [notice.practice for notice in due])
        events.record_note(recall, staff, "notified", f"Notice sent to {plural(len(due), 'practice')}")
    return len(due)


def resend(staff: User, recall: Recall, practice_id: int) -> RecallNotice:
    """Send one practice's notice again (to its members as they are now)."""
    _require_desk(staff)
    _require_open(recall)
    notice = next((n for n in recall.notices if n.practice_id == practice_id), None)
    if notice is None:
        raise NotEligible("That practice did not receive a recalled lot.")
    with unit_of_work():
        _send(notice)
        events.record_note(recall, staff, "notice_resent", f"Notice sent again to {notice.practice.name}")
    return notice


def close(staff: User, recall: Recall, note: str) -> Recall:
    """Close the recall with a note; every affected practice must have been told."""
    _require_desk(staff)
    note = _text(note, "note", "Say how the recall ended (packs returned, destroyed...).", MAX_REASON)
    if any(notice.first_notified_at is None for notice in recall.notices):
        raise LotRefusal("Send the notice to every affected practice before closing the recall.")
    with unit_of_work():
        events.advance(recall, RecallStatus.CLOSED, staff, "closed", note, closed_at=clock.now(), closing_note=note)
    db.session.refresh(recall)
    return recall


def _require_open(recall: Recall) -> None:
    if recall.status != RecallStatus.OPEN:
        raise NotEligible(f"Recall {recall.number} is closed.")


def _send(notice: RecallNotice) -> None:
    now = clock.now()
    addresses = email_notice(notice)
    db.session.execute(
        update(RecallNotice)
        .where(RecallNotice.id == notice.id)
        .values(
            first_notified_at=notice.first_notified_at or now,
            last_notified_at=now,
            times_notified=RecallNotice.times_notified + 1,
            notified_to=", ".join(addresses),
        )
        .execution_options(synchronize_session=False)
    )
    db.session.expire(notice)
