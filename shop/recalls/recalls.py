"""The recall desk's verbs. Opening a recall takes its lots off sale at once (what is left on
the shelf stays there, recalled) and lists a notice for every practice that received them;
notifying emails each practice's members and the customer-care desk through the outbox; a
notice can be sent again; closing needs every practice told, and keeps the report.

Each verb is one transaction with its event row and audit entry; raises NotEligible or
RecallRefusal (shop.errors.LotRefusal) with a message for the desk.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update

from shop import clock
from shop.access import Desk
from shop.accounts.models import User
from shop.catalogue.models import Product, Variant
from shop.core import events
from shop.core.db import hold, unit_of_work
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


@dataclass(frozen=True)
class Notified:
    sent: int  # practices emailed now
    unreachable: tuple[str, ...]  # practices with no active member to email: the desk phones them


def notify(staff: User, recall: Recall) -> Notified:
    """Send the notice to every affected practice not yet told. A practice with nobody left to
    email stays untold, for the desk to phone (`record_call`). Two desks at once send it once."""
    _require_desk(staff)
    _require_open(recall)
    with unit_of_work():
        hold(Recall.reason, recall.id)
        db.session.expire(recall, ["notices"])
        sent, unreachable = [], []
        for notice in recall.notices:
            if notice.first_notified_at is None:
                (sent if _send(notice) else unreachable).append(notice.practice)
        if sent:
            email_desk_summary(recall, sent)
        events.record_note(recall, staff, "notified", f"Notice sent to {plural(len(sent), 'practice')}")
    return Notified(len(sent), tuple(practice.name for practice in unreachable))


def resend(staff: User, recall: Recall, practice_id: int) -> RecallNotice:
    """Send one practice's notice again (to its members as they are now)."""
    _require_desk(staff)
    _require_open(recall)
    notice = _notice(recall, practice_id)
    with unit_of_work():
        if not _send(notice):
            raise LotRefusal(f"{notice.practice.name} has no active member to email: phone them and record the call.")
        events.record_note(recall, staff, "notice_resent", f"Notice sent again to {notice.practice.name}")
    return notice


def record_call(staff: User, recall: Recall, practice_id: int, note: str) -> RecallNotice:
    """The desk told the practice by phone (who they spoke to, what was agreed)."""
    _require_desk(staff)
    _require_open(recall)
    notice = _notice(recall, practice_id)
    note = _text(note, "note", "Say whom you spoke to.", 500)
    with unit_of_work():
        _mark_told(notice, f"By phone ({staff.full_name}): {note}")
        events.record_note(recall, staff, "told_by_phone", f"{notice.practice.name}: {note}")
    return notice


def _notice(recall: Recall, practice_id: int) -> RecallNotice:
    notice = next((n for n in recall.notices if n.practice_id == practice_id), None)
    if notice is None:
        raise NotEligible("That practice did not receive a recalled lot.")
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


def _send(notice: RecallNotice) -> bool:
    """Email the notice to the practice's members; False when it has none to email."""
    addresses = email_notice(notice)
    if addresses:
        _mark_told(notice, ", ".join(addresses))
    return bool(addresses)


def _mark_told(notice: RecallNotice, told: str) -> None:
    now = clock.now()
    db.session.execute(
        update(RecallNotice)
        .where(RecallNotice.id == notice.id)
        .values(
            first_notified_at=func.coalesce(RecallNotice.first_notified_at, now),
            last_notified_at=now,
            times_notified=RecallNotice.times_notified + 1,
            notified_to=told[:1000],
        )
        .execution_options(synchronize_session=False)
    )
    db.session.expire(notice)
