"""Orders that come from accepted quotes keep the quote's own terms: its currency, and lines
that the catalogue does not have, which reorder cannot repeat on its own. A card order that is
cancelled before it was paid leaves the deal undone, so its quote is open to accept again; an
order cancelled once it was agreed on account, or paid, leaves its quote accepted."""

from datetime import timedelta

import pytest
import time_machine

from shop.cart import quick_order as bulk
from shop.core import mailer
from shop.errors import InvalidTransition
from shop.ordering import card_payments as payments
from shop.ordering import orders
from shop.ordering.models import CancelCause, Order, OrderStatus, PaymentMethod
from shop.quoting import acceptance
from shop.quoting.models import Quote, QuoteStatus
from tests.factories import accept_quote, issued_quote, make_clinician, make_product, make_staff, simple_quote
from tests.helpers import post_event, quote_events, reload, run_out_the_clock
from tests.smtp import html_of, text_of


def test_an_order_from_a_quote_is_in_the_quotes_currency_even_if_the_shop_changed_since(app, data_app, monkeypatch):
    clinician, staff = make_clinician(on_account=True), make_staff()
    make_product(sku="CUR-1", price_cents=10_000)
    quote = issued_quote(clinician, staff, ("CUR-1", 2))
    for application in (app, data_app):
        monkeypatch.setitem(application.config, "SHOP_CURRENCY", "EUR")
    order = accept_quote(clinician, quote)
    assert order.currency == quote.latest_sent.currency == "USD"


def test_reordering_an_order_with_a_quoted_special_item_skips_it_and_says_why(app):
    clinician, staff = make_clinician(on_account=True), make_staff()
    make_product(sku="REO-1", price_cents=10_000, stock=50)
    quote = issued_quote(
        clinician,
        staff,
        ("REO-1", 2),
        others=(("Hyaluronidase 1500 IU", 1),),
        prices={"Hyaluronidase 1500 IU": (4_000, 0)},
    )
    order = accept_quote(clinician, quote)

    report = bulk.reorder(clinician, order.lines)

    added = [line for line in report if line.added]
    skipped = [line for line in report if not line.added]
    assert [line.text for line in added] == ["REO-1 × 2"]
    assert len(skipped) == 1 and "quotes desk" in skipped[0].message


# --- an order of the quote is cancelled ------------------------------------------------------


def accepted_by_card(stripe):
    """A sent quote accepted by card, with the Stripe page open for its order."""
    setup = simple_quote(sku="VIT-CARD", quantity=4)
    order = accept_quote(setup.clinician, setup.quote, method=PaymentMethod.CARD)
    assert payments.start_card_payment(order, setup.clinician) == stripe.only_session()["url"]
    return setup, reload(Order, order.number)


def cancellation_mail(mailbox, clinician, order_number: str):
    mailer.deliver_due()
    [mail] = [m for m in mailbox.to(clinician.email) if m["Subject"] == f"Your order was cancelled ({order_number})"]
    return mail


@pytest.mark.parametrize("ending", ["the time to pay ran out", "the Stripe page expired"])
def test_a_quote_whose_card_order_is_cancelled_unpaid_is_open_again_and_can_be_accepted_again(
    stripe, client, mailbox, settled, ending
):
    setup, order = accepted_by_card(stripe)
    settled()

    if ending == "the time to pay ran out":
        run_out_the_clock(order.number)
        assert orders.cancel_unpaid_orders() == 1
    else:
        expired = stripe.expire(order.stripe_session_id)
        assert post_event(client, stripe, "checkout.session.expired", expired).status_code == 200

    assert reload(Order, order.number).status == OrderStatus.CANCELLED
    quote = reload(Quote, setup.number)
    assert (quote.status, quote.accepted_version_id, quote.order_id) == (QuoteStatus.SENT, None, None)
    [event] = quote_events(quote.id, "reopened")
    assert (event.actor_id, event.from_status, event.to_status) == (None, "accepted", "sent")
    assert order.number in event.note
    mail = cancellation_mail(mailbox, setup.clinician, order.number)
    for body in (text_of(mail), html_of(mail)):
        assert f"Quote {setup.number} is open again" in body

    again = accept_quote(setup.clinician, reload(Quote, setup.number))

    quote = reload(Quote, setup.number)
    assert (quote.status, quote.order_id, quote.accepted_version_id) == (
        QuoteStatus.ACCEPTED,
        again.id,
        quote.latest_sent.id,
    )
    assert again.number != order.number and again.total_cents == order.total_cents


@pytest.mark.parametrize("agreed", ["on account", "paid by card", "unpaid, cancelled by the desk"])
def test_a_quote_stays_accepted_when_the_desk_cancels_its_order(stripe, client, mailbox, settled, agreed):
    if agreed == "on account":
        setup = simple_quote(sku="VIT-ACCT", quantity=4)
        order = accept_quote(setup.clinician, setup.quote)
    elif agreed.startswith("unpaid"):
        setup, order = accepted_by_card(stripe)
    else:
        setup, order = accepted_by_card(stripe)
        paid = stripe.pay(order.stripe_session_id)
        assert post_event(client, stripe, "checkout.session.completed", paid).status_code == 200
        assert reload(Order, order.number).status == OrderStatus.PAID
    settled()

    orders.cancel(reload(Order, order.number), setup.staff, "The batch was recalled by the maker.", CancelCause.STAFF)

    assert reload(Order, order.number).status == OrderStatus.CANCELLED
    quote = reload(Quote, setup.number)
    assert (quote.status, quote.order_id) == (QuoteStatus.ACCEPTED, order.id)
    assert quote_events(quote.id, "reopened") == []
    assert "open again" not in text_of(cancellation_mail(mailbox, setup.clinician, order.number))
    with pytest.raises(InvalidTransition, match="already accepted"):
        acceptance.acceptable_version(setup.clinician, reload(Quote, setup.number), 1)


def test_a_quote_whose_validity_ended_while_its_card_order_waited_is_expired_not_reopened(stripe, mailbox, settled):
    setup, order = accepted_by_card(stripe)
    settled()
    run_out_the_clock(order.number)

    with time_machine.travel(reload(Quote, setup.number).latest_sent.expires_at + timedelta(minutes=1)):
        assert orders.cancel_unpaid_orders() == 1
        mail = cancellation_mail(mailbox, setup.clinician, order.number)

    quote = reload(Quote, setup.number)
    assert (quote.status, quote.accepted_version_id, quote.order_id) == (QuoteStatus.EXPIRED, None, None)
    assert quote_events(quote.id, "reopened") == []
    [event] = quote_events(quote.id, "expired")
    assert order.number in event.note and "past its validity" in event.note
    assert "open again" not in text_of(mail)
