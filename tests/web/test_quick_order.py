"""Quick order: pasted `SKU quantity` lines or an uploaded CSV fill the cart at once, with a
report on every line that says what was added and what was not, and why."""

from __future__ import annotations

import re
from html import unescape

import pytest

from shop.accounts import verification
from shop.accounts.licences import ApplicationStatus
from shop.accounts.models import Profession
from shop.cart.models import CartLine
from tests.factories import make_applicant, make_clinician, make_product, make_staff, variant_with_breaks
from tests.helpers import cart_rows, field_error, row_count, text


def report_of(response) -> list[tuple[str, bool, str]]:
    """The quick-order report: (line as written, added?, message) for each line."""
    html = response.get_data(as_text=True)
    items = re.findall(
        r'<li class="report-(ok|problem)">.*?<span class="report-line">Line (\d+): <code>(.*?)</code></span>'
        r' <span class="report-message">(?:<span class="visually-hidden">Not added: </span>)?(.*?)</span></li>',
        html,
        re.S,
    )
    return [
        (f"{number}: {unescape(line)}", kind == "ok", unescape(message).strip())
        for kind, number, line, message in items
    ]


def in_cart(browser) -> dict[str, str]:
    """SKU → quantity of each line of the cart."""
    found = {}
    for row in cart_rows(browser.get("/cart")):
        sku = re.search(r"· (\S+) ·", row["Product"])
        found[sku.group(1)] = row["quantity"]
    return found


def paste(browser, lines: str):
    """Send a quick order and land where the browser lands: the cart with the report (after a
    redirect), or the form again with what to correct."""
    return browser.post("/cart/quick-order", {"lines": lines}, follow_redirects=True)


def upload(browser, content: bytes, filename: str = "order.csv", **fields):
    return browser.post(
        "/cart/quick-order", {"csv_file": (content, filename, "text/csv"), **fields}, follow_redirects=True
    )


@pytest.fixture
def clinician():
    return make_clinician()


@pytest.fixture
def browser(signed_in, clinician):
    return signed_in(clinician)


@pytest.fixture
def skus():
    """Three products the shop sells: A (50 in stock), B (50) and C (4)."""
    return {
        "A": variant_with_breaks(price_cents=10000, stock=50, name="Alpha Booster", sku="ALP-1").sku,
        "B": variant_with_breaks(price_cents=5000, stock=50, name="Beta Meso", sku="BET-5ML").sku,
        "C": variant_with_breaks(price_cents=20000, stock=4, name="Gamma Filler", sku="GAM-2X1").sku,
    }


# --- what is understood -----------------------------------------------------------------


def test_pasted_lines_fill_the_cart_and_the_report_lists_each_one(browser, skus):
    response = paste(browser, "ALP-1 3\nBET-5ML 12\n")
    assert response.status_code == 200
    assert "Quick order: 2 of 2 lines added" in text(response)
    assert report_of(response) == [
        ("1: ALP-1 3", True, "Added 3 × Alpha Booster (ALP-1)."),
        ("2: BET-5ML 12", True, "Added 12 × Beta Meso (BET-5ML)."),
    ]
    assert in_cart(browser) == {"ALP-1": "3", "BET-5ML": "12"}


@pytest.mark.parametrize(
    "pasted",
    [
        "ALP-1 3\nBET-5ML 12",
        "ALP-1\t3\nBET-5ML\t12",  # a spreadsheet paste
        "ALP-1,3\nBET-5ML,12",
        "ALP-1;3\r\nBET-5ML;12\r\n",  # a European CSV from Windows
        "  alp-1   3  \n\n   bet-5ml , 12 ",
        '"ALP-1","3"\n"BET-5ML","12"',
        "SKU,Quantity\nALP-1,3\nBET-5ML,12",
        "sku;qty\nALP-1;3\nBET-5ML;12",
        "SKU\tQuantity\nALP-1\t3\nBET-5ML\t12",
        "# my monthly order\nALP-1 3\n# meso\nBET-5ML 12",
        "ALP-1,3,,\nBET-5ML,12,,",  # trailing empty spreadsheet columns
    ],
)
def test_the_usual_ways_of_writing_sku_and_quantity_are_understood(browser, skus, pasted):
    response = paste(browser, pasted)
    assert response.status_code == 200
    assert [added for _, added, _ in report_of(response)] == [True, True]
    assert in_cart(browser) == {"ALP-1": "3", "BET-5ML": "12"}


