"""Accepting a quote through the service: the order is placed at exactly the quoted prices
(discounts, custom items, shipping and tax as quoted, whatever the catalogue or the tax rate
did since), stock is reserved like any order, the desks hear of it (and of who accepted or
declined, with replies going to them), and a quote is accepted once: not twice, not after it
expired, not an older version, not by another practice or by staff, not after it was declined;
a refusal changes nothing."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import delete, update

from shop import clock
from shop.accounts.models import User
from shop.catalogue.models import PriceBreak, Variant
from shop.core import mailer
from shop.core.formatting import money
from shop.errors import (
    CreditLimitExceeded,
    InvalidTransition,
    NotEligible,
    NotFound,
    OutOfStock,
    PriceChanged,
    QuoteExpired,
)
from shop.extensions import db
from shop.ordering.checkout import CheckoutRequest
from shop.ordering.models import OrderStatus, PaymentMethod
from shop.quoting import acceptance as quote_orders
from shop.quoting import builder as quote_builder
from shop.quoting import quotes
from shop.quoting.models import Quote, QuoteStatus
from tests.factories import accept_quote, issue, issued_quote, make_clinician, make_staff, make_variant, simple_quote
from tests.helpers import allow_account, order_count, orders_of, outbox, quote_events, reload, stored
from tests.smtp import html_of, text_of

THREADS = 8


def mixed_quote(clinician, staff):
    """Ten boxes at 15 % off, twelve at a price the desk typed (under the volume price) and a
    custom item that is not in the catalogue; shipping 9.00."""
    vital = make_variant("VIT-MIX", price_cents=12_500, stock=100).id
    hydrate = make_variant("HYD-MIX", price_cents=4_000, stock=100, breaks=((10, 3_500),)).id
    custom = "Hyaluronidase 1500 IU, 10 vials"
    quote = issued_quote(
        clinician,
        staff,
        ("VIT-MIX", 10),
        ("HYD-MIX", 12),
        others=((custom, 2),),
        prices={"VIT-MIX": (None, 1_500), "HYD-MIX": (3_200, 0), custom: (8_000, 0)},
        shipping_cents=900,
    )
    return quote, vital, hydrate


def test_an_accepted_quote_becomes_an_order_at_exactly_the_quoted_prices(ctx):
    clinician, staff = make_clinician(on_account=True), make_staff()
    quote, vital, hydrate = mixed_quote(clinician, staff)
    version = quote.latest_sent
    # As the desk priced it: 106,250 + 38,400 + 16,000 = 160,650; tax 23 % of 161,550.
    assert (version.subtotal_cents, version.shipping_cents, version.tax_cents, version.total_cents) == (
        160_650,
        900,
        37_157,
        198_707,
    )

    order = accept_quote(clinician, quote.number, po_number="PO-7781", note="Deliver before the 14th.")

    order = orders_of(clinician.id)[0]
    assert [(ln.sku, ln.product_name, ln.quantity, ln.unit_price_cents, ln.line_total_cents) for ln in order.lines] == [
        ("VIT-MIX", "Booster VIT-MIX", 10, 10_625, 106_250),
        ("HYD-MIX", "Booster HYD-MIX", 12, 3_200, 38_400),
        ("CUSTOM", "Hyaluronidase 1500 IU, 10 vials", 2, 8_000, 16_000),
    ]
    custom = order.lines[2]
    assert custom.variant_id is None
    assert (order.subtotal_cents, order.shipping_cents, order.tax_rate_bps, order.tax_cents, order.total_cents) == (
        160_650,
        900,
        2_300,
        37_157,
        198_707,
    )
    assert order.status == OrderStatus.PLACED and order.payment_method == PaymentMethod.ACCOUNT
    assert (order.po_number, order.note) == ("PO-7781", "Deliver before the 14th.")
    placed = [e for e in order.events if e.action == "placed"]
    assert len(placed) == 1 and quote.number in placed[0].note and "v1" in placed[0].note


def test_accepting_marks_the_quote_accepted_with_its_order_and_writes_one_event(ctx):
    setup = simple_quote()
    order = accept_quote(setup.clinician, setup.number)

    quote = reload(Quote, setup.number)
    assert quote.status == QuoteStatus.ACCEPTED
    assert quote.order_id == order.id and quote.order.number == order.number
    assert quote.accepted_version_id == quote.latest_sent.id
    [event] = quote_events(quote.id, "accepted")
    assert (event.actor_id, event.from_status, event.to_status) == (setup.clinician.id, "sent", "accepted")
    assert "v1" in event.note


def test_accepting_reserves_the_quoted_stock_like_any_order_and_custom_items_need_none(ctx):
    clinician, staff = make_clinician(on_account=True), make_staff()
    quote, vital, hydrate = mixed_quote(clinician, staff)

    accept_quote(clinician, quote.number)

    assert reload(Variant, vital).stock_on_hand == 90
    assert reload(Variant, hydrate).stock_on_hand == 88


def test_catalogue_price_changes_a_new_tax_rate_and_removed_volume_prices_do_not_touch_the_quoted_order(
    ctx, app, monkeypatch
):
    clinician, staff = make_clinician(on_account=True), make_staff()
    quote, vital, hydrate = mixed_quote(clinician, staff)
    quoted = quote.latest_sent.total_cents
    # After the quote was sent: list prices go up, the volume price is withdrawn, the tax
    # rate and the shipping rates change.
    db.session.execute(update(Variant).where(Variant.id == vital).values(price_cents=19_900))
    db.session.execute(update(Variant).where(Variant.id == hydrate).values(price_cents=6_000))
    db.session.execute(delete(PriceBreak).where(PriceBreak.variant_id == hydrate))
    db.session.commit()
    for config in (app.config, ctx.config):
        monkeypatch.setitem(config, "TAX_RATE_PERCENT", "13.5")
        monkeypatch.setitem(config, "SHIPPING_FLAT_CENTS", 4_000)
        monkeypatch.setitem(config, "FREE_SHIPPING_THRESHOLD_CENTS", 10_000_000)

    order = accept_quote(clinician, quote.number)

    order = orders_of(clinician.id)[0]
    assert order.total_cents == quoted == 198_707
    assert (order.shipping_cents, order.tax_rate_bps, order.tax_cents) == (900, 2_300, 37_157)
    assert [ln.unit_price_cents for ln in order.lines] == [10_625, 3_200, 8_000]


def test_catalogue_changes_after_acceptance_leave_the_order_and_the_quote_as_agreed(ctx):
    setup = simple_quote(price_cents=12_500, discount_bps=1_000)
    order = accept_quote(setup.clinician, setup.number)
    total = order.total_cents

    db.session.execute(update(Variant).values(price_cents=30_000))
    db.session.commit()

    order = orders_of(setup.clinician.id)[0]
    assert order.total_cents == total and [ln.unit_price_cents for ln in order.lines] == [11_250]
    version = reload(Quote, setup.number).latest_sent
    assert version.total_cents == total and [ln.unit_price_cents for ln in version.lines] == [11_250]


def test_the_quotes_desk_and_the_orders_desk_are_emailed_with_the_order_number(ctx, mailbox, app):
    setup = simple_quote()
    mailer.deliver_due()
    mailbox.clear()

    order = accept_quote(setup.clinician, setup.number, po_number="PO-3310")
    mailer.deliver_due()

    total = money(reload(Quote, setup.number).latest_sent.total_cents)
    for desk_address in (app.config["QUOTES_DESK_EMAIL"], app.config["ORDERS_DESK_EMAIL"]):
        accepted = [m for m in mailbox.to(desk_address) if "accepted" in m["Subject"]]
        assert len(accepted) == 1, [m["Subject"] for m in mailbox.to(desk_address)]
        assert setup.number in accepted[0]["Subject"]
        body = text_of(accepted[0])
        assert order.number in body and setup.number in body and total in body
        assert "On account" in body and "PO-3310" in body
    # The normal order emails go out too: the orders desk's new-order mail and the clinician's
    # confirmation.
    assert [m for m in mailbox.to(app.config["ORDERS_DESK_EMAIL"]) if order.number in m["Subject"]]
    assert [m for m in mailbox.to(setup.clinician.email) if order.number in m["Subject"]]


def test_when_a_colleague_accepts_the_desks_are_told_who_and_replies_go_to_the_colleague(ctx, mailbox, app):
    setup = simple_quote()
    colleague = make_clinician(
        practice_of=setup.clinician, full_name="Dr Colm Doyle", email="colm.doyle@clinic.example"
    )
    mailer.deliver_due()
    mailbox.clear()

    accept_quote(colleague, setup.number, address_id=setup.clinician.practice.default_address.id)
    mailer.deliver_due()

    practice = setup.clinician.practice.name
    for desk_address in (app.config["QUOTES_DESK_EMAIL"], app.config["ORDERS_DESK_EMAIL"]):
        [mail] = [m for m in mailbox.to(desk_address) if "accepted" in m["Subject"]]
        assert mail["Reply-To"] == "colm.doyle@clinic.example"
        for body in (text_of(mail), html_of(mail)):
            assert f"Dr Colm Doyle ({practice}) accepted quote" in body
            assert f"{setup.clinician.full_name} (" not in body


def test_when_a_colleague_declines_the_desk_is_told_who_and_replies_go_to_the_colleague(ctx, mailbox, app):
    setup = simple_quote()
    colleague = make_clinician(
        practice_of=setup.clinician, full_name="Dr Colm Doyle", email="colm.doyle@clinic.example"
    )
    mailer.deliver_due()
    mailbox.clear()

    quotes.decline(colleague, reload(Quote, setup.number), "We found it cheaper.")
    mailer.deliver_due()

    [mail] = [m for m in mailbox.to(app.config["QUOTES_DESK_EMAIL"]) if "declined" in m["Subject"]]
    assert mail["Reply-To"] == "colm.doyle@clinic.example"
    for body in (text_of(mail), html_of(mail)):
        assert f"Dr Colm Doyle ({setup.clinician.practice.name}) declined quote" in body
        assert f"{setup.clinician.full_name} (" not in body and "We found it cheaper." in body


def test_a_card_acceptance_places_an_order_awaiting_payment_at_the_quoted_total(ctx):
    setup = simple_quote()
    order = accept_quote(setup.clinician, setup.number, method=PaymentMethod.CARD)

    order = orders_of(setup.clinician.id)[0]
    assert order.status == OrderStatus.AWAITING_PAYMENT and order.payment_method == PaymentMethod.CARD
    assert order.total_cents == reload(Quote, setup.number).latest_sent.total_cents
    assert reload(Quote, setup.number).status == QuoteStatus.ACCEPTED


# --- refusals that change nothing ---------------------------------------------------------


def assert_refused(app, setup, attempt, error_type, *words: str):
    """`attempt()` raises `error_type` with a message naming `words`, and nothing changed."""
    before = stored(app.config)
    stock = reload(Variant, next(iter(setup.variants.values()))).stock_on_hand
    with pytest.raises(error_type) as refused:
        attempt()
    for word in words:
        assert word in refused.value.message, refused.value.message
    assert stored(app.config) == before
    assert reload(Variant, next(iter(setup.variants.values()))).stock_on_hand == stock
    return refused.value


def test_a_quote_cannot_be_accepted_twice(ctx, app):
    setup = simple_quote()
    accept_quote(setup.clinician, setup.number)

    assert_refused(
        app, setup, lambda: accept_quote(setup.clinician, setup.number), InvalidTransition, "already accepted"
    )
    assert order_count() == 1


def test_a_colleague_in_the_same_practice_cannot_accept_it_again(ctx, app):
    setup = simple_quote()
    colleague = make_clinician(full_name="Dr Colm Doyle", practice_of=setup.clinician)
    accept_quote(setup.clinician, setup.number)

    colleague = reload(User, colleague.id)
    assert_refused(
        app,
        setup,
        lambda: accept_quote(colleague, setup.number, address_id=setup.clinician.practice.default_address.id),
        InvalidTransition,
        "already accepted",
    )


def test_an_older_version_cannot_be_accepted_once_a_newer_one_is_sent_and_the_refusal_names_it(ctx, app):
    setup = simple_quote(quantity=10, discount_bps=1_000)
    issue(setup.staff, setup.quote, quantities={"VIT-Q1": 20}, prices={"VIT-Q1": (None, 2_000)})

    refused = assert_refused(
        app, setup, lambda: accept_quote(setup.clinician, setup.number, 1), InvalidTransition, "newer version", "v2"
    )
    assert setup.number in refused.message
    order = accept_quote(setup.clinician, setup.number, 2)
    assert [(ln.quantity, ln.unit_price_cents) for ln in order.lines] == [(20, 10_000)]


def test_a_version_that_does_not_exist_is_refused(ctx, app):
    setup = simple_quote()
    assert_refused(
        app, setup, lambda: accept_quote(setup.clinician, setup.number, 7), InvalidTransition, "no version v7"
    )


def test_a_declined_quote_cannot_be_accepted(ctx, app):
    setup = simple_quote()
    quotes.decline(setup.clinician, reload(Quote, setup.number), "Found a better price elsewhere.")

    assert_refused(app, setup, lambda: accept_quote(setup.clinician, setup.number), InvalidTransition, "declined")


def test_a_quote_with_changes_requested_cannot_be_accepted_until_the_revision_arrives(ctx, app):
    setup = simple_quote()
    quotes.request_changes(setup.clinician, reload(Quote, setup.number), "Can you do 15 % on 20 boxes?")

    assert_refused(
        app, setup, lambda: accept_quote(setup.clinician, setup.number), InvalidTransition, "changes requested"
    )


def test_an_expired_quote_cannot_be_accepted_even_before_the_expiry_run(ctx, app):
    setup = simple_quote(valid_until=clock.today() + timedelta(days=3))
    expires = reload(Quote, setup.number).latest_sent.expires_at

    with time_machine.travel(expires + timedelta(seconds=1), tick=False):
        assert reload(Quote, setup.number).status == QuoteStatus.SENT  # nobody ran expire-quotes
        assert_refused(app, setup, lambda: accept_quote(setup.clinician, setup.number), QuoteExpired, "expired")


def test_a_clinician_of_another_practice_cannot_accept_it(ctx, app):
    setup = simple_quote()
    stranger = make_clinician(on_account=True)

    assert_refused(
        app,
        setup,
        lambda: accept_quote(stranger, setup.number, address_id=stranger.practice.default_address.id),
        NotFound,
        "no such quote",
    )


def test_staff_cannot_accept_a_quote_for_a_practice(ctx, app):
    setup = simple_quote()
    staff = reload(User, setup.staff.id)
    quote = reload(Quote, setup.number)
    request = CheckoutRequest(
        address_id=setup.clinician.practice.default_address.id,
        payment_method=PaymentMethod.ACCOUNT,
        expected_total_cents=quote.latest_sent.total_cents,
    )

    assert_refused(app, setup, lambda: quote_orders.accept_quote(staff, quote, 1, request), NotEligible)


def test_a_total_that_is_not_the_quoted_total_is_refused(ctx, app):
    setup = simple_quote()
    assert_refused(
        app, setup, lambda: accept_quote(setup.clinician, setup.number, expected_total_cents=100), PriceChanged, "total"
    )


def test_not_enough_stock_refuses_cleanly_and_the_quote_stays_acceptable(ctx, app):
    setup = simple_quote(sku="VIT-LOW", quantity=10, stock=4)

    error = assert_refused(
        app, setup, lambda: accept_quote(setup.clinician, setup.number), OutOfStock, "VIT-LOW", "only 4", "stays open"
    )
    assert "cart" not in error.message
    assert reload(Quote, setup.number).status == QuoteStatus.SENT
    db.session.execute(update(Variant).values(stock_on_hand=50))
    db.session.commit()
    accept_quote(setup.clinician, setup.number)
    assert reload(Variant, setup.variants["VIT-LOW"]).stock_on_hand == 40


def test_the_credit_limit_is_respected_and_card_payment_remains_possible(ctx, app):
    clinician = make_clinician(on_account=True, credit_limit_cents=50_000)
    setup = simple_quote(clinician, quantity=10)  # 10 x 112.50 plus shipping and tax: over 500.00

    assert_refused(app, setup, lambda: accept_quote(clinician, setup.number), CreditLimitExceeded, "credit")
    order = accept_quote(clinician, setup.number, method=PaymentMethod.CARD)
    assert order.status == OrderStatus.AWAITING_PAYMENT


def test_a_product_withdrawn_from_sale_since_the_quote_is_refused_with_a_pointer_to_the_desk(ctx, app):
    setup = simple_quote(sku="VIT-GONE")
    db.session.execute(update(Variant).values(active=False))
    db.session.commit()

    assert_refused(
        app, setup, lambda: accept_quote(setup.clinician, setup.number), NotEligible, "VIT-GONE", "quotes desk"
    )
    assert reload(Quote, setup.number).status == QuoteStatus.SENT


def test_paying_on_account_needs_a_practice_allowed_to(ctx, app):
    clinician = make_clinician()
    setup = simple_quote(clinician)

    assert_refused(app, setup, lambda: accept_quote(clinician, setup.number), NotEligible, "payment method")
    allow_account(reload(User, clinician.id))
    accept_quote(reload(User, clinician.id), setup.number)


# --- at the same moment -----------------------------------------------------------------


def race(ctx, attempts):
    """Run every `attempt()` at the same moment, each in its own thread, app context and
    database connection; returns what each returned (an order number) or raised."""
    start = threading.Barrier(len(attempts))

    def run(attempt):
        with ctx.app_context():
            try:
                prepared = attempt()
                db.session.rollback()  # no read transaction held open while waiting
                start.wait(timeout=30)
                return prepared()
            except (InvalidTransition, NotEligible, NotFound, OutOfStock) as error:
                db.session.rollback()
                return error
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
        futures = [pool.submit(run, attempt) for attempt in attempts]
        return [future.result(timeout=120) for future in futures]


def acceptance(clinician_id: int, number: str, method: PaymentMethod):
    def prepare():
        clinician = db.session.get(User, clinician_id)
        quote = quotes.quote_by_number(number)
        version = quote.latest_sent
        request = CheckoutRequest(
            address_id=clinician.practice.default_address.id,
            payment_method=method,
            expected_total_cents=version.total_cents,
        )
        return lambda: quote_orders.accept_quote(clinician, quote, version.number, request).number

    return prepare


@pytest.mark.parametrize("method", [PaymentMethod.ACCOUNT, PaymentMethod.CARD])
def test_acceptances_at_the_same_moment_place_exactly_one_order(ctx, app, mailbox, method):
    setup = simple_quote(sku="VIT-RACE", quantity=5, stock=100)
    mailer.deliver_due()
    mailbox.clear()

    results = race(ctx, [acceptance(setup.clinician.id, setup.number, method)] * THREADS)

    placed = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if not isinstance(r, str)]
    assert len(placed) == 1, results
    assert all(isinstance(r, InvalidTransition) and "accepted" in r.message for r in refused), refused
    assert [o.number for o in orders_of(setup.clinician.id)] == placed
    quote = reload(Quote, setup.number)
    assert quote.status == QuoteStatus.ACCEPTED and quote.order.number == placed[0]
    assert len(quote_events(quote.id, "accepted")) == 1
    assert reload(Variant, setup.variants["VIT-RACE"]).stock_on_hand == 95
    mailer.deliver_due()
    for desk_address in (app.config["QUOTES_DESK_EMAIL"], app.config["ORDERS_DESK_EMAIL"]):
        assert len([m for m in mailbox.to(desk_address) if "accepted" in m["Subject"]]) == 1
    assert len(outbox("quote.accepted.quotes")) == len(outbox("quote.accepted.orders")) == 1
    assert len(outbox("order.placed")) == 1


def test_an_acceptance_racing_a_decline_ends_in_exactly_one_of_them(ctx):
    for round_ in range(3):
        setup = simple_quote(sku=f"VIT-D{round_}", quantity=1)

        def declining(number=setup.number, clinician_id=setup.clinician.id):
            clinician = db.session.get(User, clinician_id)
            quote = quotes.quote_by_number(number)
            return lambda: quotes.decline(clinician, quote, "Budget cut.").number

        results = race(ctx, [acceptance(setup.clinician.id, setup.number, PaymentMethod.ACCOUNT), declining])
        quote = reload(Quote, setup.number)
        won = [r for r in results if isinstance(r, str)]
        assert len(won) == 1, results
        if quote.status == QuoteStatus.ACCEPTED:
            assert quote.order is not None and orders_of(setup.clinician.id)
        else:
            assert quote.status == QuoteStatus.DECLINED and not orders_of(setup.clinician.id)


def test_an_acceptance_racing_a_newer_version_never_accepts_a_superseded_version(ctx):
    for round_ in range(3):
        setup = simple_quote(sku=f"VIT-V{round_}", quantity=1)
        # The desk has v2 ready and sends it at the moment the clinician accepts v1.
        quote = reload(Quote, setup.number)
        quote_builder.open_draft(setup.staff, quote)

        def sending(number=setup.number, staff_id=setup.staff.id):
            staff = db.session.get(User, staff_id)
            quote = quotes.quote_by_number(number)
            return lambda: f"sent v{quote_builder.send_quote(staff, quote).number}"

        results = race(ctx, [acceptance(setup.clinician.id, setup.number, PaymentMethod.ACCOUNT), sending])
        quote = reload(Quote, setup.number)
        if quote.status == QuoteStatus.ACCEPTED:
            assert quote.latest_sent.number == 1, "v2 was sent although v1 had been accepted"
            assert isinstance(results[1], InvalidTransition)
        else:
            assert quote.latest_sent.number == 2 and results[1] == "sent v2"
            assert isinstance(results[0], InvalidTransition) and "v2" in results[0].message
            assert not orders_of(setup.clinician.id)
