"""POST /stripe/webhook: only events signed with the webhook secret over the exact body count;
each is applied once, whether Stripe delivers it twice, twice at the same moment or out of
order; a payment that does not match the order is held for the desk; the clinician is emailed
when the payment is received or fails."""

from __future__ import annotations

import json
import threading
import time

import pytest

from shop.core.mailer import deliver_due
from shop.ordering.models import OrderStatus
from tests import stripe_fake
from tests.factories import CARD_STOCK, place_card_order
from tests.helpers import order_events, outbox, post_event, stripe_event_rows, text
from tests.smtp import text_of

WEBHOOK = "/stripe/webhook"


def _subjects(mailbox, address: str) -> list[str]:
    return [m["Subject"] for m in mailbox.to(address)]


def test_a_signed_completed_event_marks_the_order_paid_and_emails_the_clinician_and_the_desk(
    signed_in, stripe, client, mailbox, settled, app
):
    placed = place_card_order(signed_in)
    settled()
    session = stripe.pay(placed.order.stripe_session_id)

    reply = post_event(client, stripe, "checkout.session.completed", session)

    assert reply.status_code == 200 and reply.get_json()["received"] is True
    order = placed.order
    assert order.status == OrderStatus.PAID and order.paid_at is not None
    assert order.stripe_payment_intent == session["payment_intent"]
    assert len(order_events(placed.number, "paid")) == 1
    assert "Paid" in text(placed.browser.get(f"/orders/{placed.number}"))
    deliver_due()
    to_clinician = [m for m in mailbox.to(placed.clinician.email) if m["Subject"].startswith("Payment received")]
    assert len(to_clinician) == 1
    assert placed.number in to_clinician[0]["Subject"] and "We received your payment" in text_of(to_clinician[0])
    assert any(placed.number in s and "paid by card" in s for s in _subjects(mailbox, app.config["ORDERS_DESK_EMAIL"]))


# --- the signature ------------------------------------------------------------------------


def _completed_payload(stripe, placed) -> str:
    return stripe.event("checkout.session.completed", stripe.pay(placed.order.stripe_session_id))


def _refusals(stripe, payload: str):
    stale = int(time.time()) - 301
    valid = stripe.signed(payload)
    tampered = payload.replace('"payment_status": "paid"', '"payment_status": "unpaid"')
    assert tampered != payload
    return {
        "a bad signature": (payload, {**valid, "Stripe-Signature": f"t={int(time.time())},v1={'0' * 64}"}),
        "the wrong secret": (payload, stripe.signed(payload, secret="whsec_someone_else")),
        "a timestamp over five minutes old": (payload, stripe.signed(payload, timestamp=stale)),
        "no signature header": (payload, {"Content-Type": "application/json"}),
        "an empty signature header": (payload, {**valid, "Stripe-Signature": ""}),
        "a malformed signature header": (payload, {**valid, "Stripe-Signature": "t=soon,v1"}),
        "a body changed after signing": (tampered, valid),
        "a signature of another body": (payload, stripe.signed(payload + " ")),
    }


REFUSALS = [
    "a bad signature",
    "the wrong secret",
    "a timestamp over five minutes old",
    "no signature header",
    "an empty signature header",
    "a malformed signature header",
    "a body changed after signing",
    "a signature of another body",
]


@pytest.mark.parametrize("case", REFUSALS)
def test_an_event_without_a_valid_signature_over_the_raw_body_is_refused_with_no_effect(
    signed_in, stripe, client, case
):
    placed = place_card_order(signed_in)
    payload, headers = _refusals(stripe, _completed_payload(stripe, placed))[case]
    queued = len(outbox("order.paid"))

    reply = client.raw.post(WEBHOOK, data=payload, headers=headers)

    assert reply.status_code == 400
    assert placed.order.status == OrderStatus.AWAITING_PAYMENT
    assert stripe_event_rows() == 0 and order_events(placed.number, "paid") == []
    assert len(outbox("order.paid")) == queued


