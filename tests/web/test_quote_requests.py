"""Asking for a quote through /quotes/new (typed rows or the cart), the messages next to each
field when a request cannot be taken, the practice's list of quotes at /quotes, and the 404
that every quote page gives a clinician of another practice."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from shop import clock
from shop.accounts.models import Profession
from shop.cart import services as carts
from shop.extensions import db
from shop.quoting import builder as quote_builder
from shop.quoting import quotes
from shop.quoting.models import Quote, QuoteComment, QuoteRequestLine, QuoteStatus
from tests.factories import accept_quote, ask, issued_quote, make_clinician, make_product, make_staff, make_variant
from tests.helpers import (
    REQUEST_URL,
    delivered,
    field_error,
    flashes,
    quotes_desk_address,
    redirect_path,
    reload,
    request_form,
    row_count,
    text,
)

QUOTE_ROW = re.compile(
    r'<td data-label="Quote"><a href="/quotes/(Q-\d+)">.*?<td data-label="Status"><span class="badge[^"]*">([^<]+)</span>',
    re.S,
)


@pytest.fixture
def clinician():
    return make_clinician(full_name="Dr Ana Ruiz", on_account=True)


@pytest.fixture
def doctor(signed_in, clinician):
    return signed_in(clinician)


@pytest.fixture
def catalogue():
    make_variant("VIT-1", name="Vital Booster", price_cents=10_000, breaks=((10, 9_000),))
    make_variant("HYD-2", name="Hydro Booster", price_cents=8_000)


def input_value(html: str, name: str) -> str | None:
    tag = re.search(rf'<input[^>]*\bname="{re.escape(name)}"[^>]*>', html)
    value = re.search(r'\bvalue="([^"]*)"', tag.group(0)) if tag else None
    return value.group(1) if value else None


# --- asking ------------------------------------------------------------------------------------


def test_the_request_form_offers_the_catalogue_to_pick_from_by_sku_or_name(doctor, catalogue):
    page = doctor.get(REQUEST_URL)

    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<option value="VIT-1">Vital Booster, Vital Booster</option>' in html
    assert '<option value="HYD-2">' in html
    assert 'list="sku-list"' in html
    for field in (
        "products-0-sku",
        "products-0-quantity",
        "others-0-item",
        "others-0-quantity",
        "target_date",
        "message",
    ):
        assert f'name="{field}"' in html


def test_a_clinician_asks_for_products_by_sku_in_any_case_and_for_items_not_in_the_catalogue(
    doctor, clinician, catalogue
):
    needed = clock.today() + timedelta(days=20)

    response = doctor.post(
        REQUEST_URL,
        request_form(
            ("vit-1", 40),
            ("Hyd-2", 3),
            others=(("Hyaluronidase 1500 IU", 2),),
            target_date=needed,
            message="Monthly volume for two clinics.",
        ),
    )

    assert response.status_code == 303
    quote = db.session.scalar(db.select(Quote))
    assert redirect_path(response) == f"/quotes/{quote.number}"
    assert (quote.status, quote.contact_id, quote.target_date, quote.request_message) == (
        QuoteStatus.REQUESTED,
        clinician.id,
        needed,
        "Monthly volume for two clinics.",
    )
    assert [(r.sku, r.description, r.quantity) for r in quote.request_lines] == [
        ("VIT-1", "Vital Booster, Vital Booster", 40),
        ("HYD-2", "Hydro Booster, Hydro Booster", 3),
        ("", "Hyaluronidase 1500 IU", 2),
    ]
    page = doctor.get(redirect_path(response))
    assert any(quote.number in message for kind, message in flashes(page) if kind == "success")
    assert "Hyaluronidase 1500 IU" in text(page)


def test_a_product_row_without_a_quantity_asks_for_one_pack(doctor, catalogue):
    response = doctor.post(REQUEST_URL, request_form(("VIT-1", "")))

    assert response.status_code == 303
    assert db.session.scalar(db.select(QuoteRequestLine.quantity)) == 1


def test_the_quotes_desk_and_the_clinician_are_emailed_when_the_request_is_sent(doctor, clinician, catalogue, mailbox):
    doctor.post(REQUEST_URL, request_form(("VIT-1", 40), others=(("Hyaluronidase 1500 IU", 2),)))
    quote = db.session.scalar(db.select(Quote))

    [to_desk] = delivered(mailbox, quotes_desk_address(), quote.number)
    [to_clinician] = delivered(mailbox, clinician.email, quote.number)

    desk_text = to_desk.get_body(("plain",)).get_content()
    assert "40 x Vital Booster" in desk_text and "2 x Hyaluronidase 1500 IU" in desk_text
    assert clinician.application.licence_number in desk_text
    assert f"http://shop.test/staff/quotes/{quote.number}" in desk_text
    assert f"http://shop.test/quotes/{quote.number}" in to_clinician.get_body(("plain",)).get_content()


# --- from the cart -----------------------------------------------------------------------------


def test_asking_from_the_cart_fills_the_form_with_the_cart_and_keeps_the_cart(doctor, clinician, catalogue):
    carts.add_to_cart(clinician, "VIT-1", 12)
    carts.add_to_cart(clinician, "HYD-2", 2)

    html = doctor.get(f"{REQUEST_URL}?from=cart").get_data(as_text=True)

    assert (input_value(html, "products-0-sku"), input_value(html, "products-0-quantity")) == ("VIT-1", "12")
    assert (input_value(html, "products-1-sku"), input_value(html, "products-1-quantity")) == ("HYD-2", "2")
    assert input_value(html, "products-2-sku") in (None, "")

    response = doctor.post(REQUEST_URL, request_form(("VIT-1", 12), ("HYD-2", 2), message="As in my cart"))
    assert response.status_code == 303
    assert [(r.sku, r.quantity) for r in db.session.scalar(db.select(Quote)).request_lines] == [
        ("VIT-1", 12),
        ("HYD-2", 2),
    ]
    assert sorted((line.variant.sku, line.quantity) for line in carts.lines_of(clinician)) == [
        ("HYD-2", 2),
        ("VIT-1", 12),
    ]


def test_the_request_page_offers_to_start_from_the_cart_when_it_holds_something(doctor, clinician, catalogue):
    assert "?from=cart" not in doctor.get(REQUEST_URL).get_data(as_text=True)

    carts.add_to_cart(clinician, "VIT-1", 3)

    html = doctor.get(REQUEST_URL).get_data(as_text=True)
    assert 'href="/quotes/new?from=cart"' in html and "3 packs in your cart" in html


def test_a_cart_longer_than_the_form_gets_a_row_for_every_line(doctor, clinician):
    skus = [f"BIG-{n}" for n in range(11)]
    for sku in skus:
        make_variant(sku)
        carts.add_to_cart(clinician, sku, 2)

    html = doctor.get(f"{REQUEST_URL}?from=cart").get_data(as_text=True)

    assert [input_value(html, f"products-{n}-sku") for n in range(11)] == skus


def test_without_from_cart_the_form_starts_empty(doctor, clinician, catalogue):
    carts.add_to_cart(clinician, "VIT-1", 12)

    html = doctor.get(REQUEST_URL).get_data(as_text=True)

    assert input_value(html, "products-0-sku") in (None, "")


# --- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        (request_form(("NOPE-404", 2)), "products-0-sku", "There is no product with the SKU 'NOPE-404'"),
        (request_form(("VIT-1", 2), ("NOPE-404", 1)), "products-1-sku", "There is no product with the SKU"),
        (request_form(message="Just asking"), "products-0-sku", "Add at least one product or describe what you need."),
        (request_form(("", "")), "products-0-sku", "Add at least one product"),
        (request_form(("\x00\x00", 2)), "products-0-sku", "Enter the product's SKU, or clear the quantity."),
        (request_form(("", 5)), "products-0-sku", "Enter the product's SKU, or clear the quantity."),
        (request_form(others=(("", 5),)), "others-0-item", "Describe the item, or clear the quantity."),
        (request_form(("VIT-1", 0)), "products-0-quantity", "Between 1 and 999."),
        (request_form(("VIT-1", -3)), "products-0-quantity", "Between 1 and 999."),
        (request_form(("VIT-1", 1000)), "products-0-quantity", "Between 1 and 999."),
        (request_form(("VIT-1", "9" * 40)), "products-0-quantity", "Between 1 and 999."),
        (request_form(("VIT-1", "abc")), "products-0-quantity", "Not a valid integer value."),
        (request_form(("VIT-1", "2.5")), "products-0-quantity", "Not a valid integer value."),
        (request_form(others=(("Cannulas", 0),)), "others-0-quantity", "Between 1 and 999."),
        (request_form(("X" * 10_000, 1)), "products-0-sku", "longer than 40 characters"),
        (request_form(others=(("X" * 10_000, 1),)), "others-0-item", "longer than 160 characters"),
        (request_form(("VIT-1", 1), message="X" * 10_000), "message", "longer than 4000 characters"),
        (request_form(("VIT-1", 1), target_date="2001-01-01"), "target_date", "The target date is in the past."),
        (request_form(("VIT-1", 1), target_date="2026-02-30"), "target_date", "Not a valid date value."),
        (request_form(("VIT-1", 1), target_date="\x00" * 10), "target_date", "Not a valid date value."),
    ],
)
def test_a_request_that_cannot_be_taken_shows_why_next_to_the_field_and_keeps_nothing(
    doctor, catalogue, mailbox, nothing_kept, form, field, message
):
    response = doctor.post(REQUEST_URL, form)

    assert response.status_code == 422
    assert message in field_error(response, field)
    assert f'id="{field}"' in response.get_data(as_text=True)
    assert row_count(Quote) == 0
    assert delivered(mailbox, quotes_desk_address()) == []


def test_an_item_not_in_the_catalogue_may_be_described_in_160_characters_and_no_more(doctor, catalogue):
    longest = ("Hyaluronidase 1500 IU powder, 10 vials with diluent and filter needles, cold chain. " * 2)[:159] + "."

    refused = doctor.post(REQUEST_URL, request_form(others=((longest + "!", 2),)))

    assert refused.status_code == 422
    assert "longer than 160 characters" in field_error(refused, "others-0-item")
    assert row_count(Quote) == 0

    taken = doctor.post(REQUEST_URL, request_form(others=((longest, 2),)))

    assert taken.status_code == 303
    assert [(r.description, r.quantity) for r in db.session.scalar(db.select(Quote)).request_lines] == [(longest, 2)]


def test_the_summary_of_a_refused_request_names_each_row_in_words(doctor, catalogue):
    response = doctor.post(REQUEST_URL, request_form(("VIT-1", 0), ("NOPE-1", 1), ("HYD-2", "abc")))

    page = text(response)
    assert "Product 1 (Quantity): Between 1 and 999." in page
    assert "Product 2 (SKU): There is no product with the SKU 'NOPE-1'" in page
    assert "Product 3 (Quantity): Not a valid integer value." in page
    assert "{'" not in page and "[]" not in page
    html = response.get_data(as_text=True)
    assert 'aria-describedby="products-0-quantity-error"' in html and 'aria-invalid="true"' in html


def test_what_was_typed_stays_in_the_form_after_a_refusal(doctor, catalogue):
    response = doctor.post(
        REQUEST_URL, request_form(("VIT-1", 4), ("NOPE-1", 1), others=(("Cannulas", 3),), message="Keep this")
    )

    html = response.get_data(as_text=True)
    assert input_value(html, "products-0-sku") == "VIT-1" and input_value(html, "products-0-quantity") == "4"
    assert input_value(html, "others-0-item") == "Cannulas"
    assert "Keep this</textarea>" in html


def test_control_characters_in_a_request_are_dropped_not_stored(doctor, catalogue):
    response = doctor.post(
        REQUEST_URL,
        request_form(("VIT-1", 1), others=(("Canu\x00las\x07 25G", 2),), message="Ring\x00 before\x1b delivery"),
    )

    assert response.status_code == 303
    quote = db.session.scalar(db.select(Quote))
    assert quote.request_message == "Ring before delivery"
    assert quote.request_lines[1].description == "Canulas 25G"


def test_a_nurse_is_told_next_to_the_sku_that_a_prescription_only_product_is_not_for_them(signed_in, catalogue):
    make_product(sku="KYB-1", name="Kybella", prescription_only=True)
    nurse = signed_in(make_clinician(profession=Profession.REGISTERED_NURSE))

    response = nurse.post(REQUEST_URL, request_form(("KYB-1", 1)))

    assert response.status_code == 422
    assert "prescription-only" in field_error(response, "products-0-sku")
    assert row_count(Quote) == 0


def test_a_product_may_be_asked_for_by_words_of_its_name_when_they_fit_one_option(doctor, catalogue):
    response = doctor.post(REQUEST_URL, request_form(("vital boost", 5)))

    assert response.status_code == 303
    assert [(r.sku, r.quantity) for r in db.session.scalar(db.select(Quote)).request_lines] == [("VIT-1", 5)]


def test_a_name_that_fits_several_options_names_them_to_choose_from(doctor, catalogue):
    response = doctor.post(REQUEST_URL, request_form(("booster", 2)))

    assert response.status_code == 422
    message = field_error(response, "products-0-sku")
    assert "Several products match 'booster'" in message
    assert "VIT-1" in message and "HYD-2" in message
    assert row_count(Quote) == 0


def test_a_name_that_fits_nothing_points_to_the_items_not_in_the_catalogue(doctor, catalogue):
    response = doctor.post(REQUEST_URL, request_form(("unicorn serum", 2)))

    message = field_error(response, "products-0-sku")
    assert "nor one whose name has those words" in message
    assert "items not in the catalogue" in message


def test_a_refusal_for_who_the_clinician_is_does_not_suggest_describing_the_product(signed_in, catalogue):
    make_product(sku="KYB-1", name="Kybella", prescription_only=True)
    nurse = signed_in(make_clinician(profession=Profession.REGISTERED_NURSE))

    message = field_error(nurse.post(REQUEST_URL, request_form(("KYB-1", 1))), "products-0-sku")

    assert "prescription-only" in message
    assert "not in the catalogue" not in message


def test_the_pick_list_leaves_out_what_the_clinician_could_not_order(signed_in, catalogue):
    make_product(sku="KYB-1", name="Kybella", prescription_only=True)
    nurse = signed_in(make_clinician(profession=Profession.REGISTERED_NURSE))
    doctor = make_clinician(email="doc@clinic.example")

    html = nurse.get(REQUEST_URL).get_data(as_text=True)

    assert '<option value="VIT-1">' in html
    assert '<option value="KYB-1">' not in html
    assert [sku for sku, _ in quotes.sku_choices(doctor)] == ["HYD-2", "KYB-1", "VIT-1"]


def test_asking_from_an_empty_cart_says_so_instead_of_promising_the_cart(doctor, catalogue):
    page = text(doctor.get(f"{REQUEST_URL}?from=cart"))

    assert "Your cart is in the form below" not in page
    assert "Your cart is empty" in page


# --- the practice's quotes --------------------------------------------------------------------


def listed(response) -> list[tuple[str, str]]:
    return [(number, label.strip()) for number, label in QUOTE_ROW.findall(response.get_data(as_text=True))]


def test_the_quotes_page_lists_every_quote_of_the_practice_with_its_status_newest_first(signed_in, clinician):
    make_variant("VIT-1")
    staff = make_staff()
    colleague = make_clinician(practice_of=clinician, full_name="Dr Conor Healy")
    stranger = make_clinician(full_name="Dr Sara Lind")

    requested = ask(clinician, ("VIT-1", 1))
    drafted = ask(colleague, ("VIT-1", 1))
    quote_builder.open_draft(staff, reload(drafted))
    sent = issued_quote(clinician, staff, ("VIT-1", 1))
    changes = issued_quote(clinician, staff, ("VIT-1", 1))
    quotes.request_changes(clinician, reload(changes), "Ten more, please.")
    accepted = issued_quote(colleague, staff, ("VIT-1", 1))
    accept_quote(colleague, accepted)
    declined = issued_quote(clinician, staff, ("VIT-1", 1))
    quotes.decline(clinician, reload(declined), "Too dear.")
    expired = issued_quote(clinician, staff, ("VIT-1", 1))
    reload(expired).latest_sent.expires_at = clock.now() - timedelta(minutes=1)
    db.session.commit()
    theirs = ask(stranger, ("VIT-1", 1))

    rows = listed(signed_in(clinician).get("/quotes"))

    assert rows == [
        (expired.number, "Expired"),
        (declined.number, "Declined"),
        (accepted.number, "Accepted"),
        (changes.number, "Changes requested"),
        (sent.number, "Sent"),
        (drafted.number, "Being prepared"),
        (requested.number, "Requested"),
    ]
    assert listed(signed_in(colleague).get("/quotes")) == rows
    assert theirs.number not in signed_in(clinician).get("/quotes").get_data(as_text=True)
    assert listed(signed_in(stranger).get("/quotes")) == [(theirs.number, "Requested")]


def test_the_quotes_page_shows_the_latest_version_its_validity_and_total(doctor, clinician):
    make_variant("VIT-1", price_cents=10_000)
    staff = make_staff()
    quote = issued_quote(clinician, staff, ("VIT-1", 2), shipping_cents=0)

    page = text(doctor.get("/quotes"))

    version = quote.latest_sent
    assert f"{quote.number} " in page
    assert "v1" in page and version.valid_until.strftime("%d %b %Y") in page
    assert "$246.00" in page  # 200.00 and 23% VAT


def test_a_practice_without_quotes_is_invited_to_ask_for_one(doctor):
    page = doctor.get("/quotes")

    assert page.status_code == 200
    assert "No quotes yet" in text(page)
    assert 'href="/quotes/new"' in page.get_data(as_text=True)


# --- another practice's quote -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "form"),
    [
        ("get", "", None),
        ("get", "?version=1", None),
        ("get", "/pdf", None),
        ("get", "/pdf?version=1", None),
        ("post", "/comment", {"body": "Hello from elsewhere"}),
        ("post", "/changes", {"body": "Cheaper, please"}),
        ("post", "/decline", {"reason": "No"}),
        ("get", "/accept", None),
        ("post", "/accept", {"version": "1"}),
    ],
)
def test_another_practices_quote_is_a_404_on_every_page_and_action(signed_in, clinician, method, path, form):
    make_variant("VIT-1")
    quote = issued_quote(clinician, make_staff(), ("VIT-1", 1))
    stranger = signed_in(make_clinician(full_name="Dr Sara Lind"))
    owner = signed_in(clinician)

    if method == "get":
        response = stranger.get(f"/quotes/{quote.number}{path}")
        assert owner.get(f"/quotes/{quote.number}{path}").status_code == 200
    else:
        response = stranger.post(f"/quotes/{quote.number}{path}", form)

    assert response.status_code == 404
    assert quote.number not in response.get_data(as_text=True)
    assert reload(quote).status == QuoteStatus.SENT
    assert row_count(QuoteComment) == 0


@pytest.mark.parametrize("number", ["Q-999999", "Q-1", "Q-000100001"])
def test_an_unknown_quote_number_is_a_404(doctor, number):
    assert doctor.get(f"/quotes/{number}").status_code == 404
    assert doctor.get(f"/quotes/{number}/pdf").status_code == 404


def test_a_quote_of_the_practice_that_has_not_been_sent_has_no_pdf_yet(doctor, clinician, catalogue):
    quote = ask(clinician, ("VIT-1", 1))

    assert doctor.get(f"/quotes/{quote.number}").status_code == 200
    assert doctor.get(f"/quotes/{quote.number}/pdf").status_code == 404
