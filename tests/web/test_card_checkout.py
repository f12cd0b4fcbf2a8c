"""Checkout by card: the Checkout Session the shop asks Stripe for, the way back from Stripe,
and what the clinician sees when Stripe fails or is slow (never a 500, the order kept, a way
to pay again)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shop.catalogue.models import Variant
from shop.extensions import db
from shop.ordering.models import Order, OrderStatus
from tests.factories import CARD_PRICE, CARD_STOCK, make_clinician, make_product, make_variant, place_card_order
from tests.helpers import flashes, order_events, post_checkout, post_event, redirect_path, reload, text
from tests.smtp import text_of

SESSIONS = "/v1/checkout/sessions"


def placed_stock(product) -> int:
    db.session.rollback()
    db.session.expire_all()
    return product.variants[0].stock_on_hand


def _created(stripe) -> list[dict]:
    return [params for method, path, params in stripe.requests if method == "POST" and path == SESSIONS]


def test_checkout_by_card_asks_stripe_for_a_session_listing_every_line_shipping_and_tax(signed_in, stripe):
    boost_variant = make_variant(name="Vital Booster", price_cents=12_500, stock=30, breaks=((3, 11_990),))
    meso = make_variant(name="Meso Cocktail", price_cents=3_333, stock=30)
    clinician = make_clinician()
    browser = signed_in(clinician)
    browser.post("/cart/add", {"sku": boost_variant.sku, "quantity": "3"})
    browser.post("/cart/add", {"sku": meso.sku, "quantity": "1"})

    response = post_checkout(browser, "card")

    order = db.session.scalar(select(Order).where(Order.placed_by_id == clinician.id))
    session = stripe.only_session()
    assert response.status_code == 303 and response.headers["Location"] == session["url"]
    assert order.status == OrderStatus.AWAITING_PAYMENT and order.stripe_session_id == session["id"]
    params = _created(stripe)[0]
    assert params["client_reference_id"] == order.number
    assert params["metadata"]["order_number"] == order.number
    assert params["customer_email"] == clinician.email
    assert params["success_url"].endswith(f"/orders/{order.number}/return?session_id={{CHECKOUT_SESSION_ID}}")
    items = [
        (i["price_data"]["product_data"]["name"], int(i["price_data"]["unit_amount"]), int(i["quantity"]))
        for i in params["line_items"]
    ]
    assert {i["price_data"]["currency"] for i in params["line_items"]} == {"usd"}
    # 3 boxes at the volume price, 1 box, then shipping (under the free-shipping threshold) and tax.
    assert order.shipping_cents == 1500 and order.tax_cents > 0
    assert len(items) == 4
    assert boost_variant.sku in items[0][0] and items[0][1:] == (11_990, 3)
    assert meso.sku in items[1][0] and items[1][1:] == (3_333, 1)
    assert items[2] == ("Shipping", 1500, 1)
    assert items[3][0].startswith("Tax") and items[3][1:] == (order.tax_cents, 1)
    assert sum(amount * quantity for _, amount, quantity in items) == order.total_cents
    assert session["amount_total"] == order.total_cents
    # The idempotency key is derived from the order, so a retry cannot create a second session.
    assert stripe.idempotency_keys == [f"{order.number}-checkout-0"]


def test_free_shipping_sends_no_shipping_line_to_stripe(signed_in, stripe):
    placed = place_card_order(signed_in, quantity=5, price=12_000)  # above the free-shipping threshold
    order = placed.order
    names = [i["price_data"]["product_data"]["name"] for i in _created(stripe)[0]["line_items"]]
    assert order.shipping_cents == 0 and "Shipping" not in names
    assert stripe.only_session()["amount_total"] == order.total_cents


@pytest.mark.parametrize("missing", ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"])
def test_card_is_offered_only_when_both_stripe_keys_are_set(signed_in, stripe, app, monkeypatch, missing):
    product = make_product(stock=CARD_STOCK)
    browser = signed_in(make_clinician())
    browser.post("/cart/add", {"sku": product.variants[0].sku, "quantity": "1"})
    assert 'value="card"' in browser.get("/checkout").get_data(as_text=True)

    monkeypatch.setitem(app.config, missing, None)
    page = browser.get("/checkout").get_data(as_text=True)
    assert 'value="card"' not in page
    refused = post_checkout(browser, "card")

    assert refused.status_code == 422
    assert db.session.scalar(select(Order.id)) is None
    assert stripe.calls == []
    assert placed_stock(product) == CARD_STOCK


def test_pay_now_on_an_open_session_sends_the_clinician_back_to_the_same_page(signed_in, stripe):
    placed = place_card_order(signed_in)
    again = placed.browser.post(f"/orders/{placed.number}/pay")
    assert again.status_code == 303 and again.headers["Location"] == placed.response.headers["Location"]
    assert len(stripe.sessions) == 1 and len(_created(stripe)) == 1


def _shows_retry(browser, number: str) -> str:
    page = text(browser.get(f"/orders/{number}"))
    assert "Card payment is not available at the moment" in page
    assert "Pay now" in page
    return page


def test_a_stripe_error_at_checkout_keeps_the_order_reserved_and_pay_now_works_once_stripe_is_back(signed_in, stripe):
    stripe.fail_next(500, times=2)  # the first call and the SDK's one retry

    placed = place_card_order(signed_in)

    assert placed.response.status_code == 303
    assert redirect_path(placed.response) == f"/orders/{placed.number}"
    order = placed.order
    assert order.status == OrderStatus.AWAITING_PAYMENT and order.stripe_session_id is None
    assert placed.stock() == CARD_STOCK - 2  # still reserved for this clinician
    assert stripe.sessions == {}
    detail = placed.browser.get(f"/orders/{placed.number}")
    assert any("is reserved for you" in message for _, message in flashes(detail))
    _shows_retry(placed.browser, placed.number)
    assert len(order_events(placed.number, "payment_unavailable")) == 1

    stripe.fail_next(500, times=2)  # still down: the same answer, still no error page
    still_down = placed.browser.post(f"/orders/{placed.number}/pay")
    assert still_down.status_code == 303 and redirect_path(still_down) == f"/orders/{placed.number}"
    _shows_retry(placed.browser, placed.number)

    back = placed.browser.post(f"/orders/{placed.number}/pay")

    session = stripe.only_session()
    assert back.status_code == 303 and back.headers["Location"] == session["url"]
    assert session["client_reference_id"] == placed.number
    assert placed.order.stripe_session_id == session["id"] and placed.order.payment_error == ""
    # Every try, failed or not, carried the same key.
    assert stripe.idempotency_keys == [f"{placed.number}-checkout-0"] * 5
    assert "Card payment is not available" not in text(placed.browser.get(f"/orders/{placed.number}"))


def test_a_stripe_timeout_at_checkout_keeps_the_order_and_the_retry_gets_the_session_stripe_made_meanwhile(
    signed_in, stripe
):
    # Longer than STRIPE_TIMEOUT_SECONDS (1 s in the tests), for the call and its retry; Stripe
    # still creates the session once it gets round to the request, as the real one does.
    stripe.delay_next(1.5, times=2)

    placed = place_card_order(signed_in)

    assert placed.response.status_code == 303
    assert redirect_path(placed.response) == f"/orders/{placed.number}"
    assert placed.order.status == OrderStatus.AWAITING_PAYMENT
    assert placed.stock() == CARD_STOCK - 2
    _shows_retry(placed.browser, placed.number)
    stripe.wait_idle()
    made_meanwhile = stripe.only_session()

    retry = placed.browser.post(f"/orders/{placed.number}/pay")

    assert retry.status_code == 303 and retry.headers["Location"] == made_meanwhile["url"]
    assert len(stripe.sessions) == 1
    assert set(stripe.idempotency_keys) == {f"{placed.number}-checkout-0"}
    assert list(stripe.idempotent) == [f"{placed.number}-checkout-0"]
    assert placed.order.stripe_session_id == made_meanwhile["id"]


def test_a_timed_out_attempt_retried_once_its_session_lifetime_changed_gets_a_fresh_session(
    signed_in, stripe, app, monkeypatch
):
    # With a short time to pay, the session lifetime is Stripe's minimum counted from now, so
    # the retry's parameters differ from the timed-out request's, which Stripe refuses to replay.
    monkeypatch.setitem(app.config, "ORDER_PAYMENT_MINUTES", 5)
    stripe.delay_next(1.5, times=2)
    placed = place_card_order(signed_in)
    stripe.wait_idle()
    orphan = stripe.only_session()

    retry = placed.browser.post(f"/orders/{placed.number}/pay")

    assert retry.status_code == 303
    fresh = placed.order.stripe_session_id
    assert fresh and fresh != orphan["id"] and retry.headers["Location"] == stripe.session(fresh)["url"]
    assert stripe.idempotency_keys[-1] == f"{placed.number}-checkout-1"


def test_returning_from_stripe_before_the_webhook_marks_the_order_paid_from_the_session(
    signed_in, stripe, client, mailbox
):
    from shop.core.mailer import deliver_due

    placed = place_card_order(signed_in)
    session = stripe.pay(placed.order.stripe_session_id)

    back = placed.browser.get(f"/orders/{placed.number}/return?session_id={session['id']}")

    assert back.status_code == 302 and redirect_path(back) == f"/orders/{placed.number}"
    order = placed.order
    assert order.status == OrderStatus.PAID and order.paid_at is not None
    assert order.stripe_payment_intent == session["payment_intent"]
    page = placed.browser.get(f"/orders/{placed.number}")
    assert ("success", f"Thank you. Order {placed.number} is paid.") in flashes(page)
    assert ("GET", f"{SESSIONS}/{session['id']}", {}) in stripe.requests

    # Stripe's webhook arrives afterwards: nothing more happens.
    assert post_event(client, stripe, "checkout.session.completed", session).status_code == 200
    assert len(order_events(placed.number, "paid")) == 1
    deliver_due()
    received = [m for m in mailbox.to(placed.clinician.email) if m["Subject"].startswith("Payment received")]
    assert len(received) == 1 and placed.number in text_of(received[0])


def test_returning_before_stripe_has_the_money_leaves_the_order_awaiting_payment(signed_in, stripe):
    placed = place_card_order(signed_in)
    session_id = placed.order.stripe_session_id

    placed.browser.get(f"/orders/{placed.number}/return?session_id={session_id}")

    assert placed.order.status == OrderStatus.AWAITING_PAYMENT
    assert "Pay now" in text(placed.browser.get(f"/orders/{placed.number}"))


def test_returning_with_someone_elses_or_a_made_up_session_id_changes_nothing(signed_in, stripe):
    mine = place_card_order(signed_in)
    theirs = place_card_order(signed_in)
    paid = stripe.pay(theirs.order.stripe_session_id)  # another practice's paid session
    reads_before = len(stripe.requests)

    for session_id in (paid["id"], "cs_test_made_up", "", "{CHECKOUT_SESSION_ID}"):
        back = mine.browser.get(f"/orders/{mine.number}/return?session_id={session_id}")
        assert back.status_code == 302

    assert mine.order.status == OrderStatus.AWAITING_PAYMENT and mine.order.paid_at is None
    assert theirs.order.status == OrderStatus.AWAITING_PAYMENT  # their own return or webhook will do it
    assert len(stripe.requests) == reads_before  # nobody else's session is even looked up
    assert mine.browser.get(f"/orders/{theirs.number}/return?session_id={paid['id']}").status_code == 404
    assert theirs.order.status == OrderStatus.AWAITING_PAYMENT


@pytest.mark.parametrize("fault", ["error", "timeout"])
def test_a_stripe_failure_when_reading_the_session_on_return_shows_a_clear_message(signed_in, stripe, client, fault):
    placed = place_card_order(signed_in)
    session = stripe.pay(placed.order.stripe_session_id)
    if fault == "error":
        stripe.fail_next(503, times=2)
    else:
        stripe.delay_next(1.5, times=2)

    back = placed.browser.get(f"/orders/{placed.number}/return?session_id={session['id']}")

    assert back.status_code == 302 and redirect_path(back) == f"/orders/{placed.number}"
    page = placed.browser.get(f"/orders/{placed.number}")
    assert page.status_code == 200
    assert (
        "info",
        "We could not confirm your payment with Stripe yet; this page will show it as soon as Stripe tells us.",
    ) in flashes(page)
    assert placed.order.status == OrderStatus.AWAITING_PAYMENT
    stripe.wait_idle()

    assert post_event(client, stripe, "checkout.session.completed", session).status_code == 200
    assert placed.order.status == OrderStatus.PAID


@pytest.mark.parametrize(
    ("amount_change", "currency"), [(-100, None), (0, "eur")], ids=["amount differs", "currency differs"]
)
def test_a_return_whose_payment_does_not_match_the_order_holds_it_and_alerts_the_desk(
    signed_in, stripe, app, mailbox, amount_change, currency
):
    from shop.core.mailer import deliver_due

    placed = place_card_order(signed_in)
    total = placed.order.total_cents
    session = stripe.pay(placed.order.stripe_session_id, amount=total + amount_change, currency=currency)

    placed.browser.get(f"/orders/{placed.number}/return?session_id={session['id']}")

    order = placed.order
    assert order.status == OrderStatus.ON_HOLD
    assert session["id"] in order.hold_reason and str(total) in order.hold_reason
    assert order_events(placed.number, "paid") == []
    deliver_due()
    alerts = [m for m in mailbox.to(app.config["ORDERS_DESK_EMAIL"]) if "NEEDS ATTENTION" in m["Subject"]]
    assert len(alerts) == 1 and placed.number in alerts[0]["Subject"]
    assert not any(m["Subject"].startswith("Payment received") for m in mailbox.to(placed.clinician.email))


def test_pay_now_while_the_bank_confirms_the_payment_does_not_start_another(signed_in, stripe, client):
    placed = place_card_order(signed_in)
    pending = stripe.pay(placed.order.stripe_session_id, pending=True)
    post_event(client, stripe, "checkout.session.completed", pending)

    again = placed.browser.post(f"/orders/{placed.number}/pay")

    assert again.status_code == 303 and redirect_path(again) == f"/orders/{placed.number}"
    page = placed.browser.get(f"/orders/{placed.number}")
    assert any("still confirming the payment" in message for _, message in flashes(page))
    assert not any("already paid" in message for _, message in flashes(page))
    assert len(stripe.sessions) == 1
    assert placed.order.status == OrderStatus.AWAITING_PAYMENT
    assert len(order_events(placed.number, "payment_pending")) == 1


def test_pay_now_after_the_bank_refused_the_payment_starts_a_new_session_that_can_be_paid(signed_in, stripe, client):
    placed = place_card_order(signed_in)
    first = placed.order.stripe_session_id
    post_event(client, stripe, "checkout.session.completed", stripe.pay(first, pending=True))
    post_event(client, stripe, "checkout.session.async_payment_failed", stripe.settle_async(first, succeeded=False))
    assert "Your bank did not confirm the payment" in text(placed.browser.get(f"/orders/{placed.number}"))

    again = placed.browser.post(f"/orders/{placed.number}/pay")

    second = placed.order.stripe_session_id
    assert second != first and again.headers["Location"] == stripe.session(second)["url"]
    assert stripe.idempotency_keys[-1] == f"{placed.number}-checkout-1"
    assert placed.order.payment_error == ""
    post_event(client, stripe, "checkout.session.completed", stripe.pay(second))
    assert placed.order.status == OrderStatus.PAID


def test_pay_now_on_a_paid_order_starts_no_session(signed_in, stripe, client):
    placed = place_card_order(signed_in)
    post_event(client, stripe, "checkout.session.completed", stripe.pay(placed.order.stripe_session_id))
    calls = len(stripe.calls)

    again = placed.browser.post(f"/orders/{placed.number}/pay")

    assert again.status_code == 303 and redirect_path(again) == f"/orders/{placed.number}"
    assert len(stripe.calls) == calls
    assert reload(Order, placed.number).status == OrderStatus.PAID
    assert "Pay now" not in text(placed.browser.get(f"/orders/{placed.number}"))


def test_a_new_session_after_the_first_expired_charges_the_order_total_not_todays_catalogue_price(signed_in, stripe):
    placed = place_card_order(signed_in, quantity=1, price=CARD_PRICE)
    total = placed.order.total_cents
    variant = db.session.get(Variant, placed.variant_id)
    variant.price_cents = CARD_PRICE * 2
    db.session.commit()
    stripe.expire(placed.order.stripe_session_id)

    again = placed.browser.post(f"/orders/{placed.number}/pay")

    session = stripe.session(placed.order.stripe_session_id)
    assert again.headers["Location"] == session["url"] and len(stripe.sessions) == 2
    assert stripe.idempotency_keys[-1] == f"{placed.number}-checkout-1"
    assert session["amount_total"] == total
