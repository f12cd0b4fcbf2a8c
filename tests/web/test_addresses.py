"""A practice's delivery addresses: verified clinicians add them (never a PO box), choose the
default and remove them; checkout offers exactly these; orders keep the address they used."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from shop.accounts.models import User
from shop.errors import NotEligible
from shop.extensions import db
from shop.ordering import checkout
from shop.practices import addresses
from shop.practices.models import Address
from tests.factories import add_address, fill_cart, make_clinician, make_product, place_order
from tests.helpers import field_error, flashes, reload, text

NEW_ADDRESS = {
    "line1": "7 Oliver Plunkett Street",
    "line2": "First floor",
    "city": "Cork",
    "region": "Co. Cork",
    "postcode": "T12 K1P2",
    "country": "IE",
}


@pytest.fixture
def clinician():
    return make_clinician(on_account=True)


@pytest.fixture
def browser(signed_in, clinician):
    return signed_in(clinician)


def _addresses(practice_id):
    db.session.rollback()
    return db.session.scalars(db.select(Address).where(Address.practice_id == practice_id).order_by(Address.id)).all()


def test_a_clinician_adds_a_delivery_address_and_checkout_offers_it(browser, clinician):
    response = browser.post("/practice/addresses", NEW_ADDRESS)
    assert response.status_code == 303
    added = _addresses(clinician.practice_id)[-1]
    assert added.line1 == "7 Oliver Plunkett Street" and not added.is_default
    assert added.id in [a.id for a in checkout.delivery_addresses(reload(type(clinician), clinician.id))]
    assert "7 Oliver Plunkett Street" in text(browser.get("/practice"))


@pytest.mark.parametrize("line", ["PO Box 12", "P.O. Box 3", "Postfach 9", "PO-Box 12", "Locked Bag 5", "BP 123"])
def test_a_po_box_is_refused_with_a_message_and_nothing_is_added(browser, clinician, line):
    before = len(_addresses(clinician.practice_id))
    response = browser.post("/practice/addresses", {**NEW_ADDRESS, "line1": line})
    assert response.status_code == 422
    assert "PO box" in field_error(response, "line1")
    assert len(_addresses(clinician.practice_id)) == before


def test_missing_fields_get_messages_next_to_them(browser):
    response = browser.post("/practice/addresses", {"line1": "", "city": "", "postcode": "", "country": "IE"})
    assert response.status_code == 422
    assert field_error(response, "line1") and field_error(response, "city") and field_error(response, "postcode")


def test_the_default_can_be_moved_and_checkout_preselects_it(browser, clinician):
    browser.post("/practice/addresses", NEW_ADDRESS)
    first, second = _addresses(clinician.practice_id)
    response = browser.post(f"/practice/addresses/{second.id}/default")
    assert response.status_code == 303
    first, second = _addresses(clinician.practice_id)
    assert second.is_default and not first.is_default


def test_removing_the_default_makes_another_address_the_default(browser, clinician):
    browser.post("/practice/addresses", NEW_ADDRESS)
    first, second = _addresses(clinician.practice_id)
    browser.post(f"/practice/addresses/{first.id}/remove")
    [left] = _addresses(clinician.practice_id)
    assert left.id == second.id and left.is_default


def test_the_last_address_cannot_be_removed(browser, clinician):
    [only] = _addresses(clinician.practice_id)
    response = browser.post(f"/practice/addresses/{only.id}/remove")
    assert any("only address" in message for _, message in flashes(browser.get(response.headers["Location"])))
    assert len(_addresses(clinician.practice_id)) == 1


def test_another_practices_address_is_a_404_and_stays(browser, clinician):
    other = make_clinician(email="other@clinic.example")
    [theirs] = _addresses(other.practice_id)
    for action in ("default", "remove"):
        assert browser.post(f"/practice/addresses/{theirs.id}/{action}").status_code == 404
    assert len(_addresses(other.practice_id)) == 1


def test_removing_an_address_leaves_the_orders_that_used_it_unchanged(browser, clinician):
    make_product(sku="ADDR-1", price_cents=10_000, stock=10)
    fill_cart(clinician, ("ADDR-1", 1))
    order = place_order(clinician)
    shipped_to = order.ship_to
    browser.post("/practice/addresses", {**NEW_ADDRESS, "make_default": "y"})
    first = _addresses(clinician.practice_id)[0]
    browser.post(f"/practice/addresses/{first.id}/remove")
    assert reload(type(order), order.id).ship_to == shipped_to


def test_two_removals_at_the_same_moment_keep_one_address_and_say_why_to_the_second(ctx, clinician):
    """Each removal alone would be fine; together they would leave the practice nowhere to
    ship. The second waits for the first, sees one address left and is refused."""
    second = add_address(clinician, "8 Oliver Plunkett Street")
    first_id, second_id, user_id = _addresses(clinician.practice_id)[0].id, second.id, clinician.id
    start = threading.Barrier(2)

    def remove(address_id: int) -> str:
        with ctx.app_context():
            try:
                user = db.session.get(User, user_id)
                db.session.rollback()
                start.wait(timeout=30)
                addresses.remove_address(user, address_id)
                return "removed"
            except NotEligible as refused:
                return refused.message
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(remove, [first_id, second_id], timeout=60))

    assert outcomes == ["This is the practice's only address; add another before removing it.", "removed"]
    [left] = _addresses(clinician.practice_id)
    assert left.is_default
