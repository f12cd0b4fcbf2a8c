"""The recall pages: the desk opens a recall from a product's lots and notifies from its page;
a clinician of an affected practice is alerted on every page and on the order, and acknowledges;
another practice's clinician gets a 404; the reports download; the page's statements do not
grow with the practices it lists."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shop.access import Desk
from shop.extensions import db
from shop.ordering import orders
from shop.ordering.models import Order
from shop.recalls.models import Recall, RecallNotice
from tests.factories import clinician_with_cart, make_lot, make_staff, make_variant, place_order, ship_order
from tests.helpers import field_error, flashes, redirect_path, reload, statements_during, text


@pytest.fixture
def staff():
    return make_staff(full_name="Rowan Quinn", desks=[Desk.RECALLS, Desk.ORDERS])


@pytest.fixture
def desk(signed_in, staff):
    return signed_in(staff)


def _supply(staff, practices: int):
    variant = make_variant("RCLW-1", stock=0, lots=False)
    lot = make_lot(variant, "BAD-9", on_hand=50)
    buyers = []
    for n in range(practices):
        user = clinician_with_cart(("RCLW-1", 1), practice_name=f"Clinic {n}", on_account=True)
        order = place_order(user)
        orders.confirm(order, staff)
        ship_order(reload(Order, order.id), staff)
        buyers.append((user, order.number))
    return variant, lot, buyers


def _open(desk, variant, lot) -> Recall:
    response = desk.post(
        f"/staff/recalls/new?product_id={variant.product_id}",
        {"lot_ids": [str(lot.id)], "manufacturer_reference": "FSCA-77", "reason": "Sterility cannot be assured."},
    )
    recall = db.session.scalar(select(Recall))
    assert redirect_path(response) == f"/staff/recalls/{recall.id}"
    return recall


def test_the_desk_opens_a_recall_notifies_and_the_clinician_acknowledges(desk, staff, signed_in):
    variant, lot, [(user, number)] = _supply(staff, 1)
    assert "BAD-9" in text(desk.get(f"/staff/recalls/new?product_id={variant.product_id}&lot_id={lot.id}"))
    recall = _open(desk, variant, lot)
    page = text(desk.get(f"/staff/recalls/{recall.id}"))
    assert "Clinic 0" in page and "Not yet notified" in page and "Sterility cannot be assured." in page

    desk.post(f"/staff/recalls/{recall.id}/notify", {})
    assert ("success", "The notice went to 1 practice and to customer care.") in flashes(
        desk.get(f"/staff/recalls/{recall.id}")
    )

    clinician = signed_in(user)
    catalogue = text(clinician.get("/catalogue"))
    assert "Urgent: a product recall concerns your practice." in catalogue
    assert f"Recall {recall.number}" in text(clinician.get(f"/orders/{number}"))
    response = clinician.post(f"/recalls/{recall.id}", {})
    assert redirect_path(response) == f"/recalls/{recall.id}"
    assert "Acknowledged by Dr Ana Ruiz" in text(clinician.get(f"/recalls/{recall.id}"))
    assert "Urgent" not in text(clinician.get("/catalogue"))
    staff_page = text(desk.get(f"/staff/recalls/{recall.id}"))
    assert "Acknowledged" in staff_page and "Dr Ana Ruiz" in staff_page

    pdf = desk.get(f"/staff/recalls/{recall.id}/report.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    csv = desk.get(f"/staff/recalls/{recall.id}/report.csv").get_data(as_text=True)
    assert "Clinic 0" in csv and "BAD-9" in csv and "Dr Ana Ruiz" in csv


def test_another_practices_clinician_never_sees_a_recall_notice(desk, staff, signed_in):
    variant, lot, _ = _supply(staff, 1)
    recall = _open(desk, variant, lot)
    desk.post(f"/staff/recalls/{recall.id}/notify", {})
    stranger = signed_in(clinician_with_cart(practice_name="Elsewhere"))
    assert stranger.get(f"/recalls/{recall.id}").status_code == 404
    assert stranger.post(f"/recalls/{recall.id}", {}).status_code == 404
    assert "No recall concerns your practice" in text(stranger.get("/recalls"))
    assert db.session.scalar(select(RecallNotice.acknowledged_at)) is None


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"manufacturer_reference": "R", "reason": "x"}, "lot_ids", "Choose the lots"),
        ({"lot_ids": ["999999"], "manufacturer_reference": "R", "reason": "x"}, "lot_ids", "Not a valid choice"),
        ({"lot_ids": ["abc"], "manufacturer_reference": "R", "reason": "x"}, "lot_ids", "Choose the lots"),
        (
            {"lot_ids": ["LOT"], "manufacturer_reference": "", "reason": "x"},
            "manufacturer_reference",
            "Enter the manufacturer",
        ),
    ],
)
def test_a_recall_that_does_not_add_up_is_refused_next_to_its_field(desk, staff, form, field, message):
    variant, lot, _ = _supply(staff, 1)
    form = {k: ([str(lot.id)] if v == ["LOT"] else v) for k, v in form.items()}
    response = desk.post(f"/staff/recalls/new?product_id={variant.product_id}", form)
    assert response.status_code == 422
    assert message.lower() in (field_error(response, field) or text(response)).lower()
    assert db.session.scalar(select(Recall)) is None


def test_the_recall_page_costs_the_same_statements_for_one_practice_as_for_five(desk, staff):
    variant, lot, _ = _supply(staff, 1)
    recall = _open(desk, variant, lot)
    desk.post(f"/staff/recalls/{recall.id}/notify", {})
    desk.get(f"/staff/recalls/{recall.id}")
    few = statements_during(lambda: desk.get(f"/staff/recalls/{recall.id}"))

    other = make_lot(variant, "BAD-10", on_hand=50)
    for n in range(4):
        user = clinician_with_cart(("RCLW-1", 1), practice_name=f"More {n}", on_account=True)
        order = place_order(user)
        orders.confirm(order, staff)
        ship_order(reload(Order, order.id), staff)
    db.session.execute(
        RecallNotice.__table__.insert().values(
            [
                {"recall_id": recall.id, "practice_id": p, "times_notified": 0}
                for p in db.session.scalars(select(Order.practice_id).where(Order.practice_name.like("More%")))
            ]
        )
    )
    db.session.commit()
    assert other.id
    desk.get(f"/staff/recalls/{recall.id}")
    many = statements_during(lambda: desk.get(f"/staff/recalls/{recall.id}"))
    assert many == few


def test_an_unknown_or_absurd_product_on_the_recall_form_is_just_not_chosen(desk):
    for product_id in ("99999999999999999999", "-1", "abc", "0"):
        page = desk.get(f"/staff/recalls/new?product_id={product_id}")
        assert page.status_code == 200 and "Choose the product" in text(page)


def test_the_dashboard_counts_open_recalls_and_notices_sent_but_not_acknowledged(desk, staff):
    variant, lot, _ = _supply(staff, 2)
    recall = _open(desk, variant, lot)
    dashboard = text(desk.get("/staff"))
    assert "1 open recall" in dashboard and "recall notice not yet acknowledged" not in dashboard
    desk.post(f"/staff/recalls/{recall.id}/notify", {})
    assert "2 recall notices not yet acknowledged" in text(desk.get("/staff"))


def test_a_practice_told_by_phone_is_recorded_from_the_recall_page(desk, staff):
    variant, lot, [(user, _)] = _supply(staff, 1)
    recall = _open(desk, variant, lot)
    page = text(desk.get(f"/staff/recalls/{recall.id}"))
    assert "Record a practice told by phone" in page
    refused = desk.post(f"/staff/recalls/{recall.id}/called", {"practice_id": str(user.practice_id), "note": ""})
    assert redirect_path(refused) == f"/staff/recalls/{recall.id}"
    assert db.session.scalar(select(RecallNotice.first_notified_at)) is None
    desk.post(f"/staff/recalls/{recall.id}/called", {"practice_id": "999999", "note": "x"})
    desk.post(f"/staff/recalls/{recall.id}/called", {"practice_id": str(user.practice_id), "note": "Dr Ruiz, 10:05."})
    assert "By phone (Rowan Quinn): Dr Ruiz, 10:05." in text(desk.get(f"/staff/recalls/{recall.id}"))
