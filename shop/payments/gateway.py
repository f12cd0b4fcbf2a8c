"""The only module that talks to Stripe.

It creates and reads Checkout Sessions and checks webhook signatures, through the official SDK
with a 10-second timeout and a bounded number of retries. Any Stripe failure becomes
PaymentUnavailable, which the caller shows as "try again"; nothing here changes the database.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import stripe
from flask import current_app

from shop import clock
from shop.errors import IdempotencyConflict, InvalidWebhook, PaymentUnavailable

# Stripe accepts a Checkout Session lifetime between 30 minutes and 24 hours.
MIN_SESSION_LIFETIME = timedelta(minutes=31)
MAX_SESSION_LIFETIME = timedelta(hours=23)
SIGNATURE_TOLERANCE_SECONDS = 300


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str | None
    status: str  # open, complete, expired
    payment_status: str  # paid, unpaid, no_payment_required
    amount_total: int | None
    currency: str | None
    client_reference_id: str | None
    payment_intent: str | None
    order_number: str | None = None  # from the metadata the shop set when it made the session

    @classmethod
    def from_stripe(cls, data) -> CheckoutSession:
        """From an SDK Session object or the plain dict inside a webhook event."""
        if not isinstance(data, dict):
            data = data.to_dict()
        intent = data.get("payment_intent")
        if isinstance(intent, dict):
            intent = intent.get("id")
        amount = data.get("amount_total")
        metadata = data.get("metadata")
        # A field of an unexpected type reads as missing, so it can never match an order.
        return cls(
            id=data["id"],
            url=_text(data.get("url")),
            status=_text(data.get("status")) or "",
            payment_status=_text(data.get("payment_status")) or "",
            amount_total=amount if isinstance(amount, int) and not isinstance(amount, bool) else None,
            currency=(_text(data.get("currency")) or "").lower() or None,
            client_reference_id=_text(data.get("client_reference_id")),
            payment_intent=_text(intent),
            order_number=_text(metadata.get("order_number")) if isinstance(metadata, dict) else None,
        )

    @property
    def is_paid(self) -> bool:
        return self.status == "complete" and self.payment_status in ("paid", "no_payment_required")


def _text(value) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class LineItem:
    name: str
    unit_amount: int
    quantity: int


def enabled() -> bool:
    """Card payment is offered only when both Stripe keys are configured."""
    config = current_app.config
    return bool(config.get("STRIPE_SECRET_KEY") and config.get("STRIPE_WEBHOOK_SECRET"))


def _client() -> stripe.StripeClient:
    config = current_app.config
    base = config.get("STRIPE_API_BASE")
    return stripe.StripeClient(
        config["STRIPE_SECRET_KEY"],
        base_addresses={"api": base.rstrip("/")} if base else None,
        http_client=stripe.RequestsClient(timeout=config["STRIPE_TIMEOUT_SECONDS"]),
        max_network_retries=config["STRIPE_MAX_RETRIES"],
    )


UNAVAILABLE = "Card payment is not available at the moment, and nothing was charged. Please try again in a few minutes."


def _unavailable(error: stripe.StripeError) -> PaymentUnavailable:
    current_app.logger.warning("Stripe request failed: %s", error)
    return PaymentUnavailable(UNAVAILABLE)


def create_checkout_session(
    *,
    reference: str,
    currency: str,
    items: list[LineItem],
    customer_email: str,
    success_url: str,
    cancel_url: str,
    pay_by: datetime,
    idempotency_key: str,
) -> CheckoutSession:
    """A hosted Checkout Session for one order; the same idempotency key returns the same session."""
    now = clock.now()
    expires_at = min(max(pay_by, now + MIN_SESSION_LIFETIME), now + MAX_SESSION_LIFETIME)
    params = {
        "mode": "payment",
        "client_reference_id": reference,
        "customer_email": customer_email,
        "metadata": {"order_number": reference},
        "payment_intent_data": {"metadata": {"order_number": reference}},
        "line_items": [
            {
                "quantity": item.quantity,
                "price_data": {
                    "currency": currency.lower(),
                    "unit_amount": item.unit_amount,
                    "product_data": {"name": item.name},
                },
            }
            for item in items
        ],
        "success_url": success_url,
        "cancel_url": cancel_url,
        "expires_at": int(expires_at.timestamp()),
    }
    try:
        session = _client().v1.checkout.sessions.create(params=params, options={"idempotency_key": idempotency_key})
    except stripe.IdempotencyError as error:
        current_app.logger.info("Stripe idempotency key %s was used with other parameters", idempotency_key)
        raise IdempotencyConflict(UNAVAILABLE) from error
    except stripe.StripeError as error:
        raise _unavailable(error) from error
    return CheckoutSession.from_stripe(session)


def retrieve_checkout_session(session_id: str) -> CheckoutSession:
    try:
        return CheckoutSession.from_stripe(_client().v1.checkout.sessions.retrieve(session_id))
    except stripe.StripeError as error:
        raise _unavailable(error) from error


def expire_checkout_session(session_id: str) -> bool:
    """Close an open session so it can no longer be paid; False if Stripe could not do it."""
    try:
        _client().v1.checkout.sessions.expire(session_id)
    except stripe.StripeError as error:
        current_app.logger.info("could not expire Stripe session %s: %s", session_id, error)
        return False
    return True


def parse_webhook(payload: bytes, signature_header: str | None) -> dict:
    """The event in a webhook body, after checking Stripe's signature on the raw bytes."""
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    if not secret or not signature_header:
        raise InvalidWebhook("missing signature or secret")
    # Stripe's check refuses signatures older than the tolerance; one dated ahead of it is no
    # more Stripe's than an old one.
    signed_at = _signed_at(signature_header)
    if signed_at is not None and signed_at > time.time() + SIGNATURE_TOLERANCE_SECONDS:
        raise InvalidWebhook("signed in the future")
    try:
        text = payload.decode("utf-8")
        stripe.WebhookSignature.verify_header(text, signature_header, secret, SIGNATURE_TOLERANCE_SECONDS)
        event = json.loads(text)
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError, IndexError) as error:
        raise InvalidWebhook(str(error)) from error
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str):
        raise InvalidWebhook("not an event")
    return event


def _signed_at(signature_header: str) -> int | None:
    for part in signature_header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isascii() and value.isdigit():
            return int(value)
    return None


def session_in_event(event: dict) -> CheckoutSession | None:
    """The Checkout Session a checkout.session.* event carries, or None."""
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict) or obj.get("object") != "checkout.session" or not isinstance(obj.get("id"), str):
        return None
    return CheckoutSession.from_stripe(obj)
