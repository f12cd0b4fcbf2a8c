"""Accepting a quote: one transaction records the acceptance and places the order at exactly
the quoted prices (later catalogue changes do not touch it), reserving stock like any order.
The quote's row is locked before its state is read, so two acceptances at the same moment, or an
acceptance racing a decline, the expiry run or a newer version being sent, are taken one after
the other and the second sees what the first did."""

from __future__ import annotations

from sqlalchemy import select

from shop import clock
from shop.accounts.models import User
from shop.catalogue.compliance import variant_refusal
from shop.catalogue.models import Variant
from shop.core.db import hold, unit_of_work
from shop.core.pricing import Totals
from shop.errors import InvalidTransition, NotEligible, OutOfStock, PriceChanged
from shop.extensions import db
from shop.ordering import checkout
from shop.ordering.checkout import CheckoutRequest, OrderLineDraft, PlacedOrder
from shop.ordering.models import Order
from shop.ordering.signals import order_lapsed_unpaid
from shop.practices.terms import require_open
from shop.quoting.mail import email_quote_accepted
from shop.quoting.models import Quote, QuoteAction, QuoteStatus, QuoteVersion
from shop.quoting.quotes import change_status, may_speak


def accept_quote(clinician: User, quote: Quote, version_number: int, request: CheckoutRequest) -> PlacedOrder:
    """Accept version `version_number` and place its order. Raises InvalidTransition (already
    accepted, superseded), QuoteExpired, NotEligible, OutOfStock or CreditLimitExceeded;
    on any of them nothing changes."""
    with unit_of_work():
        return PlacedOrder.of(_accept(clinician, quote, version_number, request))


def _hold(quote: Quote) -> None:
    """Take the quote's row lock (a no-op UPDATE: the row lock on PostgreSQL, the write lock on
    SQLite) and forget what was read before it, so the checks below see the latest state."""
    hold(Quote.status, quote.id)
    db.session.expire_all()


def _short_of_stock(quote: Quote, line_name: str, sku: str, wanted: int, left: int) -> OutOfStock:
    have = f"only {left} {'is' if left == 1 else 'are'} in stock" if left > 0 else "none are in stock"
    return OutOfStock(
        f"Quote {quote.number} is for {wanted} of {line_name} ({sku}) but {have} right now, so no order "
        "was placed. The quote stays open: accept it again when the stock is back, or call the quotes "
        "desk about a revised version."
    )


def _accept(clinician: User, quote: Quote, version_number: int, request: CheckoutRequest) -> Order:
    _hold(quote)
    version = acceptable_version(clinician, quote, version_number)
    address = checkout.delivery_address(clinician, request.address_id)
    if request.expected_total_cents != version.total_cents:
        raise PriceChanged("The total on the page is not this version's total. Reload the quote and accept it again.")
    lines = []
    for line in version.lines:
        variant = db.session.get(Variant, line.variant_id) if line.variant_id else None
        if variant is not None:
            refusal = variant_refusal(variant, clinician)
            if refusal:
                raise NotEligible(f"{line.product_name} ({line.sku}) {refusal.phrase}. Call the quotes desk.")
            if variant.stock_on_hand < line.quantity:
                raise _short_of_stock(quote, line.product_name, line.sku, line.quantity, variant.stock_on_hand)
        lines.append(
            OrderLineDraft(
                variant=variant,
                sku=line.sku or "CUSTOM",
                product_name=line.product_name,
                variant_label=line.description or "Quoted item",
                pack_size=variant.pack_size if variant else "",
                quantity=line.quantity,
                unit_price_cents=line.unit_price_cents,
                line_total_cents=line.line_total_cents,
            )
        )
    totals = Totals(
        subtotal_cents=version.subtotal_cents,
        shipping_cents=version.shipping_cents,
        tax_rate_bps=version.tax_rate_bps,
        tax_cents=version.tax_cents,
        total_cents=version.total_cents,
    )
    try:
        order = checkout.create_order(
            clinician,
            request,
            address,
            lines,
            totals,
            note=f"From quote {quote.number} v{version.number}, at the quoted prices.",
            currency=version.currency,
        )
    except OutOfStock:
        # Another order took the stock between the check above and the reservation.
        raise OutOfStock(
            f"Another order took the last of a product on quote {quote.number} a moment ago, so no order "
            "was placed. The quote stays open: call the quotes desk about the stock or a revised version."
        ) from None
    mark_accepted(clinician, quote, version, order.id)
    return order


def acceptable_version(clinician: User, quote: Quote, version_number: int) -> QuoteVersion:
    """The version the clinician may accept, or the reason they may not (typed errors)."""
    may_speak(clinician, quote)
    if not clinician.is_verified(clock.today()):
        raise NotEligible("Your account is not verified to order.")
    require_open(clinician.practice)
    quote.require(QuoteAction.ACCEPT, clock.now())
    latest = quote.latest_sent
    if latest is None:
        raise InvalidTransition(f"Quote {quote.number} has not been sent yet.")
    if latest.number != version_number:
        if any(v.is_sent and v.number == version_number for v in quote.versions):
            raise InvalidTransition(
                f"A newer version ({latest.label}) of quote {quote.number} was issued; read it and accept that one "
                "instead."
            )
        raise InvalidTransition(
            f"Quote {quote.number} has no version v{version_number}; its current one is {latest.label}."
        )
    return latest


def mark_accepted(clinician: User, quote: Quote, version: QuoteVersion, order_id: int) -> None:
    """Record the acceptance in the caller's transaction (the order is placed in it too)."""
    change_status(
        quote,
        QuoteStatus.ACCEPTED,
        clinician,
        "accepted",
        f"v{version.number} accepted.",
        accepted_version_id=version.id,
        order_id=order_id,
    )
    email_quote_accepted(quote, version, clinician)


@order_lapsed_unpaid.connect
def reopen_unpaid(order) -> str | None:
    """The order placed by accepting a quote was cancelled before it was paid (the card payment
    never came): the deal was not completed, so the quote is open again, to be accepted while it
    is valid or revised by the desk; one past its validity is expired instead. Returns the
    quote's number when it is open again. In the cancelling transaction."""
    order_number = order.number
    quote = db.session.scalar(select(Quote).where(Quote.order_id == order.id))
    if quote is None or quote.status != QuoteStatus.ACCEPTED:
        return None
    version = quote.latest_sent
    if version is not None and version.expires_at <= clock.now():
        change_status(
            quote,
            QuoteStatus.EXPIRED,
            None,
            "expired",
            f"Order {order_number} was cancelled before it was paid, and v{version.number} is past its validity.",
            accepted_version_id=None,
            order_id=None,
        )
        return None
    change_status(
        quote,
        QuoteStatus.SENT,
        None,
        "reopened",
        f"Order {order_number} was cancelled before it was paid; the quote can be accepted again.",
        accepted_version_id=None,
        order_id=None,
    )
    return quote.number
