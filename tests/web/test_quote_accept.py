"""Accepting and declining a quote through the pages: the accept page is a checkout for the
quoted lines, posting it places the order at the quoted prices (on account, or by card through
the Stripe-shaped server and its signed webhook), and every refusal (twice, expired, an older
version, another practice, staff, declined, short of stock, over the credit limit) is a clear
message on a page, never a 500, with nothing changed."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import update

from shop.catalogue.models import Variant
from shop.core import mailer
from shop.core.formatting import money
from shop.extensions import db
from shop.ordering.models import Order, OrderStatus
from shop.quoting import quotes
from shop.quoting.models import Quote, QuoteStatus
from tests.factories import issue, issued_quote, make_clinician, make_staff, make_variant, simple_quote
from tests.helpers import (
    accept_form,
    field_error,
    flashes,
    order_count,
    orders_of,
    post_accept,
    post_event,
    quote_events,
    redirect_path,
    reload,
    stored,
    text,
)
from tests.smtp import text_of

ORDER_PATH = re.compile(r"^/orders/(ORD-\d+)$")


def custom_quote(clinician, staff):
    """Ten boxes at 15 % off and a custom item the catalogue does not have; shipping 9.00."""
    make_variant("VIT-WEB", price_cents=12_500, stock=100)
    custom = "Hyaluronidase 1500 IU, 10 vials"
    return issued_quote(
        clinician,
        staff,
        ("VIT-WEB", 10),
        others=((custom, 2),),
        prices={"VIT-WEB": (None, 1_500), custom: (8_000, 0)},
        shipping_cents=900,
    )


def followed_flashes(browser, response) -> list[tuple[str, str]]:
    """The messages flashed on the page a redirect leads to (not the page's own notices)."""
    assert response.status_code == 303, (response.status_code, text(response)[:500])
    return [
        (kind, message)
        for kind, message in flashes(browser.get(redirect_path(response)))
        if kind in ("error", "success")
    ]


def test_the_accept_page_is_a_checkout_for_the_quoted_lines_and_total(signed_in):
    clinician, staff = make_clinician(on_account=True, credit_limit_cents=5_000_000), make_staff()
    quote = custom_quote(clinician, staff)
    version = quote.latest_sent

    page = signed_in(clinician).get(f"/quotes/{quote.number}/accept")

    assert page.status_code == 200
    shown = text(page)
    assert f"Accept quote {quote.number} (v1)" in shown
    assert "Booster VIT-WEB" in shown and "VIT-WEB" in shown and "Hyaluronidase 1500 IU, 10 vials" in shown
    assert money(106_250) in shown and money(16_000) in shown and money(900) in shown
    assert money(version.tax_cents) in shown and money(version.total_cents) in shown
    assert "Card" in shown and "On account" in shown and f"credit available {money(5_000_000)}" in shown
    assert "Purchase-order number" in shown and "Accept and place the order" in shown
    form = accept_form(signed_in(clinician), quote.number)
    assert form["version"] == "1" and form["expected_total"] == str(version.total_cents)


def test_accepting_on_account_places_the_order_and_shows_it_at_the_quoted_prices(signed_in, mailbox, app):
    clinician, staff = make_clinician(on_account=True), make_staff()
    quote = custom_quote(clinician, staff)
    version = quote.latest_sent
    doctor = signed_in(clinician)
    mailer.deliver_due()
    mailbox.clear()

    response = post_accept(doctor, quote.number, "account", po_number="PO-2207", note="Side door, please.")

    assert response.status_code == 303
    order_number = ORDER_PATH.match(redirect_path(response)).group(1)
    order_page = doctor.get(f"/orders/{order_number}")
    assert ("success", f"Quote {quote.number} accepted: order {order_number} is placed at the quoted prices.") in (
        flashes(order_page)
    )
    shown = text(order_page)
    assert money(10_625) in shown and money(106_250) in shown  # the discounted unit price
    assert "Hyaluronidase 1500 IU, 10 vials" in shown and money(8_000) in shown
    assert money(version.total_cents) in shown and "PO-2207" in shown
    order = reload(Order, order_number)
    assert order.total_cents == version.total_cents and order.status == OrderStatus.PLACED

    quote_page = text(doctor.get(f"/quotes/{quote.number}"))
    assert "Accepted" in quote_page and order_number in quote_page
    assert f'href="/orders/{order_number}"' in doctor.get(f"/quotes/{quote.number}").get_data(as_text=True)
    listing = doctor.get("/quotes").get_data(as_text=True)
    row = re.search(rf"<tr>.*?{quote.number}.*?</tr>", listing, re.S).group(0)
    assert "Accepted" in row

    mailer.deliver_due()
    for desk_address in (app.config["QUOTES_DESK_EMAIL"], app.config["ORDERS_DESK_EMAIL"]):
        [mail] = [m for m in mailbox.to(desk_address) if "accepted" in m["Subject"]]
        assert quote.number in mail["Subject"] and order_number in text_of(mail)
    assert [m for m in mailbox.to(clinician.email) if order_number in m["Subject"]]


def test_price_rises_before_and_after_acceptance_change_neither_the_page_nor_the_order(signed_in):
    setup = simple_quote(sku="VIT-RISE", price_cents=12_500, discount_bps=1_000, quantity=10)
    version = setup.quote.latest_sent
    doctor = signed_in(setup.clinician)
    db.session.execute(update(Variant).values(price_cents=20_000))
    db.session.commit()

    assert money(version.total_cents) in text(doctor.get(f"/quotes/{setup.number}/accept"))
    response = post_accept(doctor, setup.number)
    order_number = ORDER_PATH.match(redirect_path(response)).group(1)

    db.session.execute(update(Variant).values(price_cents=25_000))
    db.session.commit()
    shown = text(doctor.get(f"/orders/{order_number}"))
    assert money(11_250) in shown and money(version.total_cents) in shown
    assert money(20_000) not in shown and money(25_000) not in shown
    assert money(11_250) in text(doctor.get(f"/quotes/{setup.number}"))


def test_accepting_by_card_goes_to_stripe_for_the_quoted_amounts_and_the_webhook_marks_the_order_paid(
    signed_in, client, stripe, mailbox
):
    clinician, staff = make_clinician(on_account=True), make_staff()
    quote = custom_quote(clinician, staff)
    version = quote.latest_sent
    doctor = signed_in(clinician)

    response = post_accept(doctor, quote.number, "card")

    session = stripe.only_session()
    assert response.status_code == 303 and response.headers["Location"] == session["url"]
    items = [
        (i["price_data"]["product_data"]["name"], int(i["price_data"]["unit_amount"]), int(i["quantity"]))
        for i in session["line_items_sent"]
    ]
    assert [(amount, quantity) for _, amount, quantity in items] == [
        (10_625, 10),
        (8_000, 2),
        (900, 1),
        (version.tax_cents, 1),
    ]
    assert "Hyaluronidase" in items[1][0]
    assert session["amount_total"] == version.total_cents
    order = orders_of(clinician.id)[0]
    assert order.status == OrderStatus.AWAITING_PAYMENT
    assert reload(Quote, quote.number).status == QuoteStatus.ACCEPTED
    mailbox.clear()

    reply = post_event(client, stripe, "checkout.session.completed", stripe.pay(session["id"]))

    assert reply.status_code == 200
    order = reload(Order, order.number)
    assert order.status == OrderStatus.PAID and order.total_cents == version.total_cents
    assert "Paid" in text(doctor.get(f"/orders/{order.number}"))
    mailer.deliver_due()
    assert [m for m in mailbox.to(clinician.email) if order.number in m["Subject"] and "Payment" in m["Subject"]]


def test_short_stock_is_refused_with_a_message_and_the_quote_can_still_be_accepted(signed_in, app):
    setup = simple_quote(sku="VIT-SHORT", quantity=10, stock=3)
    doctor = signed_in(setup.clinician)
    form = accept_form(doctor, setup.number)
    before = stored(app.config)

    response = doctor.post(f"/quotes/{setup.number}/accept", {**form, "payment_method": "account"})

    assert redirect_path(response) == f"/quotes/{setup.number}"
    [(kind, message)] = followed_flashes(doctor, response)
    assert kind == "error" and "VIT-SHORT" in message and "only 3" in message and "cart" not in message
    assert stored(app.config) == before
    assert reload(Variant, setup.variants["VIT-SHORT"]).stock_on_hand == 3
    assert "Accept and order" in text(doctor.get(f"/quotes/{setup.number}"))
    db.session.execute(update(Variant).values(stock_on_hand=30))
    db.session.commit()
    assert ORDER_PATH.match(redirect_path(post_accept(doctor, setup.number)))


def test_over_the_credit_limit_the_page_says_so_beside_the_payment_choice_and_nothing_is_placed(signed_in, app):
    clinician = make_clinician(on_account=True, credit_limit_cents=10_000)
    setup = simple_quote(clinician)
    doctor = signed_in(clinician)
    form = accept_form(doctor, setup.number)
    before = stored(app.config)

    response = doctor.post(f"/quotes/{setup.number}/accept", {**form, "payment_method": "account"})

    assert response.status_code == 422
    assert "credit" in field_error(response, "payment_method")
    assert stored(app.config) == before
    assert reload(Quote, setup.number).status == QuoteStatus.SENT


def test_posting_the_accept_form_twice_places_one_order_and_says_it_is_already_accepted(signed_in, app):
    setup = simple_quote()
    doctor = signed_in(setup.clinician)
    form = {**accept_form(doctor, setup.number), "payment_method": "account"}
    first = doctor.post(f"/quotes/{setup.number}/accept", form)
    assert ORDER_PATH.match(redirect_path(first))
    before = stored(app.config)

    second = doctor.post(f"/quotes/{setup.number}/accept", form)

    assert redirect_path(second) == f"/quotes/{setup.number}"
    assert ("error", f"Quote {setup.number} is already accepted.") in flashes(doctor.get(redirect_path(second)))
    assert stored(app.config) == before
    assert order_count() == 1


def test_two_browsers_accepting_at_the_same_moment_get_one_order_and_a_message_never_an_error(signed_in, mailbox, app):
    setup = simple_quote(sku="VIT-TWO", stock=100, quantity=4)
    browsers = [signed_in(setup.clinician) for _ in range(4)]
    forms = [{**accept_form(b, setup.number), "payment_method": "account"} for b in browsers]
    for b in browsers:
        b.csrf = b.csrf_token()
    mailer.deliver_due()
    mailbox.clear()
    start = threading.Barrier(len(browsers))
    url = f"/quotes/{setup.number}/accept"

    def post(pair):
        browser, form = pair
        start.wait(timeout=30)
        return browser.post(url, {**form, "csrf_token": browser.csrf})

    with ThreadPoolExecutor(max_workers=len(browsers)) as pool:
        responses = list(pool.map(post, zip(browsers, forms, strict=True)))

    assert all(r.status_code == 303 for r in responses), [r.status_code for r in responses]
    placed = [r for r in responses if ORDER_PATH.match(redirect_path(r))]
    assert len(placed) == 1
    refused = [r for r in responses if redirect_path(r) == f"/quotes/{setup.number}"]
    assert len(refused) == len(browsers) - 1
    assert order_count() == 1 and len(quote_events(setup.quote.id, "accepted")) == 1
    assert reload(Variant, setup.variants["VIT-TWO"]).stock_on_hand == 96
    mailer.deliver_due()
    for desk_address in (app.config["QUOTES_DESK_EMAIL"], app.config["ORDERS_DESK_EMAIL"]):
        assert len([m for m in mailbox.to(desk_address) if "accepted" in m["Subject"]]) == 1


def test_accepting_v1_after_v2_was_sent_is_refused_and_names_v2(signed_in, app):
    setup = simple_quote(quantity=10, discount_bps=1_000)
    doctor = signed_in(setup.clinician)
    stale = {**accept_form(doctor, setup.number), "payment_method": "account"}
    issue(setup.staff, setup.quote, quantities={"VIT-Q1": 12}, prices={"VIT-Q1": (None, 1_500)})
    before = stored(app.config)

    response = doctor.post(f"/quotes/{setup.number}/accept", stale)

    [(kind, message)] = followed_flashes(doctor, response)
    assert kind == "error" and "v2" in message and "newer version" in message
    assert stored(app.config) == before
    fresh = accept_form(doctor, setup.number)
    assert fresh["version"] == "2"


def test_an_expired_quote_is_refused_on_the_page_at_midnight_in_dublin(signed_in, app):
    # 15 July 2027 ends at 23:00 UTC (midnight, Irish summer time).
    with time_machine.travel(datetime(2027, 7, 10, 9, tzinfo=UTC), tick=False) as clock:
        clinician, staff = make_clinician(on_account=True), make_staff()
        in_time = simple_quote(clinician, staff, sku="VIT-IN", valid_until=date(2027, 7, 15))
        late = simple_quote(clinician, staff, sku="VIT-LATE", valid_until=date(2027, 7, 15))
        clock.move_to(datetime(2027, 7, 15, 22, 59, 58, tzinfo=UTC))
        doctor = signed_in(clinician)
        late_form = {**accept_form(doctor, late.number), "payment_method": "account"}

        clock.move_to(datetime(2027, 7, 15, 22, 59, 59, tzinfo=UTC))
        assert ORDER_PATH.match(redirect_path(post_accept(doctor, in_time.number)))

        clock.move_to(datetime(2027, 7, 15, 23, 0, 0, tzinfo=UTC))
        before = stored(app.config)
        response = doctor.post(f"/quotes/{late.number}/accept", late_form)

        [(kind, message)] = followed_flashes(doctor, response)
        assert kind == "error" and "expired" in message
        assert stored(app.config) == before
        again = doctor.get(f"/quotes/{late.number}/accept")
        assert redirect_path(again) == f"/quotes/{late.number}"


def test_a_clinician_of_another_practice_gets_a_404_on_the_accept_page_and_its_form(signed_in, app):
    setup = simple_quote()
    mine = signed_in(setup.clinician)
    form = {**accept_form(mine, setup.number), "payment_method": "account"}
    stranger = signed_in(make_clinician(on_account=True))
    before = stored(app.config)

    assert stranger.get(f"/quotes/{setup.number}/accept").status_code == 404
    assert stranger.post(f"/quotes/{setup.number}/accept", form).status_code == 404
    assert stranger.post(f"/quotes/{setup.number}/decline", {"reason": "No."}).status_code == 404
    assert stored(app.config) == before


def test_staff_never_reach_the_clinicians_quote_pages(signed_in, app):
    setup = simple_quote()
    form = {**accept_form(signed_in(setup.clinician), setup.number), "payment_method": "account"}
    staff = signed_in(make_staff())
    before = stored(app.config)

    for path in ("/quotes", f"/quotes/{setup.number}", f"/quotes/{setup.number}/accept"):
        assert staff.get(path).status_code == 403, path
    assert staff.post(f"/quotes/{setup.number}/accept", form).status_code == 403
    assert stored(app.config) == before


def test_a_declined_quote_cannot_be_accepted_on_the_page(signed_in, app):
    setup = simple_quote()
    doctor = signed_in(setup.clinician)
    form = {**accept_form(doctor, setup.number), "payment_method": "account"}
    quotes.decline(setup.clinician, reload(Quote, setup.number), "Too expensive.")
    before = stored(app.config)

    [(kind, message)] = followed_flashes(doctor, doctor.get(f"/quotes/{setup.number}/accept"))
    assert kind == "error" and "declined" in message
    [(kind, message)] = followed_flashes(doctor, doctor.post(f"/quotes/{setup.number}/accept", form))
    assert kind == "error" and "declined" in message
    assert stored(app.config) == before


@pytest.mark.parametrize("version", ["abc", "", "0", "-1", "99999999999999999999999", "1.5"])
def test_a_nonsense_version_in_the_form_is_refused_cleanly(signed_in, app, version):
    setup = simple_quote()
    doctor = signed_in(setup.clinician)
    form = {**accept_form(doctor, setup.number), "payment_method": "account", "version": version}
    before = stored(app.config)

    response = doctor.post(f"/quotes/{setup.number}/accept", form)

    assert response.status_code in (303, 422), response.status_code
    assert stored(app.config) == before
    assert reload(Quote, setup.number).status == QuoteStatus.SENT


def test_the_accept_page_of_a_quote_still_with_the_desk_points_back_to_the_quote(signed_in):
    clinician = make_clinician(on_account=True)
    make_variant("VIT-ASK", price_cents=12_500, stock=100)
    quote = quotes.request_quote(clinician, [quotes.RequestedItem(quantity=5, sku="VIT-ASK")])
    doctor = signed_in(clinician)

    response = doctor.get(f"/quotes/{quote.number}/accept")

    [(kind, message)] = followed_flashes(doctor, response)
    assert kind == "error" and "not been sent" in message


# --- declining ------------------------------------------------------------------------------


def test_declining_needs_a_reason_and_without_one_nothing_changes(signed_in, app):
    setup = simple_quote()
    doctor = signed_in(setup.clinician)
    before = stored(app.config)

    response = doctor.post(f"/quotes/{setup.number}/decline", {"reason": "   "})

    [(kind, _message)] = followed_flashes(doctor, response)
    assert kind == "error"
    assert stored(app.config) == before
    assert reload(Quote, setup.number).status == QuoteStatus.SENT


def test_declining_with_a_reason_tells_the_quotes_desk_and_closes_the_quote(signed_in, mailbox, app):
    setup = simple_quote()
    doctor = signed_in(setup.clinician)
    mailer.deliver_due()
    mailbox.clear()

    response = doctor.post(f"/quotes/{setup.number}/decline", {"reason": "We found the boxes cheaper locally."})

    [(kind, _message)] = followed_flashes(doctor, response)
    assert kind == "success"
    quote = reload(Quote, setup.number)
    assert quote.status == QuoteStatus.DECLINED and quote.decline_reason == "We found the boxes cheaper locally."
    [event] = quote_events(quote.id, "declined")
    assert event.actor_id == setup.clinician.id and "cheaper locally" in event.note
    mailer.deliver_due()
    [mail] = mailbox.to(app.config["QUOTES_DESK_EMAIL"])
    assert setup.number in mail["Subject"] and "declined" in mail["Subject"]
    assert "We found the boxes cheaper locally." in text_of(mail)
    page = doctor.get(f"/quotes/{setup.number}")
    shown = text(page)
    assert "Declined" in shown and "We found the boxes cheaper locally." in shown
    assert f"/quotes/{setup.number}/accept" not in page.get_data(as_text=True)
    assert f"/quotes/{setup.number}/decline" not in page.get_data(as_text=True)
    before = stored(app.config)
    again = doctor.post(f"/quotes/{setup.number}/decline", {"reason": "Again."})
    assert followed_flashes(doctor, again)[0][0] == "error"
    assert stored(app.config) == before