def test_line_numbers_in_the_report_are_the_lines_the_clinician_wrote(browser, skus):
    response = paste(browser, "SKU,Quantity\n\nALP-1,3\n\n\nrubbish here\nBET-5ML,1")
    assert [line for line, _, _ in report_of(response)] == ["3: ALP-1,3", "6: rubbish here", "7: BET-5ML,1"]


def test_the_same_sku_twice_adds_both_quantities(browser, skus):
    paste(browser, "ALP-1 2\nalp-1 3")
    assert in_cart(browser) == {"ALP-1": "5"}


def test_a_quick_order_adds_to_what_is_already_in_the_cart(browser, skus):
    browser.post("/cart/add", {"sku": "ALP-1", "quantity": "2"})
    paste(browser, "ALP-1 3")
    assert in_cart(browser) == {"ALP-1": "5"}


def test_quick_order_quantities_get_volume_prices(browser, skus):
    paste(browser, "ALP-1 10")
    [row] = cart_rows(browser.get("/cart"))
    assert row["Unit price"].startswith("$90.00") and row["Line total"] == "$900.00" and not row["marked"]


# --- what is not ------------------------------------------------------------------------


def test_every_line_that_is_not_added_says_why_and_the_rest_is_added(browser, skus):
    make_product(name="Rx Only", sku="RXO-1", prescription_only=True)
    make_product(name="Overseas", sku="OVS-1", market="US")
    make_product(name="Sold Out", sku="OUT-1", stock=0)
    make_product(name="Gone", sku="GON-1", discontinued=True)

    response = paste(
        browser,
        "\n".join(
            [
                "ALP-1 2",
                "just some words",
                "ALP-1 two",
                "ALP-1 1.5",
                "ALP-1 -3",
                "ALP-1 2 boxes",
                "NOPE-99 1",
                "OVS-1 1",
                "OUT-1 1",
                "GON-1 1",
                "GAM-2X1 5",
                "BET-5ML 0",
                "BET-5ML 1000",
                "BET-5ML 1234567",
                "RXO-1 1",
            ]
        ),
    )
    assert response.status_code == 200
    report = report_of(response)
    assert "Quick order: 2 of 15 lines added" in text(response)
    reasons = {line: message for line, _, message in report}
    assert reasons["1: ALP-1 2"].startswith("Added 2")
    assert reasons["2: just some words"] == "Not understood: write the SKU, then the quantity."
    assert reasons["3: ALP-1 two"] == "Not understood: the quantity must be a whole number of packs."
    assert reasons["4: ALP-1 1.5"].startswith("Not understood")
    assert reasons["5: ALP-1 -3"].startswith("Not understood")
    assert reasons["6: ALP-1 2 boxes"].startswith("Not understood")
    assert reasons["7: NOPE-99 1"] == "There is no product with the SKU 'NOPE-99'."
    assert reasons["8: OVS-1 1"] == "Overseas (OVS-1) is not cleared for sale in our market (EU)."
    assert reasons["9: OUT-1 1"] == "OUT-1 is out of stock."
    assert reasons["10: GON-1 1"] == "Gone (GON-1) is no longer sold."
    assert reasons["11: GAM-2X1 5"] == "Only 4 of GAM-2X1 are in stock."
    assert reasons["12: BET-5ML 0"] == "Enter a quantity between 1 and 999."
    assert reasons["13: BET-5ML 1000"] == "Enter a quantity between 1 and 999."
    assert reasons["14: BET-5ML 1234567"].startswith("Not understood")
    assert reasons["15: RXO-1 1"].startswith("Added 1")  # a physician is a prescriber
    assert in_cart(browser) == {"ALP-1": "2", "RXO-1": "1"}


