"""The quotes desk at /staff/quotes: its queues and search, a quote started for a practice that
called, and the builder (lines by SKU or described, quantities, prices, discounts, shipping,
validity, terms and note; saving, sending with the PDF, refusals that never end in a 500, and
sent versions that stay as they were while a revision is prepared)."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select

from shop import clock
from shop.accounts.models import Profession
from shop.core.formatting import long_date
from shop.extensions import db
from shop.quoting import builder as quote_builder
from shop.quoting import expiry, quotes
from shop.quoting.models import Quote, QuoteLine, QuoteStatus, QuoteVersion
from tests.factories import (
    accept_quote,
    ask,
    issue,
    issued_quote,
    make_applicant,
    make_clinician,
    make_product,
    make_staff,
    make_variant,
)
from tests.helpers import (
    amount,
    builder_form,
    delivered,
    field_error,
    flashes,
    line_for,
    pdf_attachment,
    pdf_text,
    redirect_path,
    reload,
    row_count,
    text,
    version_snapshot,
)

STAFF_ROW = re.compile(r'<td data-label="Quote"><a href="/staff/quotes/(Q-\d+)">')


@pytest.fixture
def clinician():
    return make_clinician(full_name="Dr Ana Ruiz", on_account=True)


@pytest.fixture
def staff():
    return make_staff(full_name="Jordan Lee")


@pytest.fixture
def desk(signed_in, staff):
    return signed_in(staff)


@pytest.fixture
def booster():
    return make_variant("VIT-1", name="Vital Booster", price_cents=10_000, breaks=((5, 9_500), (10, 9_000)))


def listed(response) -> list[str]:
    return STAFF_ROW.findall(response.get_data(as_text=True))


def open_builder(desk, quote: Quote) -> QuoteVersion:
    """The desk presses "Prepare the quote" (or "Start a revision")."""
    response = desk.post(f"/staff/quotes/{quote.number}/draft")
    assert response.status_code == 303
    return reload(quote).draft


# --- queues and search ---------------------------------------------------------------------------


@pytest.fixture
def one_of_each(clinician, staff, booster):
    """A quote in every status, created in this order (oldest first)."""
    made = {}
    made["requested"] = ask(clinician, ("VIT-1", 1))
    made["draft"] = ask(clinician, ("VIT-1", 1))
    quote_builder.open_draft(staff, reload(made["draft"]))
    made["started"] = quote_builder.start_quote(staff, clinician)
    made["changes"] = issued_quote(clinician, staff, ("VIT-1", 1))
    quotes.request_changes(clinician, reload(made["changes"]), "Ten more, please.")
    made["sent"] = issued_quote(clinician, staff, ("VIT-1", 1))
    made["accepted"] = issued_quote(clinician, staff, ("VIT-1", 1))
    accept_quote(clinician, made["accepted"])
    made["declined"] = issued_quote(clinician, staff, ("VIT-1", 1))
    quotes.decline(clinician, reload(made["declined"]), "Too dear.")
    made["expired"] = issued_quote(clinician, staff, ("VIT-1", 1), valid_until=clock.today())
    expiry.expire_quotes(now=reload(made["expired"]).latest_sent.expires_at)
    return {key: quote.number for key, quote in made.items()}


@pytest.mark.parametrize(
    ("queue", "expected"),
    [
        ("open", ["requested", "draft", "started", "changes"]),
        ("sent", ["sent"]),
        ("accepted", ["accepted"]),
        ("closed", ["declined", "expired"]),
    ],
)
def test_each_queue_of_the_desk_holds_the_quotes_in_its_statuses(desk, one_of_each, queue, expected):
    response = desk.get(f"/staff/quotes?queue={queue}")

    assert response.status_code == 200
    assert sorted(listed(response)) == sorted(one_of_each[key] for key in expected)


def test_the_desk_opens_on_the_queue_that_needs_it_oldest_first(desk, one_of_each):
    assert listed(desk.get("/staff/quotes")) == [one_of_each[k] for k in ("requested", "draft", "started", "changes")]
    assert listed(desk.get("/staff/quotes?queue=nonsense")) == listed(desk.get("/staff/quotes"))


def test_the_all_queue_holds_every_quote_with_its_status(desk, one_of_each):
    response = desk.get("/staff/quotes?queue=all")

    assert sorted(listed(response)) == sorted(one_of_each.values())
    page = text(response)
    for label in ("Requested", "Being prepared", "Changes requested", "Sent", "Accepted", "Declined", "Expired"):
        assert label in page


def test_a_quote_that_ran_out_of_time_is_with_the_expired_ones_even_before_the_sweep(desk, clinician, staff, booster):
    running = issued_quote(clinician, staff, ("VIT-1", 1))
    lapsed = issued_quote(clinician, staff, ("VIT-1", 1))
    reload(lapsed).latest_sent.expires_at = clock.now() - timedelta(seconds=1)
    db.session.commit()

    assert listed(desk.get("/staff/quotes?queue=sent")) == [running.number]
    closed = desk.get("/staff/quotes?queue=closed")
    assert listed(closed) == [lapsed.number]
    assert "badge-quote-expired" in closed.get_data(as_text=True)
    assert reload(lapsed).status == QuoteStatus.SENT  # nothing was written by looking


def test_a_revision_that_extends_an_expired_quote_puts_it_back_with_the_sent_ones(desk, clinician, staff, booster):
    quote = issued_quote(clinician, staff, ("VIT-1", 1))
    reload(quote).latest_sent.expires_at = clock.now() - timedelta(seconds=1)
    db.session.commit()

    issue(staff, quote, valid_until=clock.today() + timedelta(days=10))

    assert listed(desk.get("/staff/quotes?queue=sent")) == [quote.number]
    assert listed(desk.get("/staff/quotes?queue=closed")) == []


def test_the_desk_finds_a_quote_by_its_number_in_any_queue(desk, one_of_each):
    number = one_of_each["sent"]

    for query in (number, number.lower(), number[2:], f"  {number} "):
        response = desk.get(f"/staff/quotes?q={query}")
        assert listed(response) == [number], query


def test_the_desk_finds_quotes_by_practice_name_or_the_contacts_name_or_email(desk, one_of_each):
    quote = db.session.scalar(select(Quote).where(Quote.number == one_of_each["sent"]))
    for query in (quote.practice.name.upper(), quote.contact.email, quote.contact.full_name):
        assert quote.number in listed(desk.get("/staff/quotes", query_string={"q": query})), query
    assert listed(desk.get("/staff/quotes", query_string={"q": "no practice is called this"})) == []


def test_a_number_that_matches_nothing_says_so(desk, one_of_each):
    response = desk.get("/staff/quotes?q=Q-999999")

    assert listed(response) == []
    assert "Nothing here" in text(response)


@pytest.mark.parametrize("query", ["%", "_", "Q-%", "Z\x00Z", "X" * 10_000, "' OR 1=1 --", "<script>x</script>"])
def test_odd_searches_find_nothing_and_never_fail(desk, one_of_each, query):
    response = desk.get("/staff/quotes", query_string={"q": query})

    assert response.status_code == 200
    assert listed(response) == []
    assert "<script>x" not in response.get_data(as_text=True)


# --- a quote for a practice that called ----------------------------------------------------------


def test_the_desk_can_start_a_quote_only_for_verified_clinicians(desk, clinician):
    pending = make_applicant(full_name="Dr Pending Person")
    lapsed = make_clinician(full_name="Dr Lapsed Licence", licence_expiry=clock.today() - timedelta(days=1))

    page = desk.get("/staff/quotes/new")

    html = page.get_data(as_text=True)
    assert (
        f'<option value="{clinician.id}">{clinician.practice.name} — Dr Ana Ruiz ({clinician.email})</option>' in html
    )
    assert pending.email not in html and lapsed.email not in html


def test_the_clinicians_to_start_a_quote_for_are_listed_by_practice(desk):
    for practice, name in (("Zest Skin", "Dr Able"), ("Avalon Clinic", "Dr Zed"), ("Meadow Dermatology", "Dr Mid")):
        make_clinician(full_name=name, practice_name=practice)

    html = desk.get("/staff/quotes/new").get_data(as_text=True)

    practices = re.findall(r'<option value="\d+">([^<]+?) —', html)
    assert practices == ["Avalon Clinic", "Meadow Dermatology", "Zest Skin"]


def test_starting_a_quote_for_a_practice_that_called_opens_an_empty_draft_for_its_clinician(desk, clinician, staff):
    response = desk.post("/staff/quotes/new", {"contact_id": str(clinician.id)})

    quote = db.session.scalar(db.select(Quote))
    assert response.status_code == 303
    assert redirect_path(response) == f"/staff/quotes/{quote.number}"
    assert (quote.status, quote.contact_id, quote.started_by_id) == (QuoteStatus.DRAFT, clinician.id, staff.id)
    page = desk.get(redirect_path(response))
    assert any(quote.number in message for kind, message in flashes(page) if kind == "success")
    assert "Draft v1" in text(page) and "No lines yet" in text(page)


@pytest.mark.parametrize("contact", ["", "abc", "999999", "applicant", "staff"])
def test_a_quote_cannot_be_started_without_a_verified_clinician(desk, clinician, contact):
    ids = {"applicant": lambda: make_applicant().id, "staff": lambda: make_staff().id}
    contact_id = str(ids[contact]()) if contact in ids else contact

    response = desk.post("/staff/quotes/new", {"contact_id": contact_id})

    assert response.status_code == 422
    assert field_error(response, "contact_id")
    assert row_count(Quote) == 0


# --- the builder -------------------------------------------------------------------------------


def test_preparing_a_request_prices_it_from_the_catalogue_and_shows_the_builder(desk, clinician, booster):
    quote = ask(clinician, ("VIT-1", 12), others=(("Cannulas 25G", 4),), message="Monthly")

    draft = open_builder(desk, quote)
    page = desk.get(f"/staff/quotes/{quote.number}")

    assert [(ln.sku, ln.unit_price_cents, ln.line_total_cents) for ln in draft.lines] == [
        ("VIT-1", 9_000, 108_000),
        ("", 0, 0),
    ]
    html = page.get_data(as_text=True)
    assert 'name="lines-0-unit_price" step="any" type="number" value="90.00"' in html
    assert 'name="lines-1-unit_price" step="any" type="number" value="0.00"' in html
    assert f'name="valid_until" required type="date" value="{(clock.today() + timedelta(days=30)).isoformat()}"' in html
    page_text = text(page)
    assert "Draft v1" in page_text and "Cannulas 25G" in page_text and "custom item" in page_text
    assert "Total $1,328.40" in page_text  # 1,080.00 + 23% VAT, free shipping


def post_at_once(browsers, path: str) -> list:
    """Each browser posts to `path` at the same moment; returns each status, or what was raised."""
    forms = [{"csrf_token": browser.csrf_token()} for browser in browsers]
    start = threading.Barrier(len(browsers))

    def press(browser, form):
        start.wait(timeout=30)
        try:
            return browser.post(path, form).status_code
        except Exception as error:  # noqa: BLE001 - an error page, as the caller's assertion shows
            return error

    with ThreadPoolExecutor(max_workers=len(browsers)) as pool:
        return list(pool.map(press, browsers, forms))


def test_two_clicks_on_prepare_at_the_same_moment_open_one_draft_and_never_an_error_page(
    signed_in, clinician, staff, booster
):
    browsers = [signed_in(staff), signed_in(make_staff(full_name="Quinn Byrne"))]
    for _ in range(3):
        quote = ask(clinician, ("VIT-1", 2))

        statuses = post_at_once(browsers, f"/staff/quotes/{quote.number}/draft")

        assert statuses == [303, 303]
        assert [(v.number, v.sent_at) for v in reload(quote).versions] == [(1, None)]
        for browser in browsers:
            page = browser.get(f"/staff/quotes/{quote.number}")
            assert page.status_code == 200 and "Draft v1" in text(page)


def test_the_desk_adds_lines_by_sku_with_an_optional_price_or_as_custom_items(desk, clinician, booster):
    quote = quote_builder.start_quote(make_staff(), clinician)

    for form in (
        {"sku": "vit-1", "quantity": "10"},
        {"sku": "VIT-1", "quantity": "2", "unit_price": "77.70"},
        {"description": "Hyaluronidase 1500 IU", "quantity": "3", "unit_price": "45.50"},
    ):
        response = desk.post(f"/staff/quotes/{quote.number}/lines", form)
        assert response.status_code == 303, text(response)[:500]

    lines = reload(quote).draft.lines
    assert [(ln.sku, ln.product_name, ln.quantity, ln.unit_price_cents) for ln in lines] == [
        ("VIT-1", "Vital Booster", 10, 9_000),
        ("VIT-1", "Vital Booster", 2, 7_770),
        ("", "Hyaluronidase 1500 IU", 3, 4_550),
    ]
    assert "Line added." in [message for _, message in flashes(desk.get(f"/staff/quotes/{quote.number}"))]


def test_the_add_line_sku_field_offers_the_catalogue(desk, clinician, booster):
    quote = quote_builder.start_quote(make_staff(), clinician)

    html = desk.get(f"/staff/quotes/{quote.number}").get_data(as_text=True)

    assert re.search(r'<input[^>]*id="sku"[^>]*list="sku-list"', html)
    assert '<option value="VIT-1">Vital Booster, Vital Booster</option>' in html


def test_the_add_line_pick_list_leaves_out_what_the_practice_contact_could_not_order(desk, booster):
    make_product(sku="KYB-1", name="Kybella", prescription_only=True)
    nurse = make_clinician(profession=Profession.REGISTERED_NURSE)
    quote = quote_builder.start_quote(make_staff(email="other@supplier.example"), nurse)

    html = desk.get(f"/staff/quotes/{quote.number}").get_data(as_text=True)

    assert '<option value="VIT-1">' in html
    assert '<option value="KYB-1">' not in html


def test_the_desk_adds_a_product_by_words_of_its_name(desk, clinician, booster):
    quote = quote_builder.start_quote(make_staff(email="other@supplier.example"), clinician)

    response = desk.post(f"/staff/quotes/{quote.number}/lines", {"sku": "vital", "quantity": "2"})

    assert response.status_code == 303
    assert [line.sku for line in reload(quote).draft.lines] == ["VIT-1"]


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"sku": "NOPE-1", "quantity": "1"}, "sku", "There is no product with the SKU 'NOPE-1'"),
        ({"sku": "", "description": "", "quantity": "1"}, "sku", "Give a SKU, or describe the item."),
        ({"description": "Cannulas", "quantity": "1"}, "unit_price", "Give the price of the custom item."),
        ({"description": "Cannulas", "quantity": "1", "unit_price": "-1"}, "unit_price", "Between 0 and 10,000,000."),
        ({"description": "Cannulas", "quantity": "1", "unit_price": "NaN"}, "unit_price", "Enter an amount"),
        ({"description": "Cannulas", "quantity": "1", "unit_price": "Infinity"}, "unit_price", "Enter an amount"),
        ({"description": "Cannulas", "quantity": "1", "unit_price": "1e999999"}, "unit_price", "Between 0"),
        ({"description": "Cannulas", "quantity": "1", "unit_price": "abc"}, "unit_price", "Not a valid decimal"),
        ({"sku": "VIT-1", "quantity": "0"}, "quantity", "Between 1 and 999."),
        ({"sku": "VIT-1", "quantity": "1000"}, "quantity", "Between 1 and 999."),
        ({"sku": "VIT-1", "quantity": ""}, "quantity", "Enter a quantity."),
        ({"sku": "X" * 10_000, "quantity": "1"}, "sku", "longer than 40"),
        ({"description": "X" * 10_000, "quantity": "1", "unit_price": "1"}, "description", "longer than 160"),
    ],
)
def test_a_line_the_desk_cannot_add_is_explained_next_to_its_field(desk, clinician, booster, form, field, message):
    quote = quote_builder.start_quote(make_staff(), clinician)

    response = desk.post(f"/staff/quotes/{quote.number}/lines", form)

    assert response.status_code == 422
    assert message in field_error(response, field)
    assert row_count(QuoteLine) == 0


def test_the_desk_changes_quantities_prices_discounts_shipping_validity_terms_and_note(desk, clinician, booster):
    make_variant("HYD-2", name="Hydro Booster", price_cents=8_000)
    make_variant("BAL-3", name="Balance Booster", price_cents=999)
    quote = ask(clinician, ("VIT-1", 3), ("HYD-2", 2), ("BAL-3", 1), others=(("Cannulas 25G", 4),))
    draft = open_builder(desk, quote)
    until = clock.today() + timedelta(days=45)

    response = desk.post(
        f"/staff/quotes/{quote.number}/save",
        builder_form(
            draft,
            {
                0: {"quantity": "12"},  # reaches the 10-pack price
                1: {"remove": "y"},
                2: {"discount": "50"},  # 4.995 -> 5.00
                3: {"unit_price": "25.00"},
            },
            shipping="12.50",
            valid_until=until.isoformat(),
            terms="Net 30 days.",
            note="Prices held for May.",
        ),
    )

    assert response.status_code == 303, text(response)[:800]
    draft = reload(quote).draft
    assert [(ln.sku or ln.product_name, ln.quantity, ln.discount_bps, ln.unit_price_cents) for ln in draft.lines] == [
        ("VIT-1", 12, 0, 9_000),
        ("BAL-3", 1, 5_000, 500),
        ("Cannulas 25G", 4, 0, 2_500),
    ]
    assert (draft.subtotal_cents, draft.shipping_cents, draft.valid_until, draft.terms, draft.note) == (
        108_000 + 500 + 10_000,
        1_250,
        until,
        "Net 30 days.",
        "Prices held for May.",
    )
    assert (draft.tax_cents, draft.total_cents) == (27_543, 147_293)  # 23% of 1,197.50 is 275.425 -> 275.43
    page = desk.get(f"/staff/quotes/{quote.number}")
    assert "Draft saved." in [message for _, message in flashes(page)]
    page_text = text(page)
    for shown in ("$1,185.00", "$12.50", "$275.43", "$1,472.93"):
        assert shown in page_text, shown


def test_a_discount_typed_on_the_page_applies_to_the_list_price_not_to_the_price_shown(desk, clinician, booster):
    quote = ask(clinician, ("VIT-1", 1))
    draft = open_builder(desk, quote)

    desk.post(f"/staff/quotes/{quote.number}/save", builder_form(draft, {0: {"unit_price": "50.00", "discount": "10"}}))
    draft = reload(quote).draft
    desk.post(f"/staff/quotes/{quote.number}/save", builder_form(draft))

    line = reload(quote).draft.lines[0]
    assert (line.list_price_cents, line.discount_bps, line.unit_price_cents) == (10_000, 1_000, 9_000)


LINE_REFUSALS = [
    ({"unit_price": "-1"}, "lines-0-unit_price", "Between 0 and 10,000,000."),
    ({"unit_price": "NaN"}, "lines-0-unit_price", "Enter an amount"),
    ({"unit_price": "sNaN"}, "lines-0-unit_price", "Enter an amount"),
    ({"unit_price": "Infinity"}, "lines-0-unit_price", "Enter an amount"),
    ({"unit_price": "-Infinity"}, "lines-0-unit_price", "Enter an amount"),
    ({"unit_price": "1e999999"}, "lines-0-unit_price", "Between 0 and 10,000,000."),
    ({"unit_price": "99999999999999999999"}, "lines-0-unit_price", "Between 0 and 10,000,000."),
    ({"unit_price": "12,50"}, "lines-0-unit_price", "Not a valid decimal value."),
    ({"discount": "101"}, "lines-0-discount", "Between 0 and 100."),
    ({"discount": "-5"}, "lines-0-discount", "Between 0 and 100."),
    ({"discount": "NaN"}, "lines-0-discount", "Enter a percentage"),
    ({"discount": "Infinity"}, "lines-0-discount", "Enter a percentage"),
    ({"quantity": "0"}, "lines-0-quantity", "Between 1 and 999."),
    ({"quantity": "1000"}, "lines-0-quantity", "Between 1 and 999."),
    ({"quantity": "9" * 40}, "lines-0-quantity", "Between 1 and 999."),
    ({"quantity": ""}, "lines-0-quantity", "Enter a quantity."),
    ({"quantity": "2.5"}, "lines-0-quantity", "Not a valid integer value."),
]
FIELD_REFUSALS = [
    ({"shipping": "-0.01"}, "shipping", "Between 0 and 10,000,000."),
    ({"shipping": "NaN"}, "shipping", "Enter an amount"),
    ({"shipping": "1e12"}, "shipping", "Between 0 and 10,000,000."),
    ({"shipping": ""}, "shipping", "Enter the shipping (0 for free)."),
    ({"valid_until": "2001-01-01"}, "valid_until", "The quote must be valid until today or later."),
    ({"valid_until": "9999-12-31"}, "valid_until", "A quote can be valid for a year at most."),
    ({"valid_until": "2026-02-30"}, "valid_until", "Enter a date as YYYY-MM-DD."),
    ({"valid_until": ""}, "valid_until", "Enter a date as YYYY-MM-DD."),
    ({"terms": "X" * 10_000}, "terms", "longer than 4000"),
    ({"note": "X" * 10_000}, "note", "longer than 4000"),
]


@pytest.mark.parametrize(("change", "field", "message"), LINE_REFUSALS + FIELD_REFUSALS)
def test_an_impossible_value_in_the_builder_is_explained_next_to_its_field_and_nothing_changes(
    desk, clinician, booster, change, field, message
):
    quote = ask(clinician, ("VIT-1", 2))
    draft = open_builder(desk, quote)
    before = version_snapshot(draft)
    form = builder_form(draft, {0: change}) if field.startswith("lines-") else builder_form(draft, **change)

    for then in ({}, {"then": "send"}):
        response = desk.post(f"/staff/quotes/{quote.number}/save", {**form, **then})

        assert response.status_code == 422
        assert message in field_error(response, field), text(response)[:600]
        assert "{'" not in text(response)
        assert version_snapshot(reload(QuoteVersion, draft.id)) == before
        assert reload(quote).status == QuoteStatus.DRAFT


def test_amounts_beyond_what_a_quote_may_total_are_refused_with_a_message_not_an_error(desk, clinician, booster):
    quote = ask(clinician, ("VIT-1", 2))
    draft = open_builder(desk, quote)
    before = version_snapshot(draft)

    for path, form in (
        ("save", builder_form(draft, {0: {"quantity": "999", "unit_price": "10000000"}})),
        ("save", builder_form(draft, shipping="10000000", then="send")),
        ("lines", {"description": "Laser", "quantity": "999", "unit_price": "9999999.99"}),
    ):
        response = desk.post(f"/staff/quotes/{quote.number}/{path}", form)
        assert response.status_code == 422
        assert any("at most $10,000,000.00" in message for kind, message in flashes(response) if kind == "error")

    assert version_snapshot(reload(QuoteVersion, draft.id)) == before
    assert row_count(QuoteLine) == 1 and reload(quote).status == QuoteStatus.DRAFT


def test_the_builders_summary_names_each_faulty_line_by_its_product_with_every_mistake_at_once(
    desk, clinician, booster
):
    make_variant("HYD-2", name="Hydro Booster", price_cents=8_000)
    quote = ask(clinician, ("VIT-1", 2), ("HYD-2", 1))
    draft = open_builder(desk, quote)

    response = desk.post(
        f"/staff/quotes/{quote.number}/save",
        builder_form(draft, {0: {"discount": "150"}, 1: {"quantity": "0"}}, valid_until="2001-01-01"),
    )

    page = text(response)
    assert "Vital Booster (Discount %): Between 0 and 100." in page
    assert "Hydro Booster (Quantity): Between 1 and 999." in page
    assert "Valid until (end of day): The quote must be valid until today or later." in page
    html = response.get_data(as_text=True)
    assert 'aria-describedby="lines-0-discount-error"' in html and 'aria-describedby="lines-1-quantity-error"' in html


def test_a_stale_or_forged_builder_form_is_refused_without_an_error_page(desk, clinician, booster):
    other = quote_builder.open_draft(make_staff(), ask(clinician, ("VIT-1", 1)))
    quote = ask(clinician, ("VIT-1", 2))
    draft = open_builder(desk, quote)
    before = version_snapshot(draft)
    form = builder_form(draft)

    for forged in (
        {
            **form,
            "lines-1-line_id": str(draft.lines[0].id),
            "lines-1-quantity": "2",
            "lines-0-remove": "y",
            "lines-1-remove": "y",
        },
        {**form, "lines-0-line_id": str(other.lines[0].id)},
        {**form, "lines-0-line_id": "abc"},
        {**form, "lines-7-line_id": "999999", "lines-7-quantity": "0"},
    ):
        response = desk.post(f"/staff/quotes/{quote.number}/save", forged)
        assert response.status_code in (303, 422)
        assert version_snapshot(reload(QuoteVersion, draft.id)) == before


def test_saving_and_sending_emails_the_clinician_a_link_and_the_pdf(desk, clinician, booster, mailbox):
    quote = ask(clinician, ("VIT-1", 12))
    draft = open_builder(desk, quote)

    response = desk.post(
        f"/staff/quotes/{quote.number}/save", builder_form(draft, {0: {"discount": "15"}}, note="Volume", then="send")
    )

    assert response.status_code == 303
    quote = reload(quote)
    version = quote.latest_sent
    assert quote.status == QuoteStatus.SENT and version.number == 1
    assert version.lines[0].unit_price_cents == 7_650
    flash = flashes(desk.get(redirect_path(response)))
    assert any(f"{quote.number} v1 is sent to {clinician.email}" in message for _, message in flash)
    [message] = delivered(mailbox, clinician.email, f"Your quote ({quote.number})")
    body = message.get_body(("plain",)).get_content()
    assert f"http://shop.test/quotes/{quote.number}" in body
    assert f"valid until the end of {long_date(version.valid_until)} (Europe/Dublin time)" in body
    filename, pdf = pdf_attachment(message)
    assert filename == f"{quote.number}-v1.pdf"
    content = pdf_text(pdf)
    assert f"Quote {quote.number} (v1)" in content and "VIT-1" in content and "$76.50" in content


def test_a_draft_without_lines_is_not_sent(desk, clinician, mailbox):
    quote = quote_builder.start_quote(make_staff(), clinician)
    draft = reload(quote).draft

    response = desk.post(f"/staff/quotes/{quote.number}/save", builder_form(draft, then="send"))

    assert response.status_code == 303
    assert ("error", "Add at least one line before sending the quote.") in flashes(desk.get(redirect_path(response)))
    assert reload(quote).status == QuoteStatus.DRAFT
    assert delivered(mailbox, clinician.email) == []


def test_a_sent_version_cannot_be_changed_through_the_builder(desk, clinician, staff, booster):
    quote = issued_quote(clinician, staff, ("VIT-1", 2))
    version = quote.latest_sent
    before = version_snapshot(version)

    page = desk.get(f"/staff/quotes/{quote.number}")
    save = desk.post(f"/staff/quotes/{quote.number}/save", builder_form(version, {0: {"unit_price": "1.00"}}))
    add = desk.post(f"/staff/quotes/{quote.number}/lines", {"sku": "VIT-1", "quantity": "5"})
    send = desk.post(f"/staff/quotes/{quote.number}/send")

    assert f"/staff/quotes/{quote.number}/save" not in page.get_data(as_text=True)
    assert "Start a revision" in text(page)
    assert save.status_code == 422 and add.status_code == 422 and send.status_code == 303
    assert "There is no draft to edit; start a revision first." in text(save)
    assert version_snapshot(reload(QuoteVersion, version.id)) == before
    assert len(reload(quote).versions) == 1


def test_a_revision_starts_as_a_copy_and_the_sent_version_stays_readable_with_its_own_pdf(
    desk, clinician, staff, booster, mailbox
):
    quote = issued_quote(clinician, staff, ("VIT-1", 12), shipping_cents=0)
    v1 = quote.latest_sent
    before = version_snapshot(v1)

    v2 = open_builder(desk, quote)
    assert v2.number == 2 and version_snapshot(v2)[1] == before[1]
    response = desk.post(
        f"/staff/quotes/{quote.number}/save", builder_form(v2, {0: {"unit_price": "80.00"}}, then="send")
    )
    assert response.status_code == 303

    quote = reload(quote)
    assert version_snapshot(reload(QuoteVersion, v1.id)) == before
    assert quote.latest_sent.number == 2 and line_for(quote.latest_sent, "VIT-1").unit_price_cents == 8_000
    current = text(desk.get(f"/staff/quotes/{quote.number}"))
    earlier = text(desk.get(f"/staff/quotes/{quote.number}?version=1"))
    assert f"Quote {quote.number} (v2)" in current and "$80.00" in current
    assert f"Quote {quote.number} (v1)" in earlier and "$90.00" in earlier
    old_pdf = desk.get(f"/staff/quotes/{quote.number}/pdf?version=1")
    new_pdf = desk.get(f"/staff/quotes/{quote.number}/pdf?version=2")
    assert old_pdf.mimetype == new_pdf.mimetype == "application/pdf"
    assert "(v1)" in pdf_text(old_pdf.data) and "$90.00" in pdf_text(old_pdf.data)
    assert "(v2)" in pdf_text(new_pdf.data) and "$80.00" in pdf_text(new_pdf.data)
    [revised] = delivered(mailbox, clinician.email, "v2")
    assert pdf_attachment(revised)[0] == f"{quote.number}-v2.pdf"


def test_the_builder_history_shows_who_did_what(desk, clinician, staff, booster):
    quote = ask(clinician, ("VIT-1", 2))
    draft = open_builder(desk, quote)
    desk.post(f"/staff/quotes/{quote.number}/save", builder_form(draft, then="send"))

    page = desk.get(f"/staff/quotes/{quote.number}").get_data(as_text=True)

    history = text_of_section(page, "quote-history-title")
    assert "Quote sent · Jordan Lee" in history
    assert "Quotes desk started preparing it · Jordan Lee" in history
    assert "Quote requested · Dr Ana Ruiz" in history
    assert history.index("Quote sent") < history.index("Quote requested")  # newest first


def text_of_section(html: str, heading_id: str) -> str:
    start = html.index(f'id="{heading_id}"')
    section = html[start : html.index("</section>", start)]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section)).strip()


@pytest.mark.parametrize("path", ["", "/pdf", "/pdf?version=1"])
def test_an_unknown_quote_is_a_404_at_the_desk(desk, path):
    assert desk.get(f"/staff/quotes/Q-999999{path}").status_code == 404


def test_a_clinician_cannot_reach_the_desk(signed_in, clinician, booster):
    quote = ask(clinician, ("VIT-1", 1))
    doctor = signed_in(clinician)

    for path in ("/staff/quotes", "/staff/quotes/new", f"/staff/quotes/{quote.number}"):
        assert doctor.get(path).status_code in (403, 404)
    assert doctor.post(f"/staff/quotes/{quote.number}/draft").status_code in (403, 404)
    assert reload(quote).status == QuoteStatus.REQUESTED


def test_the_pdf_preview_of_a_draft_carries_its_prices(desk, clinician, booster):
    quote = ask(clinician, ("VIT-1", 12))
    draft = open_builder(desk, quote)

    response = desk.get(f"/staff/quotes/{quote.number}/pdf?version={draft.number}")

    assert response.mimetype == "application/pdf"
    assert "$1,080.00" in pdf_text(response.data) and amount(draft.total_cents) == "1328.40"
