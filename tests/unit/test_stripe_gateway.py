"""The Stripe gateway on its own: reading webhook signatures, the sessions it asks for, and how
it fails (bounded retries, a timeout, every failure a PaymentUnavailable)."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest

from config import Config
from shop import clock
from shop.errors import IdempotencyConflict, InvalidWebhook, PaymentUnavailable
from shop.payments import gateway as stripe_gateway
from shop.payments.gateway import CheckoutSession, LineItem, parse_webhook, session_in_event
from tests import stripe_fake

EVENT = json.dumps({"id": "evt_1", "type": "checkout.session.completed", "data": {"object": {}}})


def _create(stripe, *, key: str = "ORD-1-checkout-0", pay_by=None, items=None):
    return stripe_gateway.create_checkout_session(
        reference="ORD-1",
        currency="USD",
        items=items or [LineItem(name="Vital (RSB-1)", unit_amount=12_500, quantity=2)],
        customer_email="dr@clinic.example",
        success_url="http://shop.test/orders/ORD-1/return?session_id={CHECKOUT_SESSION_ID}",
        cancel_url="http://shop.test/orders/ORD-1",
        pay_by=pay_by or clock.now() + timedelta(hours=1),
        idempotency_key=key,
    )


def test_a_correctly_signed_event_is_read():
    event = parse_webhook(EVENT.encode(), stripe_fake.signature_header(EVENT))
    assert event["id"] == "evt_1" and event["type"] == "checkout.session.completed"


def test_an_event_signed_with_a_rolled_secret_among_others_is_read():
    # While a secret is being rolled Stripe sends one v1 signature per secret.
    ours = stripe_fake.signature_header(EVENT)
    timestamp = ours.split(",")[0]
    theirs = stripe_fake.signature_header(EVENT, secret="whsec_old").split(",")[1]
    assert parse_webhook(EVENT.encode(), f"{timestamp},{theirs},{ours.split(',')[1]}")["id"] == "evt_1"


@pytest.mark.parametrize(
    "header",
    ["", "garbage", "t=", "t=abc,v1=00", "v1=00", "t=123", f"t={int(time.time())}", "t=1,v1=,v1=", ",,,", "=,="],
)
def test_a_malformed_signature_header_is_an_invalid_webhook(header):
    with pytest.raises(InvalidWebhook):
        parse_webhook(EVENT.encode(), header)


def test_a_signature_older_than_five_minutes_is_refused_and_a_newer_one_accepted():
    now = int(time.time())
    with pytest.raises(InvalidWebhook):
        parse_webhook(EVENT.encode(), stripe_fake.signature_header(EVENT, timestamp=now - 310))
    assert parse_webhook(EVENT.encode(), stripe_fake.signature_header(EVENT, timestamp=now - 290))


def test_without_a_webhook_secret_nothing_is_accepted(ctx, monkeypatch):
    monkeypatch.setitem(ctx.config, "STRIPE_WEBHOOK_SECRET", None)
    with pytest.raises(InvalidWebhook):
        parse_webhook(EVENT.encode(), stripe_fake.signature_header(EVENT))


@pytest.mark.parametrize(
    "obj",
    [None, "cs_1", {"object": "payment_intent", "id": "pi_1"}, {"object": "checkout.session"}],
)
def test_an_event_without_a_checkout_session_carries_no_session(obj):
    assert session_in_event({"id": "evt", "type": "checkout.session.completed", "data": {"object": obj}}) is None
    assert session_in_event({"id": "evt", "type": "checkout.session.completed", "data": "x"}) is None


@pytest.mark.parametrize(
    ("status", "payment_status", "paid"),
    [
        ("complete", "paid", True),
        ("complete", "no_payment_required", True),
        ("complete", "unpaid", False),
        ("open", "unpaid", False),
        ("expired", "unpaid", False),
        ("open", "paid", False),
    ],
)
def test_a_session_is_paid_only_when_complete_and_paid(status, payment_status, paid):
    session = CheckoutSession.from_stripe({"id": "cs_1", "status": status, "payment_status": payment_status})
    assert session.is_paid is paid


def test_the_currency_is_read_in_lower_case_and_an_expanded_payment_intent_as_its_id():
    session = CheckoutSession.from_stripe(
        {"id": "cs_1", "currency": "USD", "payment_intent": {"id": "pi_9", "object": "payment_intent"}}
    )
    assert session.currency == "usd" and session.payment_intent == "pi_9"


def test_card_payment_is_enabled_only_with_both_keys(ctx, monkeypatch):
    assert stripe_gateway.enabled()
    monkeypatch.setitem(ctx.config, "STRIPE_SECRET_KEY", "")
    assert not stripe_gateway.enabled()
    monkeypatch.setitem(ctx.config, "STRIPE_SECRET_KEY", stripe_fake.SECRET_KEY)
    monkeypatch.setitem(ctx.config, "STRIPE_WEBHOOK_SECRET", None)
    assert not stripe_gateway.enabled()


def test_the_default_stripe_timeout_is_ten_seconds_with_bounded_retries():
    assert Config.STRIPE_TIMEOUT_SECONDS == 10
    assert 0 < Config.STRIPE_MAX_RETRIES <= 3


# --- against the Stripe-shaped server ------------------------------------------------------


def test_a_session_asks_stripe_for_the_items_in_the_lower_case_currency(stripe):
    session = _create(stripe)
    params = stripe.requests[-1][2]
    assert session.id in stripe.sessions and session.status == "open" and session.url
    assert params["line_items"][0] == {
        "quantity": "2",
        "price_data": {"currency": "usd", "unit_amount": "12500", "product_data": {"name": "Vital (RSB-1)"}},
    }
    assert params["client_reference_id"] == "ORD-1" and params["mode"] == "payment"


@pytest.mark.parametrize(
    ("pay_in", "lifetime"),
    [
        (timedelta(minutes=5), timedelta(minutes=31)),  # Stripe's shortest is 30 minutes
        (timedelta(hours=2), timedelta(hours=2)),
        (timedelta(days=3), timedelta(hours=23)),  # and its longest 24 hours
    ],
)
def test_the_session_expires_when_the_order_must_be_paid_within_stripes_limits(stripe, pay_in, lifetime):
    before = clock.now()
    _create(stripe, pay_by=before + pay_in)
    expires_at = int(stripe.requests[-1][2]["expires_at"])
    assert abs(expires_at - (before + lifetime).timestamp()) <= 2


def test_the_same_idempotency_key_gets_the_same_session(stripe):
    pay_by = clock.now() + timedelta(hours=1)
    first = _create(stripe, pay_by=pay_by)
    second = _create(stripe, pay_by=pay_by)
    assert first.id == second.id and len(stripe.sessions) == 1


def test_an_idempotency_key_reused_with_other_parameters_is_a_conflict(stripe):
    _create(stripe)
    with pytest.raises(IdempotencyConflict):
        _create(stripe, items=[LineItem(name="Other", unit_amount=1, quantity=1)])


def test_one_stripe_error_is_retried_with_the_same_key(stripe):
    stripe.fail_next(500)
    session = _create(stripe)
    assert session.id in stripe.sessions
    assert stripe.idempotency_keys == ["ORD-1-checkout-0", "ORD-1-checkout-0"]


@pytest.mark.parametrize("status", [500, 502, 503, 429, 401, 400])
def test_a_stripe_that_keeps_failing_is_payment_unavailable_after_a_bounded_number_of_tries(stripe, status):
    stripe.fail_next(status, times=5)
    with pytest.raises(PaymentUnavailable) as raised:
        _create(stripe)
    assert "nothing was charged" in raised.value.message
    assert 1 <= len(stripe.calls) <= 2
    assert stripe.sessions == {}


def test_a_slow_stripe_gives_up_after_the_timeout(stripe):
    stripe.delay_next(3, times=2)
    started = time.monotonic()
    with pytest.raises(PaymentUnavailable):
        stripe_gateway.retrieve_checkout_session("cs_test_slow")
    # Two tries of one second each and a short pause, well before the server would answer.
    assert time.monotonic() - started < 3
    stripe.wait_idle()


def test_reading_an_unknown_session_is_payment_unavailable(stripe):
    with pytest.raises(PaymentUnavailable):
        stripe_gateway.retrieve_checkout_session("cs_test_nobody")


def test_expiring_a_session_closes_it_and_a_closed_one_is_reported_not_raised(stripe):
    session = _create(stripe)
    assert stripe_gateway.expire_checkout_session(session.id) is True
    assert stripe.session(session.id)["status"] == "expired"
    assert stripe_gateway.expire_checkout_session(session.id) is False
