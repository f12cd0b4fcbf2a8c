"""The card path end to end through the test client: checkout sends the clinician to the
Stripe page, the signed webhook marks the order paid, the desk and the clinician are emailed."""

import re

from shop.core.mailer import deliver_due
from shop.ordering.models import Order, OrderStatus
from tests.factories import make_catalogue, make_clinician
from tests.helpers import reload, text
from tests.smtp import text_of


def _checkout(browser, method):
    page = browser.get("/checkout").get_data(as_text=True)
    total = re.search(r'name="expected_total" type="hidden" value="(\d+)"', page).group(1)
    address = re.search(r'name="address_id" required type="radio" value="(\d+)"', page).group(1)
    return browser.post("/checkout", {"address_id": address, "payment_method": method, "expected_total": total})


def test_a_card_order_is_paid_only_when_stripe_says_so(signed_in, stripe, mailbox, app):
    make_catalogue()
    clinician = make_clinician()
    browser = signed_in(clinician)
    assert browser.post("/cart/add", {"sku": "RSB-VIT-1L", "quantity": "2"}).status_code == 303

    response = _checkout(browser, "card")
    session = stripe.only_session()
    assert response.status_code == 303 and response.headers["Location"] == session["url"]
    order = Order.query.one()
    assert order.status == OrderStatus.AWAITING_PAYMENT
    assert session["client_reference_id"] == order.number and session["amount_total"] == order.total_cents

    paid = stripe.pay(session["id"])
    payload = stripe.event("checkout.session.completed", paid)
    reply = browser.raw.post("/stripe/webhook", data=payload, headers=stripe.signed(payload))
    assert reply.status_code == 200
    assert reload(Order, order.id).status == OrderStatus.PAID

    deliver_due()
    desk = mailbox.to(app.config["ORDERS_DESK_EMAIL"])
    assert any(order.number in m["Subject"] and "RSB-VIT-1L" in text_of(m) for m in desk)
    assert any("Payment received" in m["Subject"] for m in mailbox.to(clinician.email))
    assert "Paid" in text(browser.get(f"/orders/{order.number}"))
