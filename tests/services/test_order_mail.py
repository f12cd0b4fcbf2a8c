"""The emails of the order flow, read from a real SMTP server: the orders desk's copy of every
placed order with all it needs to pick and invoice it, the clinician's confirmation, the
shipped and cancelled notices, and an SMTP outage that delays mail but never fails checkout."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from shop import clock
from shop.core import mailer
from shop.core.outbox import OutboxMessage
from shop.extensions import db
from shop.ordering import orders
from shop.ordering.models import CancelCause, Order, OrderStatus, PaymentMethod
from tests.factories import add_address, clinician_with_cart, make_staff, make_variant, place_order, ship_order
from tests.helpers import post_checkout, redirect_path, reload
from tests.smtp import html_of, text_of


@pytest.fixture
def desk_address(ctx) -> str:
    return ctx.config["ORDERS_DESK_EMAIL"]


def _one(mailbox, address: str, subject_part: str = ""):
    found = [m for m in mailbox.to(address) if subject_part in m["Subject"]]
    assert len(found) == 1, [m["Subject"] for m in mailbox.to(address)]
    return found[0]


def _two_line_order(signed_in, **fields) -> tuple[Order, object]:
    make_variant("RSB-VIT-1L", price_cents=12_000, name="Restylane Skinboosters Vital")
    make_variant("JUV-HYD-1", price_cents=4_550, name="Juvederm Hydrate")
    user = clinician_with_cart(("RSB-VIT-1L", 2), ("JUV-HYD-1", 3), full_name="Dr Maeve Byrne")
    add_address(user, "Unit 9, Kinsale Road Business Park", "Goods entrance", postcode="T12 K9R0")
    browser = signed_in(user)
    response = post_checkout(browser, **fields)
    assert response.status_code == 303, response.status_code
    return db.session.scalar(select(Order)), user


def test_the_orders_desk_gets_every_detail_of_a_placed_order(signed_in, mailbox, desk_address):
    order, user = _two_line_order(signed_in, po_number="PO-2026-0042", note="Fridge goods: deliver before 11:00.")

    assert mailer.deliver_due().failed == 0
    message = _one(mailbox, desk_address, order.number)
    body = text_of(message).replace("\r\n", "\n")

    assert "new order from Dr Maeve Byrne Practice" in message["Subject"]
    assert message["Reply-To"] == user.email
    for expected in (
        order.number,
        "Dr Maeve Byrne Practice",
        "Dr Maeve Byrne",
        user.email,
        user.application.licence_number,
        "12 Grand Parade",
        "Cork, Co. Cork T12 AB12\n                 Ireland",
        "PO number:       PO-2026-0042",
        "Fridge goods: deliver before 11:00.",
        "On account (invoice)",
        "Status:          Placed",
        "RSB-VIT-1L  Restylane Skinboosters Vital",
        "2 x $120.00 = $240.00",
        "JUV-HYD-1  Juvederm Hydrate",
        "3 x $45.50 = $136.50",
        "Total:           $481.55",
        f"http://shop.test/staff/orders/{order.number}",
    ):
        assert expected in body, expected
    html = html_of(message)
    for expected in (
        "RSB-VIT-1L",
        "Restylane Skinboosters Vital",
        "$240.00",
        "JUV-HYD-1",
        "$136.50",
        "PO-2026-0042",
        user.application.licence_number,
        f'href="http://shop.test/staff/orders/{order.number}"',
    ):
        assert expected in html, expected


def test_the_desk_email_shows_the_address_the_clinician_chose(signed_in, mailbox, desk_address):
    make_variant("VIT-1")
    user = clinician_with_cart(("VIT-1", 1))
    warehouse = add_address(user, "Unit 9, Kinsale Road Business Park", postcode="T12 K9R0")

    post_checkout(signed_in(user), address_id=str(warehouse.id))
    mailer.deliver_due()

    body = text_of(_one(mailbox, desk_address))
    assert "Unit 9, Kinsale Road Business Park" in body and "Grand Parade" not in body


def test_the_clinician_gets_a_confirmation_with_the_lines_and_a_link_to_the_order(signed_in, mailbox):
    order, user = _two_line_order(signed_in)

    mailer.deliver_due()
    message = _one(mailbox, user.email)

    assert message["Subject"] == f"Thank you for your order ({order.number})"
    body = text_of(message)
    assert "It is placed on your practice's account" in body
    assert "RSB-VIT-1L" in body and "JUV-HYD-1" in body and "$481.55" in body
    assert f"http://shop.test/orders/{order.number}" in body


def test_a_card_order_tells_the_desk_it_awaits_payment(ctx, mailbox, desk_address):
    make_variant("VIT-1")
    user = clinician_with_cart(("VIT-1", 1), on_account=False)
    order = place_order(user, method=PaymentMethod.CARD)

    mailer.deliver_due()

    message = _one(mailbox, desk_address, order.number)
    assert "Card (Stripe), awaiting payment" in message["Subject"]
    assert "Status:          Awaiting payment" in text_of(message)
    assert "waiting for your card payment" in text_of(_one(mailbox, user.email))


def test_the_clinician_is_emailed_the_carrier_and_tracking_number_when_the_order_ships(ctx, settled, mailbox):
    make_variant("VIT-1")
    user = clinician_with_cart(("VIT-1", 1))
    order = place_order(user)
    staff = make_staff()
    orders.confirm(order, staff)
    settled()

    ship_order(reload(Order, order.id), staff, "DHL Express", "JD014600003SE")
    mailer.deliver_due()

    message = _one(mailbox, user.email)
    assert message["Subject"] == f"Your order is on its way ({order.number})"
    assert "DHL Express, tracking number JD014600003SE" in text_of(message)
    assert "JD014600003SE" in html_of(message)
    assert len(mailbox.messages) == 1


def test_a_cancellation_is_emailed_to_the_clinician_with_the_reason_and_to_the_desk(
    ctx, settled, mailbox, desk_address
):
    make_variant("VIT-1")
    user = clinician_with_cart(("VIT-1", 1))
    order = place_order(user)
    settled()

    orders.cancel(order, make_staff(), "The product line was recalled by the manufacturer.", CancelCause.STAFF)
    mailer.deliver_due()

    to_clinician = _one(mailbox, user.email)
    assert to_clinician["Subject"] == f"Your order was cancelled ({order.number})"
    assert "Reason: The product line was recalled by the manufacturer." in text_of(to_clinician)
    to_desk = _one(mailbox, desk_address, order.number)
    assert "cancelled" in to_desk["Subject"]
    assert "The product line was recalled by the manufacturer." in text_of(to_desk)


# --- an SMTP outage ----------------------------------------------------------------------------


def test_checkout_succeeds_while_smtp_is_down_and_its_mail_arrives_when_it_returns(
    signed_in, smtp_server, mailbox, desk_address
):
    make_variant("VIT-1", price_cents=12_000)
    user = clinician_with_cart(("VIT-1", 2))
    browser = signed_in(user)
    smtp_server.stop()
    try:
        with time_machine.travel(clock.now(), tick=False) as traveller:
            response = post_checkout(browser, po_number="PO-OUTAGE-1")
            order = db.session.scalar(select(Order))
            assert response.status_code == 303 and redirect_path(response) == f"/orders/{order.number}"
            assert order.status == OrderStatus.PLACED

            report = mailer.deliver_due()
            assert report.sent == 0 and report.failed >= 1
            queued = db.session.scalars(select(OutboxMessage).where(OutboxMessage.sent_at.is_(None))).all()
            assert sorted(m.to_address for m in queued) == sorted([desk_address, user.email])

            smtp_server.start()
            traveller.shift(timedelta(minutes=2))
            assert mailer.deliver_due().sent == 2
    finally:
        if not smtp_server.running:
            smtp_server.start()

    body = text_of(_one(mailbox, desk_address, order.number))
    assert "VIT-1" in body and "PO-OUTAGE-1" in body and "2 x $120.00 = $240.00" in body
    assert _one(mailbox, user.email)["Subject"] == f"Thank you for your order ({order.number})"
    assert mailer.deliver_due().sent == 0  # nothing twice


def test_shipping_and_cancelling_while_smtp_is_down_lose_no_mail(ctx, smtp_server, mailbox):
    make_variant("VIT-1", stock=10)
    shipped = place_order(clinician_with_cart(("VIT-1", 1)))
    cancelled = place_order(clinician_with_cart(("VIT-1", 1)))
    staff = make_staff()
    orders.confirm(shipped, staff)
    mailer.deliver_due()
    mailbox.clear()
    smtp_server.stop()
    try:
        with time_machine.travel(clock.now(), tick=False) as traveller:
            ship_order(reload(Order, shipped.id), staff, "UPS", "1Z999AA10123456784")
            orders.cancel(reload(Order, cancelled.id), staff, "Asked by the clinic.", CancelCause.STAFF)
            assert reload(Order, shipped.id).status == OrderStatus.SHIPPED
            assert reload(Order, cancelled.id).status == OrderStatus.CANCELLED
            assert mailer.deliver_due().sent == 0

            smtp_server.start()
            traveller.shift(timedelta(minutes=2))
            assert mailer.deliver_due().sent == 3  # shipped; cancelled to clinician and desk
    finally:
        if not smtp_server.running:
            smtp_server.start()

    subjects = sorted(m["Subject"] for m in mailbox.messages)
    assert any("on its way" in s and shipped.number in s for s in subjects)
    assert any("was cancelled" in s and cancelled.number in s for s in subjects)