@pytest.mark.parametrize(
    "body", ["not json at all", "[1, 2, 3]", '{"type": "checkout.session.completed"}', '{"id": 7, "type": "x"}']
)
def test_a_correctly_signed_body_that_is_not_an_event_is_refused(stripe, client, body):
    reply = client.raw.post(WEBHOOK, data=body, headers=stripe.signed(body))
    assert reply.status_code == 400
    assert stripe_event_rows() == 0


def test_a_body_that_is_not_utf8_is_refused(stripe, client):
    body = b'{"id": "evt_1", "type": "\xff"}'
    header = stripe_fake.signature_header(body.decode("latin-1"))
    assert client.raw.post(WEBHOOK, data=body, headers={"Stripe-Signature": header}).status_code == 400


def test_a_signature_a_few_minutes_old_is_still_accepted(signed_in, stripe, client):
    placed = place_card_order(signed_in)
    payload = _completed_payload(stripe, placed)
    headers = stripe.signed(payload, timestamp=int(time.time()) - 240)

    assert client.raw.post(WEBHOOK, data=payload, headers=headers).status_code == 200
    assert placed.order.status == OrderStatus.PAID


def test_no_event_is_accepted_when_the_webhook_secret_is_not_configured(signed_in, stripe, client, app, monkeypatch):
    placed = place_card_order(signed_in)
    payload = _completed_payload(stripe, placed)
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET", None)

    assert client.raw.post(WEBHOOK, data=payload, headers=stripe.signed(payload)).status_code == 400
    assert placed.order.status == OrderStatus.AWAITING_PAYMENT


# --- once, and in any order ---------------------------------------------------------------


def test_an_event_delivered_twice_is_applied_once(signed_in, stripe, client, mailbox, settled):
    placed = place_card_order(signed_in)
    settled()
    payload = _completed_payload(stripe, placed)

    first = client.raw.post(WEBHOOK, data=payload, headers=stripe.signed(payload))
    second = client.raw.post(WEBHOOK, data=payload, headers=stripe.signed(payload))

    assert first.status_code == second.status_code == 200
    assert second.get_json()["outcome"] == "duplicate"
    assert len(order_events(placed.number, "paid")) == 1 and stripe_event_rows() == 1
    deliver_due()
    assert [s for s in _subjects(mailbox, placed.clinician.email) if s.startswith("Payment received")] == [
        f"Payment received ({placed.number})"
    ]