def test_prescription_only_lines_are_refused_to_a_nurse_who_is_not_a_prescriber(signed_in, skus):
    make_product(name="Rx Only", sku="RXO-1", prescription_only=True)
    nurse = make_applicant(profession=Profession.REGISTERED_NURSE)
    verification.decide(nurse.application.id, make_staff(), ApplicationStatus.APPROVED)
    browser = signed_in(nurse)

    response = paste(browser, "RXO-1 1\nALP-1 1")
    assert report_of(response) == [
        ("1: RXO-1 1", False, "Rx Only (RXO-1) is prescription-only and can be ordered by prescribers only."),
        ("2: ALP-1 1", True, "Added 1 × Alpha Booster (ALP-1)."),
    ]
    assert in_cart(browser) == {"ALP-1": "1"}


def test_a_report_shows_odd_input_as_text_not_markup(browser, skus):
    response = paste(browser, "<script>alert(1)</script> 1\nALP-1 1")
    html = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
    assert report_of(response)[0][1] is False


def test_control_characters_and_very_long_lines_are_reported_not_fatal(browser, skus):
    response = paste(browser, "ALP-1\x00 1\n" + "X" * 10_000 + " 1\nBET-5ML\x07 2")
    assert response.status_code == 200
    report = report_of(response)
    assert [added for _, added, _ in report] == [True, False, True]
    assert len(report[1][0]) < 200
    assert in_cart(browser) == {"ALP-1": "1", "BET-5ML": "2"}


# --- the form ---------------------------------------------------------------------------


def test_an_empty_quick_order_asks_for_lines(browser):
    for pasted in ("", "   \n\n  ", "# only a comment"):
        response = paste(browser, pasted)
        assert response.status_code == 422
        assert field_error(response, "lines")
    assert row_count(CartLine) == 0


def test_a_header_alone_is_not_an_order(browser):
    response = paste(browser, "sku,quantity\n")
    assert response.status_code == 422
    assert field_error(response, "lines") == "There is no line of SKU and quantity in it."


def test_more_than_200_lines_are_refused_and_nothing_is_added(browser, skus):
    response = paste(browser, "\n".join(["BET-5ML 1"] * 201))
    assert response.status_code == 422
    assert field_error(response, "lines") == (
        "That is 201 lines; a quick order takes at most 200. Split it into smaller parts."
    )
    assert row_count(CartLine) == 0
    response = paste(browser, "\n".join(["ALP-1 1"] * 50))
    assert response.status_code == 200 and in_cart(browser) == {"ALP-1": "50"}


def test_a_paste_longer_than_the_box_takes_is_refused(browser, skus):
    response = paste(browser, "ALP-1 1\n" * 3000)
    assert response.status_code == 422
    assert "at most 20,000 characters" in field_error(response, "lines")
    assert row_count(CartLine) == 0


def test_the_pasted_lines_stay_in_the_box_after_a_refusal(browser):
    response = paste(browser, "\n".join(["BET-5ML 1"] * 201))
    assert "BET-5ML 1\nBET-5ML 1" in unescape(response.get_data(as_text=True))


# --- CSV upload -------------------------------------------------------------------------


def test_an_uploaded_csv_fills_the_cart(browser, skus):
    response = upload(browser, b"\xef\xbb\xbfsku,quantity\r\nALP-1,3\r\nbet-5ml,12\r\nNOPE-1,2\r\n")
    assert response.status_code == 200
    assert report_of(response) == [
        ("2: ALP-1,3", True, "Added 3 × Alpha Booster (ALP-1)."),
        ("3: bet-5ml,12", True, "Added 12 × Beta Meso (BET-5ML)."),
        ("4: NOPE-1,2", False, "There is no product with the SKU 'NOPE-1'."),
    ]
    assert in_cart(browser) == {"ALP-1": "3", "BET-5ML": "12"}


