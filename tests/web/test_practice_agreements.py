"""A practice's agreements, set by the customers desk: a discount off list prices, prices agreed
per variant (which the catalogue, cart, quotes and checkout all use), and a suspension with the
reason its members are told. Every change is an event of the practice and an audit entry; only
the customers desk (and admins) change them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shop.access import Desk
from shop.catalogue.models import Variant
from shop.catalogue.price_lists import PriceAgreement, PriceList
from shop.core.audit import AuditEntry
from shop.errors import NotEligible
from shop.extensions import db
from shop.ordering.models import Order
from shop.practices.models import Practice, PracticeStatus
from tests.factories import (
    accept_quote,
    ask,
    clinician_with_cart,
    edit_draft,
    fill_cart,
    make_clinician,
    make_product,
    make_staff,
    make_variant,
    place_order,
    simple_quote,
)
from tests.helpers import cart_rows, field_error, flashes, post_checkout, redirect_path, reload, text


@pytest.fixture
def desk(signed_in):
    clerk = make_staff(full_name="Casey Clerk")
    return signed_in(clerk), clerk


def terms(credit_limit: str = "10000", discount: str = "0", **more) -> dict:
    return {"on_account": "y", "payment_terms_days": "30", "credit_limit": credit_limit, "discount": discount, **more}


def audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


# --- the rule -------------------------------------------------------------------------------------


def test_an_agreed_price_stands_unless_the_volume_price_is_lower_and_a_discount_applies_elsewhere():
    variant = make_variant("VIT-1", price_cents=10_000, breaks=((10, 8_000),))
    other = make_variant("VIT-2", price_cents=999)
    prices = PriceList(discount_bps=1_250, agreed={variant.id: 9_000})

    assert prices.unit_price(variant, 1) == 9_000
    assert prices.unit_price(variant, 10) == 8_000, "a practice never pays more than the list"
    assert prices.unit_price(other, 1) == 874, "12.5% off 9.99, rounded half up"
    assert prices.volume_prices(variant) == [(10, 8_000)]
    assert PriceList().unit_price(variant, 10) == 8_000


# --- a discount -----------------------------------------------------------------------------------


def test_the_customers_desk_gives_a_discount_and_the_practice_pays_it_everywhere(desk, signed_in):
    browser, clerk = desk
    make_product(sku="VIT-1", name="Skin Booster One", price_cents=10_000, stock=20)
    user = make_clinician(on_account=True)
    clinician = signed_in(user)

    response = browser.post(f"/staff/practices/{user.practice_id}", terms(discount="10"))

    assert response.status_code == 303
    assert reload(Practice, user.practice_id).discount_bps == 1_000
    [entry] = audit("practice.terms_changed")
    assert entry.actor_id == clerk.id and entry.changes["discount_bps"] == [0, 1_000]
    [event] = [e for e in reload(Practice, user.practice_id).events if e.action == "terms_changed"]
    assert "Discount: 0% → 10%" in event.note
    assert "$90.00" in text(clinician.get("/catalogue")) and "list $100.00" in text(clinician.get("/catalogue"))
    assert "$90.00" in text(clinician.get("/catalogue/" + _slug("VIT-1")))
    clinician.post("/cart/add", {"sku": "VIT-1", "quantity": "2"})
    [row] = cart_rows(clinician.get("/cart"))
    assert row["Unit price"].startswith("$90.00")
    placed = post_checkout(clinician)
    assert placed.status_code == 303
    order = db.session.scalar(select(Order).where(Order.placed_by_id == user.id))
    assert [(line.unit_price_cents, line.line_total_cents) for line in order.lines] == [(9_000, 18_000)]
    assert "$100.00" in text(signed_in(make_clinician()).get("/catalogue")), "another practice pays the list"


def _slug(sku: str) -> str:
    return db.session.scalar(select(Variant).where(Variant.sku == sku)).product.slug


@pytest.mark.parametrize(
    ("discount", "message"),
    [("95", "Between 0 and 90 percent."), ("-1", "Between 0 and 90 percent."), ("lots", "Not a valid decimal value.")],
)
def test_a_discount_out_of_bounds_gets_a_message_next_to_the_field(desk, discount, message):
    browser, _ = desk
    user = make_clinician()

    response = browser.post(f"/staff/practices/{user.practice_id}", terms(discount=discount))

    assert response.status_code == 422 and field_error(response, "discount") == message
    assert reload(Practice, user.practice_id).discount_bps == 0


def test_terms_are_read_only_to_the_orders_desk(signed_in):
    user = make_clinician()
    orders_desk = signed_in(make_staff(desks={Desk.ORDERS}))

    page = orders_desk.get(f"/staff/practices/{user.practice_id}")

    assert page.status_code == 200 and "The customers desk changes a practice's terms." in text(page)
    assert orders_desk.post(f"/staff/practices/{user.practice_id}", terms(discount="50")).status_code == 403
    assert orders_desk.post(f"/staff/practices/{user.practice_id}/suspend", {"reason": "x"}).status_code == 403
    assert reload(Practice, user.practice_id).discount_bps == 0


# --- agreed prices --------------------------------------------------------------------------------


def test_an_agreed_price_is_what_the_practice_sees_and_pays_and_quotes_start_from_it(desk, signed_in):
    browser, clerk = desk
    make_product(sku="VIT-1", name="Skin Booster One", price_cents=10_000, stock=50)
    user = make_clinician(on_account=True)
    neighbour = make_clinician(on_account=True)

    response = browser.post(f"/staff/practices/{user.practice_id}/prices", {"sku": "vit-1", "unit_price": "85"})

    assert response.status_code == 303
    page = text(browser.get(f"/staff/practices/{user.practice_id}/prices"))
    assert "VIT-1" in page and "$85.00" in page and "15.0%" in page
    [entry] = audit("practice.price_agreed")
    assert entry.actor_id == clerk.id and entry.changes == {"price:VIT-1": [None, 8_500]}
    assert "$85.00" in text(signed_in(user).get("/catalogue/" + _slug("VIT-1")))
    fill_cart(user, ("VIT-1", 3))
    fill_cart(neighbour, ("VIT-1", 3))
    mine, theirs = place_order(user), place_order(neighbour)
    assert mine.lines[0].unit_price_cents == 8_500 and theirs.lines[0].unit_price_cents == 10_000
    quote = ask(user, ("VIT-1", 4))
    version = edit_draft(clerk, quote)
    assert (version.lines[0].list_price_cents, version.lines[0].unit_price_cents) == (8_500, 8_500)


def test_agreeing_a_price_after_a_product_is_in_a_cart_flags_the_line_for_the_clinician(desk, signed_in):
    browser, _ = desk
    make_product(sku="VIT-1", price_cents=10_000, stock=50)
    user = clinician_with_cart(("VIT-1", 1))
    clinician = signed_in(user)

    browser.post(f"/staff/practices/{user.practice_id}/prices", {"sku": "VIT-1", "unit_price": "80"})

    [row] = cart_rows(clinician.get("/cart"))
    assert row["Unit price"].startswith("$80.00") and "was $100.00" in row["Unit price"]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"sku": "NOPE-1", "unit_price": "10"}, "sku", "NOPE-1"),
        ({"sku": "VIT-1", "unit_price": "100"}, "unit_price", "an agreed price is lower"),
        ({"sku": "VIT-1", "unit_price": "250"}, "unit_price", "an agreed price is lower"),
        ({"sku": "VIT-1", "unit_price": "0"}, "unit_price", "more than zero"),
        ({"sku": "VIT-1", "unit_price": "abc"}, "unit_price", "Not a valid decimal value."),
        ({"sku": "VIT-1", "unit_price": "NaN"}, "unit_price", "Enter an amount"),
        ({"sku": "", "unit_price": "10"}, "sku", "Enter the SKU."),
        ({"sku": "X" * 41, "unit_price": "10"}, "sku", "40"),
    ],
)
def test_a_price_that_cannot_be_agreed_gets_a_message_next_to_the_field(desk, fields, field, message):
    browser, _ = desk
    make_product(sku="VIT-1", price_cents=10_000)
    user = make_clinician()

    response = browser.post(f"/staff/practices/{user.practice_id}/prices", fields)

    assert response.status_code == 422 and message in field_error(response, field)
    assert db.session.scalar(select(PriceAgreement)) is None


def test_agreeing_again_replaces_the_price_and_removing_it_restores_the_list_price(desk, signed_in):
    browser, _ = desk
    make_product(sku="VIT-1", price_cents=10_000, stock=10)
    user = make_clinician()
    url = f"/staff/practices/{user.practice_id}/prices"
    browser.post(url, {"sku": "VIT-1", "unit_price": "90"})
    browser.post(url, {"sku": "VIT-1", "unit_price": "88.50"})
    [agreement] = db.session.scalars(select(PriceAgreement)).all()
    assert agreement.unit_price_cents == 8_850

    browser.post(f"{url}/{agreement.id}/remove")

    assert db.session.scalar(select(PriceAgreement)) is None
    assert [e.changes for e in audit("practice.price_agreed")] == [
        {"price:VIT-1": [None, 9_000]},
        {"price:VIT-1": [9_000, 8_850]},
        {"price:VIT-1": [8_850, None]},
    ]
    assert "list $" not in text(signed_in(user).get("/catalogue/" + _slug("VIT-1")))


def test_another_practices_agreed_price_is_a_404_and_the_orders_desk_only_reads(desk, signed_in):
    browser, _ = desk
    make_product(sku="VIT-1", price_cents=10_000)
    mine, theirs = make_clinician(), make_clinician()
    browser.post(f"/staff/practices/{theirs.practice_id}/prices", {"sku": "VIT-1", "unit_price": "90"})
    agreement = db.session.scalar(select(PriceAgreement))
    reader = signed_in(make_staff(desks={Desk.ORDERS}))

    assert browser.post(f"/staff/practices/{mine.practice_id}/prices/{agreement.id}/remove").status_code == 404
    assert reader.get(f"/staff/practices/{theirs.practice_id}/prices").status_code == 200
    assert "Agree a price" not in text(reader.get(f"/staff/practices/{theirs.practice_id}/prices"))
    assert (
        reader.post(f"/staff/practices/{theirs.practice_id}/prices", {"sku": "VIT-1", "unit_price": "1"}).status_code
        == 403
    )
    assert reload(agreement).unit_price_cents == 9_000


# --- suspension -----------------------------------------------------------------------------------


def test_a_suspended_practice_sees_why_keeps_its_history_and_cannot_order_or_accept_quotes(desk, signed_in):
    browser, clerk = desk
    make_product(sku="VIT-1", price_cents=10_000, stock=20)
    user = clinician_with_cart(("VIT-1", 1))
    earlier = place_order(user)
    setup = simple_quote(user, clerk, sku="VIT-Q1")
    fill_cart(user, ("VIT-1", 1))
    clinician = signed_in(user)

    response = browser.post(
        f"/staff/practices/{user.practice_id}/suspend", {"reason": "Three invoices are over 60 days overdue."}
    )

    assert response.status_code == 303
    practice = reload(Practice, user.practice_id)
    assert practice.status == PracticeStatus.SUSPENDED
    [entry] = audit("practice.suspended")
    assert entry.actor_id == clerk.id and entry.changes["status"] == ["active", "suspended"]
    page = text(clinician.get("/catalogue"))
    assert "Ordering is suspended for" in page and "Three invoices are over 60 days overdue" in page
    assert redirect_path(clinician.get("/checkout")) == "/cart"
    assert "Ordering is suspended for your practice" in text(clinician.get("/cart"))
    assert clinician.get(f"/orders/{earlier.number}").status_code == 200
    with pytest.raises(NotEligible, match="Ordering is suspended"):
        place_order(reload(user))
    with pytest.raises(NotEligible, match="Ordering is suspended"):
        accept_quote(reload(user), setup.number)
    refused = clinician.get(f"/quotes/{setup.number}/accept")
    assert refused.status_code == 303
    assert any("Ordering is suspended" in message for _, message in flashes(clinician.get(redirect_path(refused))))

    browser.post(f"/staff/practices/{user.practice_id}/reinstate", {"note": "Paid in full by transfer."})

    assert reload(Practice, user.practice_id).status == PracticeStatus.ACTIVE
    assert "practice-suspended" not in clinician.get("/catalogue").get_data(as_text=True)
    assert place_order(reload(user)).number


def test_suspending_without_a_reason_or_twice_is_refused_with_a_message(desk):
    browser, _ = desk
    user = make_clinician()
    url = f"/staff/practices/{user.practice_id}"

    blank = browser.post(f"{url}/suspend", {"reason": "  "})
    browser.post(f"{url}/suspend", {"reason": "Licence under review."})
    twice = browser.post(f"{url}/suspend", {"reason": "Again."})
    lifted_blank = browser.post(f"{url}/reinstate", {"note": ""})

    assert blank.status_code == 422 and field_error(blank, "reason")
    assert twice.status_code == 422 and "cannot become" in text(twice)
    assert lifted_blank.status_code == 422 and field_error(lifted_blank, "note")
    assert reload(Practice, user.practice_id).suspension_reason == "Licence under review."
    assert flashes(browser.get(url)) == []
