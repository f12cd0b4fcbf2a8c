"""A practice's payment terms in the back office: whether it may pay on account, in how many
days, up to what credit limit; what the clinicians of that practice then see at checkout; and
messages next to the fields for anything that is not a sensible value."""

from __future__ import annotations

import re

import pytest

from shop.practices.models import Practice
from tests.factories import clinician_with_cart, make_clinician, make_staff, make_variant, place_order
from tests.helpers import field_error, flashes, redirect_path, reload, text


@pytest.fixture
def desk(signed_in):
    return signed_in(make_staff(full_name="Siobhan Daly"))


AMOUNT = "Enter an amount such as 2500 or 2500.50."


def _terms(practice_id: int) -> tuple:
    practice = reload(Practice, practice_id)
    return practice.on_account, practice.payment_terms_days, practice.credit_limit_cents


def test_the_practice_page_shows_its_members_addresses_terms_and_open_invoices(desk):
    make_variant("VIT-1", price_cents=10_000)
    user = clinician_with_cart(("VIT-1", 2), full_name="Dr Maeve Byrne", credit_limit_cents=1_000_000)
    place_order(user)

    page = desk.get(f"/staff/practices/{user.practice_id}")

    assert page.status_code == 200
    shown = text(page)
    for expected in (
        "Dr Maeve Byrne Practice",
        "Dr Maeve Byrne",
        user.email,
        "12 Grand Parade",
        "Owed on account $264.45",
    ):
        assert expected in shown, expected
    html = page.get_data(as_text=True)
    assert re.search(r'<input checked id="on_account" name="on_account" type="checkbox"', html)
    assert re.search(r'<input [^>]*name="credit_limit"[^>]* value="10000.00">', html)


def test_staff_enable_paying_on_account_and_the_practices_clinicians_are_offered_it(desk, signed_in):
    make_variant("VIT-1")
    user = clinician_with_cart(("VIT-1", 1), on_account=False)
    clinician = signed_in(user)
    assert "On account" not in text(clinician.get("/checkout"))

    response = desk.post(
        f"/staff/practices/{user.practice_id}",
        {"on_account": "y", "payment_terms_days": "45", "credit_limit": "2500.50"},
    )

    assert response.status_code == 303 and redirect_path(response) == f"/staff/practices/{user.practice_id}"
    assert ("success", "Terms of Dr Ana Ruiz Practice are saved.") in flashes(desk.get(redirect_path(response)))
    assert _terms(user.practice_id) == (True, 45, 250_050)
    assert "On account (invoice) — credit available $2,500.50" in text(clinician.get("/checkout"))


def test_turning_on_account_off_withdraws_it_at_checkout(desk, signed_in):
    make_variant("VIT-1")
    user = clinician_with_cart(("VIT-1", 1))

    desk.post(f"/staff/practices/{user.practice_id}", {"payment_terms_days": "30", "credit_limit": "10000"})

    assert _terms(user.practice_id)[0] is False
    assert "On account" not in text(signed_in(user).get("/checkout"))


def test_a_lower_credit_limit_refuses_the_next_order_on_account(desk, signed_in):
    make_variant("VIT-1", price_cents=10_000)
    user = clinician_with_cart(("VIT-1", 2))

    desk.post(
        f"/staff/practices/{user.practice_id}", {"on_account": "y", "payment_terms_days": "30", "credit_limit": "100"}
    )

    page = text(signed_in(user).get("/checkout"))
    assert "credit available $100.00" in page


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"payment_terms_days": "", "credit_limit": "100"}, "payment_terms_days", "Enter the payment terms in days."),
        ({"payment_terms_days": "thirty", "credit_limit": "100"}, "payment_terms_days", "Not a valid integer value."),
        ({"payment_terms_days": "181", "credit_limit": "100"}, "payment_terms_days", "Between 0 and 180 days."),
        ({"payment_terms_days": "-1", "credit_limit": "100"}, "payment_terms_days", "Between 0 and 180 days."),
        ({"payment_terms_days": "1e3", "credit_limit": "100"}, "payment_terms_days", "Not a valid integer value."),
        (
            {"payment_terms_days": "99999999999999999999999", "credit_limit": "100"},
            "payment_terms_days",
            "Between 0 and 180 days.",
        ),
        ({"payment_terms_days": "30", "credit_limit": ""}, "credit_limit", "Enter the credit limit (0 for none)."),
        ({"payment_terms_days": "30", "credit_limit": "lots"}, "credit_limit", "Not a valid decimal value."),
        ({"payment_terms_days": "30", "credit_limit": "-5"}, "credit_limit", "Between 0 and 10,000,000."),
        ({"payment_terms_days": "30", "credit_limit": "10000000.01"}, "credit_limit", "Between 0 and 10,000,000."),
        ({"payment_terms_days": "30", "credit_limit": "1e400"}, "credit_limit", "Between 0 and 10,000,000."),
        ({"payment_terms_days": "30", "credit_limit": "NaN"}, "credit_limit", AMOUNT),
        ({"payment_terms_days": "30", "credit_limit": "sNaN"}, "credit_limit", AMOUNT),
        ({"payment_terms_days": "30", "credit_limit": "Infinity"}, "credit_limit", AMOUNT),
        ({"payment_terms_days": "30", "credit_limit": "-Infinity"}, "credit_limit", AMOUNT),
        ({"payment_terms_days": "30", "credit_limit": "1,000"}, "credit_limit", "Not a valid decimal value."),
    ],
)
def test_bad_terms_are_refused_with_a_message_next_to_the_field_and_nothing_saved(desk, fields, field, message):
    user = make_clinician()

    response = desk.post(f"/staff/practices/{user.practice_id}", {"on_account": "y", **fields})

    assert response.status_code == 422
    assert field_error(response, field) == message
    assert _terms(user.practice_id) == (False, 30, 0)


def test_an_amount_with_fractions_of_a_cent_is_rounded_to_the_cent(desk):
    user = make_clinician()

    desk.post(
        f"/staff/practices/{user.practice_id}",
        {"on_account": "y", "payment_terms_days": "30", "credit_limit": "1234.565"},
    )

    assert _terms(user.practice_id) == (True, 30, 123_457)


def test_an_unknown_practice_is_a_404(desk):
    assert desk.get("/staff/practices/999999").status_code == 404
    assert desk.get("/staff/practices/99999999999999").status_code == 404
    assert desk.get("/staff/practices/abc").status_code == 404
    assert desk.post("/staff/practices/999999", {"payment_terms_days": "30", "credit_limit": "1"}).status_code == 404


def test_terms_posted_without_the_csrf_token_are_not_saved(desk):
    user = make_clinician()

    response = desk.post(
        f"/staff/practices/{user.practice_id}",
        {"on_account": "y", "payment_terms_days": "30", "credit_limit": "5000"},
        csrf=False,
    )

    assert response.status_code == 303
    assert _terms(user.practice_id) == (False, 30, 0)


def test_the_practice_list_shows_which_practices_may_pay_on_account(desk):
    user = make_clinician(full_name="Dr Maeve Byrne")
    make_clinician(full_name="Dr Conor Healy")
    desk.post(
        f"/staff/practices/{user.practice_id}", {"on_account": "y", "payment_terms_days": "60", "credit_limit": "750"}
    )

    page = text(desk.get("/staff/practices"))

    assert "Dr Maeve Byrne Practice" in page and "Yes, net 60 $750.00" in page
    assert "Dr Conor Healy Practice" in page and " No " in page
