"""The dashboard is the desks' work queue: each line a count of what waits, linking to the list
it counts; empty queues say so; acting on an item takes it off; and the page costs the same
number of statements however much there is."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine

from shop import clock
from shop.accounts import verification
from shop.core import mailer
from shop.ordering import orders
from shop.quoting import quotes
from tests.factories import (
    ask,
    clinician_with_cart,
    issued_quote,
    make_applicant,
    make_clinician,
    make_staff,
    make_variant,
    pdf_bytes,
    place_card_order,
    place_order,
    upload,
)
from tests.helpers import statements_during, text

COUNT = re.compile(r'<span class="stat-number">(\d+)</span>\s*<span class="stat-label">([^<]+)</span>')
LINK = re.compile(
    r'<a class="card stat[^"]*" href="([^"]+)">\s*<span class="stat-number">\d+</span>\s*<span class="stat-label">([^<]+)</span>'
)


def queues(browser) -> dict[str, int]:
    html = browser.get("/staff").get_data(as_text=True)
    return {label: int(count) for count, label in COUNT.findall(html)}


def links(browser) -> dict[str, str]:
    html = browser.get("/staff").get_data(as_text=True)
    return {label: url.replace("&amp;", "&") for url, label in LINK.findall(html)}


@pytest.fixture
def desk(signed_in):
    member = make_staff(email="desk@supplier.example", full_name="Jordan Lee")
    return signed_in(member), member


def test_an_empty_back_office_says_every_queue_is_empty(desk):
    browser, _ = desk
    page = text(browser.get("/staff"))
    assert "Every queue is empty" in page
    counts = queues(browser)
    assert counts and set(counts.values()) == {0}
    assert page.count("Nothing waiting") == len(counts)


def test_each_desk_sees_what_waits_for_it_with_a_link_to_the_list(desk, signed_in):
    browser, member = desk
    # Verification: two to review, one of them with a document sent again; one waiting.
    make_applicant(email="first@clinic.example", full_name="Dr First")
    asked = make_applicant(email="asked@clinic.example", full_name="Dr Asked")
    verification.decide(asked.application.id, member, verification.ApplicationStatus.NEEDS_INFO, "A clearer scan.")
    verification.submit_document(asked, upload(pdf_bytes("Dr Asked", "X-1")), clock.today() + timedelta(days=300), "")
    waiting = make_applicant(email="waiting2@clinic.example", full_name="Dr Waiting Two")
    verification.decide(waiting.application.id, member, verification.ApplicationStatus.NEEDS_INFO, "Your number?")
    # Orders: two to confirm, one to ship.
    make_variant("DSH-1", price_cents=10_000, stock=500)
    first, second, third = (place_order(clinician_with_cart(("DSH-1", 1))) for _ in range(3))
    orders.confirm(third, member)
    # Quotes: a request, a change asked for, one running out tomorrow.
    clinician = make_clinician(on_account=True)
    ask(clinician, ("DSH-1", 5))
    changed = issued_quote(clinician, member, ("DSH-1", 3))
    quotes.request_changes(clinician, changed, "Ten percent off, please.")
    issued_quote(clinician, member, ("DSH-1", 4), valid_until=clock.today() + timedelta(days=1))
    issued_quote(clinician, member, ("DSH-1", 4), valid_until=clock.today() + timedelta(days=20))

    counts = queues(browser)

    assert counts["applications to review"] == 2
    assert counts["document re-uploaded"] == 1
    assert counts["waiting for the clinician"] == 1
    assert counts["orders to confirm"] == 2
    assert counts["order to ship"] == 1
    assert counts["quote request to answer"] == 1
    assert counts["change requested by a clinician"] == 1
    assert counts["quote expiring in the next two days"] == 1
    assert counts["emails not yet delivered"] > 0

    urls = links(browser)
    assert "Dr Asked" in text(browser.get(urls["document re-uploaded"]))
    assert "Dr First" not in text(browser.get(urls["document re-uploaded"]))
    to_confirm = text(browser.get(urls["orders to confirm"]))
    assert first.number in to_confirm and second.number in to_confirm and third.number not in to_confirm
    assert third.number in text(browser.get(urls["order to ship"]))
    assert changed.number in text(browser.get(urls["change requested by a clinician"]))
    expiring = text(browser.get(urls["quote expiring in the next two days"]))
    assert expiring.count("Q-") == 1


def test_card_orders_unpaid_for_more_than_a_day_are_a_queue(desk, signed_in):
    browser, _ = desk
    with time_machine.travel(clock.now() - timedelta(days=1, hours=1), tick=False):
        old = place_card_order(signed_in)
    place_card_order(signed_in)
    counts = queues(browser)
    assert counts["card order unpaid for over a day"] == 1
    assert old.number in text(browser.get(links(browser)["card order unpaid for over a day"]))


def test_acting_on_an_order_takes_it_off_the_queue(desk):
    browser, member = desk
    make_variant("DSH-1", price_cents=10_000, stock=500)
    order = place_order(clinician_with_cart(("DSH-1", 1)))
    assert queues(browser)["order to confirm"] == 1

    browser.post(f"/staff/orders/{order.number}/confirm")

    counts = queues(browser)
    assert counts["orders to confirm"] == 0 and counts["order to ship"] == 1


def test_the_dashboard_costs_the_same_number_of_statements_however_much_waits(desk):
    browser, member = desk
    browser.get("/staff")
    few = statements_during(lambda: browser.get("/staff"))
    make_variant("DSH-1", price_cents=10_000, stock=500)
    for n in range(6):
        order = place_order(clinician_with_cart(("DSH-1", 1)))
        if n % 2:
            orders.confirm(order, member)
        make_applicant(email=f"a{n}@clinic.example")
    mailer.deliver_due()
    many = statements_during(lambda: browser.get("/staff"))
    assert many == few


def test_an_empty_queue_list_says_so(desk):
    browser, _ = desk
    assert "the queue is empty" in text(browser.get("/staff/orders?queue=to_ship"))
    assert browser.get("/staff/orders?queue=nonsense").status_code == 200
    assert browser.get("/staff/quotes?queue=expiring").status_code == 200
    assert browser.get("/staff/applications?status=reuploaded").status_code == 200


def test_clinicians_never_see_the_dashboard(signed_in):
    assert signed_in(make_clinician()).get("/staff").status_code == 403