def _post_together(app, deliveries: list[tuple[str, dict]]) -> list[int]:
    """Post every (payload, headers) from its own thread, all released at the same moment."""
    gate = threading.Barrier(len(deliveries))
    statuses: list[int | Exception] = [0] * len(deliveries)

    def post(index: int, payload: str, headers: dict) -> None:
        client = app.test_client()
        gate.wait()
        try:
            statuses[index] = client.post(WEBHOOK, data=payload, headers=headers).status_code
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            statuses[index] = error

    threads = [
        threading.Thread(target=post, args=(index, payload, headers))
        for index, (payload, headers) in enumerate(deliveries)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


def test_an_event_delivered_by_many_threads_at_the_same_moment_is_applied_once(
    signed_in, stripe, app, mailbox, settled
):
    placed = place_card_order(signed_in)
    settled()
    payload = _completed_payload(stripe, placed)

    statuses = _post_together(app, [(payload, stripe.signed(payload))] * 8)

    assert statuses == [200] * 8
    assert placed.order.status == OrderStatus.PAID
    assert len(order_events(placed.number, "paid")) == 1 and stripe_event_rows() == 1
    deliver_due()
    received = [s for s in _subjects(mailbox, placed.clinician.email) if s.startswith("Payment received")]
    assert received == [f"Payment received ({placed.number})"]


def test_different_events_for_the_same_payment_at_the_same_moment_mark_it_paid_once(
    signed_in, stripe, app, mailbox, settled
):
    placed = place_card_order(signed_in)
    settled()
    session = stripe.pay(placed.order.stripe_session_id)
    deliveries = []
    for index in range(6):
        kind = "checkout.session.completed" if index % 2 else "checkout.session.async_payment_succeeded"
        payload = stripe.event(kind, session)
        deliveries.append((payload, stripe.signed(payload)))

    statuses = _post_together(app, deliveries)

    assert statuses == [200] * 6
    assert placed.order.status == OrderStatus.PAID
    assert len(order_events(placed.number, "paid")) == 1
    deliver_due()
    assert len([s for s in _subjects(mailbox, placed.clinician.email) if s.startswith("Payment received")]) == 1


def test_a_pending_payment_is_marked_paid_when_the_bank_confirms_it(signed_in, stripe, client, mailbox, settled):
    placed = place_card_order(signed_in)
    settled()
    session_id = placed.order.stripe_session_id

    post_event(client, stripe, "checkout.session.completed", stripe.pay(session_id, pending=True))
    assert placed.order.status == OrderStatus.AWAITING_PAYMENT
    assert len(order_events(placed.number, "payment_pending")) == 1
    deliver_due()
    assert not any(s.startswith("Payment received") for s in _subjects(mailbox, placed.clinician.email))

    post_event(client, stripe, "checkout.session.async_payment_succeeded", stripe.settle_async(session_id))

    assert placed.order.status == OrderStatus.PAID
    deliver_due()
    assert f"Payment received ({placed.number})" in _subjects(mailbox, placed.clinician.email)


def test_the_banks_confirmation_arriving_before_the_unpaid_completed_event_leaves_the_order_paid(
    signed_in, stripe, client
):
    placed = place_card_order(signed_in)
    session_id = placed.order.stripe_session_id
    completed_unpaid = stripe.pay(session_id, pending=True)
    succeeded = stripe.settle_async(session_id)

    assert post_event(client, stripe, "checkout.session.async_payment_succeeded", succeeded).status_code == 200
    assert post_event(client, stripe, "checkout.session.completed", completed_unpaid).status_code == 200

    assert placed.order.status == OrderStatus.PAID
    assert len(order_events(placed.number, "paid")) == 1
    assert order_events(placed.number, "payment_pending") == []


def test_a_failed_async_payment_emails_the_clinician_and_the_order_can_still_be_paid(
    signed_in, stripe, client, mailbox, settled
):
    placed = place_card_order(signed_in)
    settled()
    session_id = placed.order.stripe_session_id
    post_event(client, stripe, "checkout.session.completed", stripe.pay(session_id, pending=True))

    reply = post_event(
        client, stripe, "checkout.session.async_payment_failed", stripe.settle_async(session_id, succeeded=False)
    )

    assert reply.status_code == 200
    order = placed.order
    assert order.status == OrderStatus.AWAITING_PAYMENT and order.paid_at is None
    assert placed.stock() == CARD_STOCK - 2
    assert len(order_events(placed.number, "payment_failed")) == 1
    page = text(placed.browser.get(f"/orders/{placed.number}"))
    assert "Your bank did not confirm the payment" in page and "Pay now" in page
    deliver_due()
    failed = [m for m in mailbox.to(placed.clinician.email) if "did not go through" in m["Subject"]]
    assert len(failed) == 1 and placed.number in failed[0]["Subject"]
    assert "nothing was charged" in text_of(failed[0])


def test_a_payment_failure_for_a_superseded_session_changes_nothing(signed_in, stripe, client):
    placed = place_card_order(signed_in)
    old = placed.order.stripe_session_id
    stripe.expire(old)
    placed.browser.post(f"/orders/{placed.number}/pay")
    assert placed.order.stripe_session_id != old

    post_event(client, stripe, "checkout.session.async_payment_failed", stripe.session(old))

    assert placed.order.payment_error == ""
    assert order_events(placed.number, "payment_failed") == []


@pytest.mark.parametrize(
    ("amount_change", "currency"), [(+1, None), (-500, None), (0, "eur")], ids=["a cent more", "less", "euros"]
)
def test_a_payment_that_does_not_match_the_order_holds_it_and_alerts_the_desk(
    signed_in, stripe, client, app, mailbox, settled, amount_change, currency
):
    placed = place_card_order(signed_in)
    settled()
    total = placed.order.total_cents
    session = stripe.pay(placed.order.stripe_session_id, amount=total + amount_change, currency=currency)

    reply = post_event(client, stripe, "checkout.session.completed", session)
    post_event(client, stripe, "checkout.session.completed", session)  # delivered again: one alert

    assert reply.status_code == 200
    order = placed.order
    assert order.status == OrderStatus.ON_HOLD
    assert f"{session['amount_total']} {session['currency']}" in order.hold_reason
    assert f"{total} usd" in order.hold_reason
    assert order_events(placed.number, "paid") == [] and len(order_events(placed.number, "payment_mismatch")) == 1
    deliver_due()
    desk = [m for m in mailbox.to(app.config["ORDERS_DESK_EMAIL"]) if "NEEDS ATTENTION" in m["Subject"]]
    assert len(desk) == 1
    assert placed.number in desk[0]["Subject"] and "does not match" in desk[0]["Subject"]
    assert not any(s.startswith("Payment received") for s in _subjects(mailbox, placed.clinician.email))


@pytest.mark.parametrize(
    "event_type",
    ["payment_intent.succeeded", "charge.refunded", "customer.created", "checkout.session.something_new"],
)
def test_event_types_the_shop_does_not_handle_are_acknowledged_and_ignored(signed_in, stripe, client, event_type):
    placed = place_card_order(signed_in)
    session = stripe.pay(placed.order.stripe_session_id)

    reply = post_event(client, stripe, event_type, session)

    assert reply.status_code == 200 and reply.get_json()["outcome"] == "ignored"
    assert placed.order.status == OrderStatus.AWAITING_PAYMENT
    assert order_events(placed.number, "paid") == []


def test_a_handled_event_type_carrying_something_else_than_a_session_is_ignored(stripe, client):
    payload = json.dumps(
        {"id": "evt_odd", "type": "checkout.session.completed", "data": {"object": {"object": "charge", "id": "ch_1"}}}
    )
    reply = client.raw.post(WEBHOOK, data=payload, headers=stripe.signed(payload))
    assert reply.status_code == 200 and reply.get_json()["outcome"] == "ignored"


def test_an_event_for_an_order_the_shop_does_not_know_is_acknowledged(stripe, client):
    session = stripe.create_session(
        {
            "client_reference_id": "ORD-999999",
            "line_items": [{"quantity": "1", "price_data": {"currency": "usd", "unit_amount": "100"}}],
        }
    )
    reply = post_event(client, stripe, "checkout.session.completed", stripe.pay(session["id"]))
    assert reply.status_code == 200 and reply.get_json()["outcome"] == "unknown order"


@pytest.mark.parametrize(
    "odd",
    [
        {"client_reference_id": 100001},
        {"client_reference_id": ["ORD-100001"]},
        {"currency": 840, "amount_total": "25000"},
        {"status": {"complete": True}, "payment_status": 1},
        {"amount_total": True},
    ],
)
def test_a_signed_session_with_fields_of_unexpected_types_never_breaks_the_webhook(signed_in, stripe, client, odd):
    placed = place_card_order(signed_in)
    session = {**stripe.pay(placed.order.stripe_session_id), **odd}

    reply = post_event(client, stripe, "checkout.session.completed", session)

    assert reply.status_code == 200
    assert placed.order.status in (OrderStatus.AWAITING_PAYMENT, OrderStatus.ON_HOLD)


@pytest.mark.parametrize(
    "late", ["checkout.session.expired", "checkout.session.async_payment_failed", "checkout.session.completed"]
)
def test_a_stale_event_arriving_after_the_payment_changes_nothing(signed_in, stripe, client, mailbox, settled, late):
    placed = place_card_order(signed_in)
    session_id = placed.order.stripe_session_id
    stale = {**stripe.session(session_id)}  # Stripe's view of the session before it was paid
    stale["status"] = "expired" if late == "checkout.session.expired" else "complete"
    settled()
    post_event(client, stripe, "checkout.session.completed", stripe.pay(session_id))

    assert post_event(client, stripe, late, stale).status_code == 200

    order = placed.order
    assert order.status == OrderStatus.PAID and order.payment_error == ""
    assert placed.stock() == CARD_STOCK - 2
    assert order_events(placed.number, "cancelled") == [] and order_events(placed.number, "payment_failed") == []
    deliver_due()
    subjects = _subjects(mailbox, placed.clinician.email)
    invoice = order.invoice.number
    assert sorted(subjects) == sorted(
        [f"Payment received ({placed.number})", f"Invoice {invoice} for order {placed.number}"]
    )


# --- a payment matched to the session the shop made ---------------------------------------


def test_a_second_payment_for_a_paid_order_is_recorded_on_it_and_the_desk_is_alerted(
    signed_in, stripe, client, mailbox, settled
):
    placed = place_card_order(signed_in)
    settled()
    post_event(client, stripe, "checkout.session.completed", stripe.pay(placed.order.stripe_session_id))
    order = placed.order
    other = stripe.create_session(
        {
            "client_reference_id": placed.number,
            "metadata": {"order_number": placed.number},
            "line_items": [{"quantity": "1", "price_data": {"currency": "usd", "unit_amount": str(order.total_cents)}}],
        }
    )

    reply = post_event(client, stripe, "checkout.session.completed", stripe.pay(other["id"]))

    assert reply.status_code == 200
    assert placed.order.status == OrderStatus.PAID
    [noted] = order_events(placed.number, "payment_unknown_session")
    assert other["id"] in noted.note
    deliver_due()
    [alert] = [m for m in mailbox.to("orders@meridian-supply.example") if "NEEDS ATTENTION" in m["Subject"]]
    assert placed.number in alert["Subject"]
    # Told twice, recorded once.
    post_event(client, stripe, "checkout.session.completed", stripe.session(other["id"]))
    assert len(order_events(placed.number, "payment_unknown_session")) == 1


def test_a_paid_session_naming_an_order_in_its_reference_only_does_not_pay_it(signed_in, stripe, client, mailbox):
    placed = place_card_order(signed_in)
    forged = stripe.create_session(
        {
            "client_reference_id": placed.number,
            "line_items": [
                {"quantity": "1", "price_data": {"currency": "usd", "unit_amount": str(placed.order.total_cents)}}
            ],
        }
    )

    post_event(client, stripe, "checkout.session.completed", stripe.pay(forged["id"]))

    assert placed.order.status == OrderStatus.AWAITING_PAYMENT
    assert placed.order.paid_at is None
    assert len(order_events(placed.number, "payment_unknown_session")) == 1
    assert order_events(placed.number, "paid") == []


def test_an_event_signed_more_than_five_minutes_ahead_is_refused(signed_in, stripe, client):
    placed = place_card_order(signed_in)
    payload = stripe.event("checkout.session.completed", stripe.pay(placed.order.stripe_session_id))

    ahead = client.raw.post(
        "/stripe/webhook", data=payload, headers=stripe.signed(payload, timestamp=int(time.time()) + 301)
    )

    assert ahead.status_code == 400
    assert placed.order.status == OrderStatus.AWAITING_PAYMENT
    slightly = client.raw.post(
        "/stripe/webhook", data=payload, headers=stripe.signed(payload, timestamp=int(time.time()) + 60)
    )
    assert slightly.status_code == 200
