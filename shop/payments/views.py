"""Stripe's webhook: signature checked on the raw body, each event applied once."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from shop.access import Policy, protect
from shop.errors import EventRaced, InvalidWebhook, PaymentUnavailable
from shop.extensions import csrf, limiter
from shop.payments.gateway import parse_webhook
from shop.payments.webhook import handle_event

bp = Blueprint("payments", __name__)
protect(bp, Policy.PUBLIC)

MAX_EVENT_BYTES = 512 * 1024


@bp.route("/stripe/webhook", methods=["POST"])
@csrf.exempt
@limiter.exempt
def webhook():
    payload = request.get_data(cache=False)
    if len(payload) > MAX_EVENT_BYTES:
        return jsonify(error="too large"), 400
    try:
        event = parse_webhook(payload, request.headers.get("Stripe-Signature"))
    except InvalidWebhook as error:
        current_app.logger.warning("refused a Stripe webhook: %s", error)
        return jsonify(error="invalid signature"), 400
    try:
        outcome = handle_event(event)
    except EventRaced as error:
        current_app.logger.warning("%s", error)
        return jsonify(error="busy, retry"), 500
    except PaymentUnavailable as error:
        current_app.logger.warning("Stripe event %s could not be checked with Stripe: %s", event["id"], error)
        return jsonify(error="could not ask Stripe, retry"), 503
    current_app.logger.info("Stripe event %s (%s): %s", event["id"], event["type"], outcome)
    return jsonify(received=True, outcome=outcome)
