"""Recalls: opening one takes the lots off sale and finds every practice that received them;
one action tells every member of each practice and customer care; a practice acknowledges once;
the desk sends a notice again, and closes with a report of who was told when."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from shop.access import Desk
from shop.accounts.models import User
from shop.core import mailer
from shop.core.outbox import OutboxMessage
from shop.errors import InvalidTransition, LotRefusal, NotEligible
from shop.extensions import db
from shop.lots.models import Lot, LotStatus
from shop.ordering import orders
from shop.ordering.models import Order
from shop.recalls import acknowledging, recalls
from shop.recalls.models import Recall, RecallNotice, RecallStatus
from shop.recalls.report import report_pdf
from shop.shipping import packing
from tests.factories import (
    clinician_with_cart,
    make_applicant,
    make_clinician,
    make_lot,
    make_staff,
    make_variant,
    place_order,
    ship_order,
)
from tests.helpers import pdf_text, reload, stock_of
from tests.smtp import text_of


@pytest.fixture
def desk():
    return make_staff(full_name="Rowan Quinn", desks=[Desk.RECALLS, Desk.ORDERS])


@pytest.fixture
def shipped(desk):
    """Lot BAD-1 of RCL-1 went to two practices (one with a colleague); lot GOOD-1 to a third."""
    variant = make_variant("RCL-1", stock=0, lots=False)
    bad = make_lot(variant, "BAD-1", on_hand=10)
    owner = clinician_with_cart(("RCL-1", 3), practice_name="Harbour Clinic", on_account=True)
    colleague = make_clinician(practice_of=owner, full_name="Liam Walsh RN")
    other = clinician_with_cart(("RCL-1", 2), practice_name="Northside Skin", on_account=True)
    for user in (owner, other):
        order = place_order(user)
        orders.confirm(order, desk)
        ship_order(reload(Order, order.id), desk)
    make_lot(variant, "GOOD-1", on_hand=4)
    unaffected = clinician_with_cart(("RCL-1", 1), practice_name="Elsewhere", on_account=True)
    order = place_order(unaffected)
    orders.confirm(order, desk)
    line = reload(Order, order.id).lines[0]
    packing.ship(desk, reload(Order, order.id), packing.Parcel("DHL", "9", (packing.Pick(line.id, "GOOD-1", 1),)))
    return {
        "variant": variant,
        "bad": bad,
        "owner": owner,
        "colleague": colleague,
        "other": other,
        "unaffected": unaffected,
    }


def _open(desk, shipped) -> Recall:
    variant = shipped["variant"]
    return recalls.open_recall(
        desk, variant.product, [shipped["bad"].id], "Particles found in syringes of this lot.", "FSCA-2027-014"
    )


def test_opening_a_recall_takes_the_lot_off_sale_and_lists_every_practice_that_received_it(ctx, desk, shipped):
    assert stock_of("RCL-1") == 5 + 3  # BAD-1 5 left, GOOD-1 3 left
    recall = _open(desk, shipped)

    lot = reload(Lot, shipped["bad"].id)
    assert lot.status == LotStatus.RECALLED and lot.on_hand == 5  # still on the shelf, held
    assert stock_of("RCL-1") == 3
    practices = sorted(n.practice.name for n in reload(Recall, recall.id).notices)
    assert practices == ["Harbour Clinic", "Northside Skin"]
    assert all(n.first_notified_at is None for n in reload(Recall, recall.id).notices)

    order = place_order(clinician_with_cart(("RCL-1", 1), on_account=True))
    orders.confirm(order, desk)
    line = reload(Order, order.id).lines[0]
    with pytest.raises(LotRefusal, match="recalled"):
        packing.ship(desk, reload(Order, order.id), packing.Parcel("DHL", "1", (packing.Pick(line.id, "BAD-1", 1),)))


def test_one_action_notifies_every_member_of_each_practice_and_customer_care(ctx, desk, shipped, settled, mailbox):
    settled()
    recall = _open(desk, shipped)
    assert recalls.notify(desk, reload(Recall, recall.id)).sent == 2
    assert recalls.notify(desk, reload(Recall, recall.id)).sent == 0  # nobody is told twice by accident
    mailer.deliver_due()

    for user in (shipped["owner"], shipped["colleague"], shipped["other"]):
        [message] = [m for m in mailbox.to(user.email) if "recall" in m["Subject"].lower()]
        assert message["Subject"].startswith(f"URGENT: product recall {recall.number}")
        assert "BAD-1" in text_of(message) and "Particles found" in text_of(message)
    assert not [m for m in mailbox.to(shipped["unaffected"].email) if "recall" in m["Subject"].lower()]
    body = text_of(next(m for m in mailbox.to(shipped["owner"].email) if "recall" in m["Subject"].lower()))
    assert "3 x Booster RCL-1 (RCL-1), lot BAD-1" in body
    [summary] = [m for m in mailbox.to(ctx.config["CUSTOMER_CARE_EMAIL"]) if recall.number in m["Subject"]]
    assert "Harbour Clinic" in text_of(summary) and "Northside Skin" in text_of(summary)

    notice = next(n for n in reload(Recall, recall.id).notices if n.practice.name == "Harbour Clinic")
    recalls.resend(desk, reload(Recall, recall.id), notice.practice_id)
    assert reload(RecallNotice, notice.id).times_notified == 2


def test_a_practice_acknowledges_once_and_staff_see_who_and_when(ctx, desk, shipped):
    recall = _open(desk, shipped)
    recalls.notify(desk, reload(Recall, recall.id))
    colleague = shipped["colleague"]
    notice = acknowledging.notice_for(colleague, recall.id)
    assert acknowledging.unacknowledged_count(colleague) == 1
    acknowledging.acknowledge(colleague, notice)
    with pytest.raises(InvalidTransition, match="already acknowledged"):
        acknowledging.acknowledge(shipped["owner"], acknowledging.notice_for(shipped["owner"], recall.id))
    notice = reload(RecallNotice, notice.id)
    assert notice.acknowledged_by_id == colleague.id and notice.acknowledged_at is not None
    assert acknowledging.unacknowledged_count(shipped["owner"]) == 0
    assert acknowledging.notice_for(shipped["unaffected"], recall.id) is None


def test_a_recall_closes_only_once_every_practice_was_told_and_its_report_says_who_when(ctx, desk, shipped):
    recall = _open(desk, shipped)
    with pytest.raises(LotRefusal, match="Send the notice to every affected practice"):
        recalls.close(desk, reload(Recall, recall.id), "Done.")
    recalls.notify(desk, reload(Recall, recall.id))
    acknowledging.acknowledge(shipped["owner"], acknowledging.notice_for(shipped["owner"], recall.id))
    recalls.close(desk, reload(Recall, recall.id), "Packs returned by both practices and destroyed.")
    recall = reload(Recall, recall.id)
    assert recall.status == RecallStatus.CLOSED and recall.closed_at is not None
    with pytest.raises(NotEligible, match="closed"):
        recalls.notify(desk, recall)

    text = pdf_text(report_pdf(recall))
    for expected in (
        "Recall report " + recall.number,
        "FSCA-2027-014",
        "Harbour Clinic",
        "Northside Skin",
        "Packs returned by both",
        "Dr Ana Ruiz",
        "not yet",
    ):
        assert expected in text, expected


def test_only_the_recall_desk_opens_a_recall_and_only_lots_of_the_product(ctx, shipped):
    orders_desk = make_staff(desks=[Desk.ORDERS])
    with pytest.raises(NotEligible):
        _open(orders_desk, shipped)
    desk = make_staff(desks=[Desk.RECALLS])
    other = make_variant("RCL-OTHER", stock=0, lots=False)
    foreign = make_lot(other, "X-1", on_hand=1)
    with pytest.raises(LotRefusal, match="Choose the lots"):
        recalls.open_recall(desk, shipped["variant"].product, [foreign.id], "Reason.", "REF")
    with pytest.raises(LotRefusal, match="manufacturer's recall reference"):
        recalls.open_recall(desk, shipped["variant"].product, [shipped["bad"].id], "Reason.", "  ")
    assert db.session.scalar(select(Recall)) is None
    assert reload(Lot, shipped["bad"].id).status == LotStatus.AVAILABLE


def test_two_desks_notifying_at_once_tell_each_practice_once(ctx, desk, shipped):
    recall = _open(desk, shipped)
    other = make_staff(desks=[Desk.RECALLS])
    start = threading.Barrier(2)

    def send(staff_id: int):
        with ctx.app_context():
            try:
                staff, found = db.session.get(User, staff_id), db.session.get(Recall, recall.id)
                assert len(found.notices) == 2  # the page loaded them before the click
                db.session.rollback()
                start.wait(timeout=30)
                return recalls.notify(staff, db.session.get(Recall, recall.id)).sent
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=2) as pool:
        sent = sorted(pool.map(send, [desk.id, other.id]))
    assert sent == [0, 2]
    notices = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "recall.notice")).all()
    assert len(notices) == 3  # the owner, the colleague, the other practice's clinician
    assert {n.times_notified for n in reload(Recall, recall.id).notices} == {1}


def test_a_practice_nobody_is_left_to_email_is_phoned_and_the_call_recorded(ctx, desk, shipped):
    other = shipped["other"]
    other.active = False
    db.session.commit()
    recall = _open(desk, shipped)
    result = recalls.notify(desk, reload(Recall, recall.id))
    assert (result.sent, result.unreachable) == (1, ("Northside Skin",))
    with pytest.raises(LotRefusal, match="Send the notice to every affected practice"):
        recalls.close(desk, reload(Recall, recall.id), "Done.")
    with pytest.raises(LotRefusal, match="no active member to email"):
        recalls.resend(desk, reload(Recall, recall.id), other.practice_id)
    recalls.record_call(desk, reload(Recall, recall.id), other.practice_id, "Spoke to the practice manager, Ms Byrne.")
    notice = next(n for n in reload(Recall, recall.id).notices if n.practice_id == other.practice_id)
    assert notice.first_notified_at is not None and "By phone (Rowan Quinn): Spoke to" in notice.notified_to
    recalls.close(desk, reload(Recall, recall.id), "Packs collected.")


def test_only_a_verified_member_acknowledges_for_the_practice(ctx, desk, shipped):
    recall = _open(desk, shipped)
    recalls.notify(desk, reload(Recall, recall.id))
    applicant = make_applicant(email="joined.by.invitation@clinic.example")
    applicant.practice_id = shipped["owner"].practice_id
    db.session.commit()
    notice = acknowledging.notice_for(applicant, recall.id)
    with pytest.raises(NotEligible, match="verified member"):
        acknowledging.acknowledge(applicant, notice)
    assert reload(RecallNotice, notice.id).acknowledged_at is None
