"""The clinician's quote page (/quotes/<number>) and list (/quotes): accepting, asking for
changes and declining are offered only on the current, unexpired sent version; an accepted
quote links to its order; an expired one says so (whether or not `expire-quotes` ran); earlier
versions stay readable with a pointer to the current one."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import time_machine

from shop.core.formatting import money
from shop.quoting import builder as quote_builder
from shop.quoting import quotes
from shop.quoting.models import Quote, QuoteStatus
from tests.factories import issue, make_clinician, make_product, make_staff, make_variant, simple_quote
from tests.helpers import post_accept, redirect_path, reload, text

ACCEPT_BUTTON = "Accept and order"


def page_of(browser, number: str, **query):
    response = browser.get(f"/quotes/{number}", query_string=query)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True), text(response)


def offers(html: str, number: str) -> dict[str, bool]:
    """Which decisions the page offers: links and forms to accept, ask for changes, decline."""
    return {
        "accept": f'href="/quotes/{number}/accept"' in html,
        "changes": f'action="/quotes/{number}/changes"' in html,
        "decline": f'action="/quotes/{number}/decline"' in html,
    }


def badge(html: str) -> str:
    match = re.search(r'<div class="page-head">.*?<span class="badge[^"]*">([^<]+)</span>', html, re.S)
    return match.group(1).strip() if match else ""


def list_row(browser, number: str) -> str:
    listing = browser.get("/quotes").get_data(as_text=True)
    row = re.search(rf"<tr>(?:(?!</tr>).)*?{number}.*?</tr>", listing, re.S)
    assert row, f"{number} is not listed"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row.group(0)))


def test_a_sent_quote_offers_accepting_asking_for_changes_and_declining(signed_in):
    setup = simple_quote(quantity=10, discount_bps=1_000, valid_until=None)
    version = setup.quote.latest_sent
    doctor = signed_in(setup.clinician)

    html, shown = page_of(doctor, setup.number)

    assert badge(html) == "Sent"
    assert offers(html, setup.number) == {"accept": True, "changes": True, "decline": True}
    assert ACCEPT_BUTTON in shown and "Your decision" in shown
    assert f"Valid until the end of {version.valid_until.strftime('%d %b %Y')}" in shown
    assert money(11_250) in shown and money(version.total_cents) in shown
    assert "Sent" in list_row(doctor, setup.number) and money(version.total_cents) in list_row(doctor, setup.number)


def test_an_accepted_quote_links_to_its_order_and_offers_no_more_decisions(signed_in):
    setup = simple_quote()
    doctor = signed_in(setup.clinician)
    order_path = redirect_path(post_accept(doctor, setup.number))

    html, shown = page_of(doctor, setup.number)

    assert badge(html) == "Accepted"
    assert offers(html, setup.number) == {"accept": False, "changes": False, "decline": False}
    order_number = order_path.rsplit("/", 1)[1]
    assert f'href="{order_path}"' in html and f"it became order {order_number}" in shown
    assert "Accepted" in list_row(doctor, setup.number)


def test_a_quote_past_its_validity_shows_as_expired_without_the_expiry_run(signed_in):
    with time_machine.travel(datetime(2027, 7, 10, 9, tzinfo=UTC), tick=False) as clock:
        setup = simple_quote(valid_until=date(2027, 7, 15))
        clock.move_to(datetime(2027, 7, 15, 23, 0, 0, tzinfo=UTC))  # midnight in Dublin
        doctor = signed_in(setup.clinician)

        html, shown = page_of(doctor, setup.number)

        assert reload(Quote, setup.number).status == QuoteStatus.SENT  # nobody ran expire-quotes
        assert badge(html) == "Expired"
        assert offers(html, setup.number) == {"accept": False, "changes": False, "decline": False}
        assert "expired at the end of 15 Jul 2027" in shown
        assert "Expired" in list_row(doctor, setup.number) and "Sent" not in list_row(doctor, setup.number)


def test_one_second_before_midnight_the_quote_is_still_open_on_the_page(signed_in):
    with time_machine.travel(datetime(2027, 7, 10, 9, tzinfo=UTC), tick=False) as clock:
        setup = simple_quote(valid_until=date(2027, 7, 15))
        clock.move_to(datetime(2027, 7, 15, 22, 59, 59, tzinfo=UTC))
        doctor = signed_in(setup.clinician)

        html, _ = page_of(doctor, setup.number)

        assert badge(html) == "Sent" and offers(html, setup.number)["accept"]
        assert "Sent" in list_row(doctor, setup.number)


def test_a_quote_marked_expired_by_the_run_says_so_too(signed_in, cli):
    with time_machine.travel(datetime(2027, 7, 10, 9, tzinfo=UTC), tick=False) as clock:
        setup = simple_quote(valid_until=date(2027, 7, 15))
        clock.move_to(datetime(2027, 7, 17, 9, tzinfo=UTC))
        cli("expire-quotes")
        doctor = signed_in(setup.clinician)

        html, shown = page_of(doctor, setup.number)

        assert reload(Quote, setup.number).status == QuoteStatus.EXPIRED
        assert badge(html) == "Expired" and not offers(html, setup.number)["accept"]
        assert "Expired" in shown and "the shop" in shown  # the history says the shop expired it


def test_with_two_versions_the_current_one_is_offered_and_the_earlier_one_stays_readable(signed_in):
    setup = simple_quote(quantity=10, discount_bps=1_000)
    v2 = issue(setup.staff, setup.quote, quantities={"VIT-Q1": 20}, prices={"VIT-Q1": (None, 2_000)})
    doctor = signed_in(setup.clinician)

    html, shown = page_of(doctor, setup.number)
    assert "Quote " + setup.number + " (v2)" in shown
    assert money(10_000) in shown and money(v2.total_cents) in shown
    assert offers(html, setup.number) == {"accept": True, "changes": True, "decline": True}
    assert f'href="/quotes/{setup.number}?version=1"' in html

    old_html, old_shown = page_of(doctor, setup.number, version=1)
    assert "Quote " + setup.number + " (v1)" in old_shown and money(11_250) in old_shown
    assert "an earlier version" in old_shown and "See the current one (v2)" in old_shown
    assert offers(old_html, setup.number) == {"accept": False, "changes": False, "decline": False}

    row = list_row(doctor, setup.number)
    assert "v2" in row and money(v2.total_cents) in row


def test_a_quote_with_changes_requested_waits_for_the_revision(signed_in):
    setup = simple_quote()
    quotes.request_changes(setup.clinician, reload(Quote, setup.number), "Could you quote 20 boxes?")
    doctor = signed_in(setup.clinician)

    html, shown = page_of(doctor, setup.number)

    assert badge(html) == "Changes requested"
    assert offers(html, setup.number) == {"accept": False, "changes": False, "decline": False}
    assert "the quotes desk will send a revised version" in shown
    assert "Could you quote 20 boxes?" in shown


def test_a_declined_quote_shows_the_reason_and_no_decisions(signed_in):
    setup = simple_quote()
    quotes.decline(setup.clinician, reload(Quote, setup.number), "Our budget moved to next quarter.")
    doctor = signed_in(setup.clinician)

    html, shown = page_of(doctor, setup.number)

    assert badge(html) == "Declined"
    assert offers(html, setup.number) == {"accept": False, "changes": False, "decline": False}
    assert "Our budget moved to next quarter." in shown
    assert "Declined" in list_row(doctor, setup.number)


def test_a_request_still_with_the_desk_offers_nothing_to_accept(signed_in):
    clinician = make_clinician(on_account=True)
    make_variant("VIT-REQ", price_cents=12_500, stock=100)
    quote = quotes.request_quote(clinician, [quotes.RequestedItem(quantity=6, sku="VIT-REQ")])
    doctor = signed_in(clinician)

    html, shown = page_of(doctor, quote.number)

    assert badge(html) == "Requested"
    assert offers(html, quote.number) == {"accept": False, "changes": False, "decline": False}
    assert "With the quotes desk" in shown and "6 × Booster VIT-REQ" in shown


def test_another_practices_quote_is_a_404_and_staff_are_refused(signed_in):
    setup = simple_quote()
    stranger = signed_in(make_clinician(on_account=True))
    staff = signed_in(make_staff())

    assert stranger.get(f"/quotes/{setup.number}").status_code == 404
    assert stranger.get(f"/quotes/{setup.number}", query_string={"version": 1}).status_code == 404
    assert setup.number not in stranger.get("/quotes").get_data(as_text=True)
    assert staff.get(f"/quotes/{setup.number}").status_code == 403


def test_the_cart_offers_to_ask_for_a_quote_instead(signed_in):
    clinician = make_clinician(on_account=True)
    product = make_product(sku="ASK-Q1")
    browser = signed_in(clinician)
    browser.post("/cart/add", {"sku": product.variants[0].sku, "quantity": "3"})
    page = browser.get("/cart").get_data(as_text=True)
    assert 'href="/quotes/new?from=cart"' in page
    form = browser.get("/quotes/new?from=cart").get_data(as_text=True)
    assert 'value="ASK-Q1"' in form


def test_a_quote_the_desk_started_does_not_claim_the_clinician_asked_for_it(signed_in):
    clinician = make_clinician(on_account=True)
    quote = quote_builder.start_quote(make_staff(), clinician)
    page = signed_in(clinician).get(f"/quotes/{quote.number}")
    assert "The quotes desk started this quote for you" in text(page)
    assert "You asked for this quote" not in text(page)
