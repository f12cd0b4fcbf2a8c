"""The quote as a PDF on the supplier's letterhead, read back with pypdf: the number, version,
validity, every line and every total are the numbers of the quote page (both come from
shop.quoting.document.quote_document) and of the database, names with accents print, and SKUs and
amounts never break across lines."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shop import clock
from shop.catalogue.models import Variant
from shop.core.formatting import long_date, money
from shop.extensions import db
from shop.quoting import builder as quote_builder
from shop.quoting import quotes
from shop.quoting.document import quote_document, quote_pdf
from shop.quoting.models import QuoteVersion
from tests.factories import issue, issued_quote, make_catalogue, make_clinician, make_staff, make_variant
from tests.helpers import pdf_page_count, pdf_text, reload, text


@pytest.fixture
def clinician():
    return make_clinician(full_name="Dr Ana Ruiz")


@pytest.fixture
def staff():
    return make_staff(full_name="Jordan Lee")


@pytest.fixture
def quote(clinician, staff):
    make_variant("VIT-1", name="Vital Booster", price_cents=13_900, breaks=((10, 12_500),))
    make_variant("HYD-2", name="Hydro Booster", price_cents=999)
    return issued_quote(
        clinician,
        staff,
        ("VIT-1", 12),
        ("HYD-2", 3),
        others=(("Hyaluronidase 1500 IU", 2),),
        prices={"HYD-2": (None, 5_000), "Hyaluronidase 1500 IU": (4_550, 0)},
        shipping_cents=1_250,
        valid_until=clock.today() + timedelta(days=20),
        note="Prices held for the May order.",
        terms="Net 30 days from invoice.",
    )


def row_of(line) -> str:
    """A document line's figures as the PDF's table row reads back."""
    return " ".join(
        part for part in (str(line.quantity), line.list_price, line.discount, line.unit_price, line.total) if part
    )


def test_the_pdf_carries_the_suppliers_letterhead(quote, ctx):
    content = pdf_text(quote_pdf(quote, quote.latest_sent))

    config = ctx.config
    for expected in (
        config["SHOP_NAME"],
        config["SHOP_ADDRESS"],
        f"Customer care {config['CUSTOMER_CARE_PHONE']}",
        f"Quotes and orders {config['ORDERS_PHONE']}",
        f"Fax {config['FAX_NUMBER']}",
        config["QUOTES_DESK_EMAIL"],
        config["ORDERS_DESK_EMAIL"],
        config["CUSTOMER_CARE_EMAIL"],
    ):
        assert expected in content, expected


def test_the_pdf_names_the_quote_its_version_validity_and_the_practice(quote, clinician):
    version = quote.latest_sent

    content = pdf_text(quote_pdf(quote, version))

    assert f"Quote {quote.number} (v1)" in content
    assert f"Valid until {long_date(version.valid_until)} (end of day)" in content
    assert f"Issued {long_date(clock.local(version.sent_at).date())}" in content
    assert clinician.practice.name in content and "Dr Ana Ruiz" in content and clinician.email in content
    assert clinician.application.licence_number in content
    assert f"{quote.number} v1 · page 1 of 1" in content
    assert f"http://shop.test/quotes/{quote.number}" in content


def test_every_line_and_total_in_the_pdf_is_the_documents_and_the_databases(quote):
    version = quote.latest_sent
    document = quote_document(quote, version)

    content = pdf_text(quote_pdf(quote, version))

    assert len(document.lines) == len(version.lines) == 3
    for shown, stored in zip(document.lines, version.lines, strict=True):
        assert (shown.quantity, shown.unit_price, shown.total) == (
            stored.quantity,
            money(stored.unit_price_cents, "USD"),
            money(stored.line_total_cents, "USD"),
        )
        assert shown.sku in content
        assert row_of(shown) in content, (row_of(shown), content)
    assert [row_of(line) for line in document.lines] == [
        "12 $125.00 $125.00 $1,500.00",
        "3 $9.99 50% $5.00 $15.00",
        "2 $45.50 $45.50 $91.00",
    ]
    assert (document.subtotal, document.shipping, document.tax, document.total) == (
        money(version.subtotal_cents, "USD"),
        money(version.shipping_cents, "USD"),
        money(version.tax_cents, "USD"),
        money(version.total_cents, "USD"),
    )
    assert (version.subtotal_cents, version.shipping_cents, version.tax_cents, version.total_cents) == (
        160_600,
        1_250,
        37_226,
        199_076,
    )
    for label, value in (
        ("Subtotal", "$1,606.00"),
        ("Shipping", "$12.50"),
        ("VAT (23%)", "$372.26"),  # 23% of 1,618.50 is 372.255
        ("Total", "$1,990.76"),
    ):
        assert f"{label} {value}" in content, label


def test_the_note_and_terms_are_printed(quote):
    content = pdf_text(quote_pdf(quote, quote.latest_sent))

    assert "Prices held for the May order." in content
    assert "Net 30 days from invoice." in content


def test_the_quote_page_and_its_pdf_show_the_same_numbers(signed_in, clinician, staff, quote):
    version = quote.latest_sent
    document = quote_document(quote, version)
    expected = [
        document.number,
        document.version,
        document.valid_until,
        document.subtotal,
        document.shipping,
        document.tax_label,
        document.tax,
        document.total,
        *document.contacts,
        *(value for line in document.lines for value in (line.sku, line.unit_price, line.total)),
    ]

    for browser, page_url, pdf_url in (
        (signed_in(clinician), f"/quotes/{quote.number}", f"/quotes/{quote.number}/pdf"),
        (signed_in(staff), f"/staff/quotes/{quote.number}", f"/staff/quotes/{quote.number}/pdf?version=1"),
    ):
        page = text(browser.get(page_url))
        response = browser.get(pdf_url)
        assert response.mimetype == "application/pdf"
        assert f"filename={quote.number}-v1.pdf" in response.headers["Content-Disposition"]
        content = pdf_text(response.data)
        for value in expected:
            assert value in page, (page_url, value)
            assert value in content, (pdf_url, value)


def test_product_names_with_accents_and_symbols_print(clinician, staff):
    make_variant("JUV-HYD-1", name="Juvéderm Hydrate", price_cents=11_500)
    quote = issued_quote(clinician, staff, ("JUV-HYD-1", 2), others=(("Crème anesthésiante — 30 g, 5 × tubes", 1),))

    content = pdf_text(quote_pdf(quote, quote.latest_sent))

    assert "Juvéderm Hydrate" in content
    assert "Crème anesthésiante — 30 g, 5 × tubes" in content


def test_skus_and_large_amounts_print_whole_without_breaking_across_lines(clinician, staff):
    make_catalogue()
    skus = db.session.scalars(db.select(Variant.sku).order_by(Variant.sku)).all()
    quote = quote_builder.start_quote(staff, clinician)
    for sku in [sku for sku in skus if quotes.sku_problem(clinician, sku) is None][:12]:
        quote_builder.add_line(staff, reload(quote), sku=sku, quantity=60, unit_price_cents=999_999)
    version = reload(quote).draft

    content = pdf_text(quote_pdf(reload(quote), version))

    assert len(version.lines) == 12
    for line in version.lines:
        assert line.sku in content, line.sku
        assert f"60 {money(line.list_price_cents, 'USD')} $9,999.99 $599,999.40" in content, line.sku
    assert version.total_cents == 885_599_114
    assert "Total $8,855,991.14" in content


def test_a_long_quote_runs_over_numbered_pages_and_keeps_every_line(clinician, staff):
    make_variant("VIT-1", name="Vital Booster")
    quote = quote_builder.start_quote(staff, clinician)
    for n in range(60):
        quote_builder.add_line(
            staff, reload(quote), description=f"Custom item number {n:02d}", quantity=1, unit_price_cents=100
        )
    quote_builder.add_line(staff, reload(quote), sku="VIT-1", quantity=1)
    quote = reload(quote)

    data = quote_pdf(quote, quote.draft)

    pages = pdf_page_count(data)
    content = pdf_text(data)
    assert pages >= 2
    assert f"page 1 of {pages}" in content and f"page {pages} of {pages}" in content
    assert all(f"Custom item number {n:02d}" in content for n in range(60))
    assert "VIT-1" in content and "Total $" in content


def test_each_version_has_its_own_pdf_with_its_own_number_and_prices(clinician, staff, quote):
    issue(staff, quote, prices={"VIT-1": (11_000, 0)})
    quote = reload(quote)
    v1, v2 = quote.versions

    first, second = pdf_text(quote_pdf(quote, v1)), pdf_text(quote_pdf(quote, v2))

    assert f"Quote {quote.number} (v1)" in first and "12 $125.00 $125.00 $1,500.00" in first
    assert f"Quote {quote.number} (v2)" in second and "12 $125.00 $110.00 $1,320.00" in second
    assert money(v1.total_cents, "USD") in first and money(v2.total_cents, "USD") in second
    assert v1.total_cents != v2.total_cents
    assert db.session.get(QuoteVersion, v1.id).lines[0].unit_price_cents == 12_500