def test_a_semicolon_csv_with_quotes_from_a_spreadsheet_works(browser, skus):
    response = upload(browser, b'"SKU";"Qty"\n"ALP-1";"3"\n', filename="Order export.CSV")
    assert [added for _, added, _ in report_of(response)] == [True]
    assert in_cart(browser) == {"ALP-1": "3"}


@pytest.mark.parametrize(
    "content",
    [
        "sku,quantity\nALP-1,3\nBÉT,1\n".encode("latin-1"),
        "sku,quantity\nALP-1,3\n".encode("utf-16"),
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe",
    ],
)
def test_a_file_that_is_not_utf8_text_gets_a_message_by_the_field(browser, skus, content):
    response = upload(browser, content, filename="order.csv")
    assert response.status_code == 422
    assert field_error(response, "csv_file") == (
        "The file is not a text (CSV) file. Save it as CSV UTF-8 and try again."
    )
    assert row_count(CartLine) == 0


def test_an_oversized_csv_gets_a_message_by_the_field(browser, skus):
    response = upload(browser, b"ALP-1,1\n" * 70_000)  # 560 KB
    assert response.status_code == 422
    assert field_error(response, "csv_file") == "The file is larger than 512 KB. Split it, or paste the lines instead."
    assert row_count(CartLine) == 0


def test_a_csv_of_more_than_200_rows_is_refused(browser, skus):
    response = upload(browser, b"sku,quantity\n" + b"ALP-1,1\n" * 201)
    assert response.status_code == 422
    assert "at most 200" in field_error(response, "csv_file")
    assert row_count(CartLine) == 0


def test_a_csv_with_one_enormous_row_is_not_understood_but_not_fatal(browser, skus):
    response = upload(browser, b"ALP-1," + b"9" * 300_000 + b"\nBET-5ML,1\n")
    assert response.status_code == 200
    assert [added for _, added, _ in report_of(response)] == [False, True]


def test_an_empty_csv_gets_a_message(browser):
    response = upload(browser, b"")
    assert response.status_code == 422
    assert field_error(response, "csv_file") == "The file has no lines."


def test_pasting_and_uploading_at_once_is_refused_so_nothing_is_silently_ignored(browser, skus):
    response = upload(browser, b"ALP-1,3\n", lines="BET-5ML 2")
    assert response.status_code == 422
    assert field_error(response, "lines") == "Paste lines or choose a file, not both."
    assert row_count(CartLine) == 0


def test_the_file_chooser_offers_csv_files(browser):
    html = browser.get("/cart").get_data(as_text=True)
    chooser = re.search(r'<input[^>]*name="csv_file"[^>]*>', html).group(0)
    assert 'type="file"' in chooser
    accept = re.search(r'accept="([^"]*)"', chooser)
    assert accept is None or ".csv" in accept.group(1)


# --- after the redirect ---------------------------------------------------------------------


def test_reloading_the_report_shows_it_again_and_adds_nothing_twice(browser, skus):
    response = browser.post("/cart/quick-order", {"lines": "ALP-1 3\nNOPE-9 1"})
    assert response.status_code == 303
    report_page = response.headers["Location"]

    first, again = browser.get(report_page), browser.get(report_page)

    assert report_of(first) == report_of(again)
    assert [added for _, added, _ in report_of(again)] == [True, False]
    assert in_cart(browser) == {"ALP-1": "3"}
    assert "NOPE-9 1" in again.get_data(as_text=True)  # back in the box, to correct


def test_a_report_is_only_its_clinicians_own(browser, signed_in, skus):
    report_page = browser.post("/cart/quick-order", {"lines": "ALP-1 3"}).headers["Location"]
    stranger = signed_in(make_clinician())

    page = stranger.get(report_page)

    assert page.status_code == 200 and report_of(page) == []


@pytest.mark.parametrize("report", ["0", "-1", "99999999999999999999", "abc"])
def test_a_report_address_that_makes_no_sense_shows_the_cart(browser, report):
    page = browser.get(f"/cart?report={report}")
    assert page.status_code == 200 and report_of(page) == []
