"""Orders that come from accepted quotes keep the quote's own terms: its currency, and lines
that the catalogue does not have, which reorder cannot repeat on its own."""

from shop.models.orders import PaymentMethod
from shop.services import checkout
from shop.services import quick_order as bulk
from shop.services.quote_orders import accept_quote
from tests.factories import make_product
from tests.quote_accept_support import Priced, clinician_on_account, desk, reload_quote, sent_quote


def _accept(clinician, quote):
    version = quote.latest_sent
    address = checkout.delivery_addresses(clinician)[0]
    request = checkout.CheckoutRequest(address.id, PaymentMethod.ACCOUNT, version.total_cents)
    return accept_quote(clinician, reload_quote(quote.number), version.number, request)


def test_an_order_from_a_quote_is_in_the_quotes_currency_even_if_the_shop_changed_since(app, data_app, monkeypatch):
    clinician, staff = clinician_on_account(), desk()
    make_product(sku="CUR-1", price_cents=10_000)
    quote = sent_quote(clinician, staff, [Priced(2, sku="CUR-1")])
    for application in (app, data_app):
        monkeypatch.setitem(application.config, "SHOP_CURRENCY", "EUR")
    order = _accept(clinician, quote)
    assert order.currency == quote.latest_sent.currency == "USD"


def test_reordering_an_order_with_a_quoted_special_item_skips_it_and_says_why(app):
    clinician, staff = clinician_on_account(), desk()
    make_product(sku="REO-1", price_cents=10_000, stock=50)
    quote = sent_quote(
        clinician,
        staff,
        [Priced(2, sku="REO-1"), Priced(1, description="Hyaluronidase 1500 IU", unit_price_cents=4_000)],
    )
    order = _accept(clinician, quote)

    report = bulk.reorder(clinician, order)

    added = [line for line in report if line.added]
    skipped = [line for line in report if not line.added]
    assert [line.text for line in added] == ["REO-1 × 2"]
    assert len(skipped) == 1 and "quotes desk" in skipped[0].message
