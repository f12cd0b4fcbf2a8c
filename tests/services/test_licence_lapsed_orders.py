"""A lapsed licence orders nothing, at the moment it lapses, whether or not `check-licences`
ever ran: the web checkout, a quote's acceptance and an order keyed in by the orders desk all
refuse the clinician from the first second of the day after the expiry date (shop time), until
a renewed licence is uploaded and approved; what they ordered before stays on record."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine

from shop.accounts import verification
from shop.accounts.licences import ApplicationStatus, LicenceReminder
from shop.errors import NotEligible
from shop.ordering import desk_orders
from shop.ordering.checkout import CheckoutRequest
from shop.ordering.models import OrderChannel, PaymentMethod
from shop.quoting.models import Quote, QuoteStatus
from tests.factories import (
    accept_quote,
    fill_cart,
    make_clinician,
    make_staff,
    make_variant,
    place_order,
    simple_quote,
    upload,
)
from tests.helpers import cart_lines, order_count, orders_of, reload, row_count, stock_of

EXPIRY = date(2027, 6, 30)
# The last second of the expiry date in Dublin (summer time), and the first of the next day.
LAST_SECOND = datetime(2027, 6, 30, 22, 59, 59, tzinfo=UTC)
LAPSED = datetime(2027, 6, 30, 23, 0, 0, tzinfo=UTC)
RENEWED = date(2029, 6, 30)


@pytest.fixture
def traveller():
    with time_machine.travel(datetime(2027, 6, 1, 9, tzinfo=UTC), tick=False) as travelling:
        yield travelling


def renew(clinician, staff) -> None:
    """The clinician uploads a renewed licence after the lapse; the order stays refused until
    the desk approves it."""
    verification.submit_document(reload(clinician), upload(), RENEWED, "Renewed.")


def test_checkout_refuses_a_lapsed_licence_until_a_renewed_one_is_approved(traveller):
    make_variant("LAP-1", price_cents=10_000, stock=50)
    clinician = make_clinician(on_account=True, licence_expiry=EXPIRY)
    staff = make_staff()
    fill_cart(clinician, ("LAP-1", 1))
    traveller.move_to(LAST_SECOND)
    first = place_order(reload(clinician))
    fill_cart(reload(clinician), ("LAP-1", 2))

    traveller.move_to(LAPSED)
    with pytest.raises(NotEligible) as refused:
        place_order(reload(clinician))
    assert refused.value.message == "Your account is not verified to order."
    assert [o.number for o in orders_of(clinician.id)] == [first.number]  # history stays
    assert cart_lines(reload(clinician)) == [("LAP-1", 2)] and stock_of("LAP-1") == 49
    assert row_count(LicenceReminder) == 0  # the check never ran: the rule holds by itself

    renew(clinician, staff)
    with pytest.raises(NotEligible):
        place_order(reload(clinician))  # uploaded, not yet approved
    verification.decide(clinician.application.id, staff, ApplicationStatus.APPROVED)
    again = place_order(reload(clinician))
    assert again.licence_expiry == RENEWED and order_count() == 2


def test_quote_acceptance_refuses_a_lapsed_licence_until_a_renewed_one_is_approved(traveller):
    clinician = make_clinician(on_account=True, licence_expiry=EXPIRY)
    setup = simple_quote(clinician, valid_until=date(2027, 7, 20))

    traveller.move_to(LAPSED)
    with pytest.raises(NotEligible) as refused:
        accept_quote(reload(clinician), setup.number)
    assert refused.value.message == "Your account is not verified to order."
    assert reload(Quote, setup.number).status == QuoteStatus.SENT and order_count() == 0

    renew(clinician, setup.staff)
    with pytest.raises(NotEligible):
        accept_quote(reload(clinician), setup.number)
    verification.decide(clinician.application.id, setup.staff, ApplicationStatus.APPROVED)
    order = accept_quote(reload(clinician), setup.number)
    assert reload(Quote, setup.number).status == QuoteStatus.ACCEPTED and order.licence_expiry == RENEWED


def desk_order(practice_id: int, clinician_id: int, address_id: int, total: int) -> desk_orders.DeskOrder:
    return desk_orders.DeskOrder(
        practice_id=practice_id,
        clinician_id=clinician_id,
        lines="LAP-1 2",
        address_id=address_id,
        channel=OrderChannel.PHONE,
        checkout=CheckoutRequest(
            address_id=address_id, payment_method=PaymentMethod.ACCOUNT, expected_total_cents=total
        ),
    )


def offered(owner) -> list[int]:
    """The clinicians the desk's order page offers for the practice."""
    return sorted(member.id for member in desk_orders.clinicians_of(reload(owner).practice))


def test_the_orders_desk_cannot_key_in_an_order_for_a_lapsed_licence_until_a_renewed_one_is_approved(traveller):
    make_variant("LAP-1", price_cents=10_000, stock=50)
    owner = make_clinician(on_account=True, full_name="Dr Maeve Byrne")
    lapsing = make_clinician(practice_of=owner, full_name="Dr Orla Quinn", licence_expiry=EXPIRY)
    staff = make_staff()
    practice = reload(owner).practice
    total = desk_orders.check_lines(practice, reload(lapsing), "LAP-1 2").totals.total_cents
    request = desk_order(practice.id, lapsing.id, practice.default_address.id, total)

    traveller.move_to(LAST_SECOND)
    assert offered(owner) == [owner.id, lapsing.id]
    desk_orders.place_desk_order(reload(staff), request)

    traveller.move_to(LAPSED)
    assert offered(owner) == [owner.id]
    with pytest.raises(NotEligible) as refused:
        desk_orders.place_desk_order(reload(staff), request)
    assert refused.value.field == "clinician_id"
    assert "Dr Orla Quinn's licence has lapsed" in refused.value.message
    assert order_count() == 1
    # The practice's other clinician still orders.
    desk_orders.place_desk_order(reload(staff), desk_order(practice.id, owner.id, practice.default_address.id, total))

    renew(lapsing, staff)
    with pytest.raises(NotEligible):
        desk_orders.place_desk_order(reload(staff), request)
    verification.decide(lapsing.application.id, staff, ApplicationStatus.APPROVED)
    desk_orders.place_desk_order(reload(staff), request)
    assert order_count() == 3
