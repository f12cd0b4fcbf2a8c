"""Accepting a quote: one transaction records the acceptance and places the order at exactly
the quoted prices (later catalogue changes do not touch it), reserving stock like any order.
Two acceptances at the same moment cannot both succeed: the quote's status moves once."""

from __future__ import annotations

from shop import clock
from shop.errors import NotEligible, PriceChanged
from shop.extensions import db
from shop.models.accounts import User
from shop.models.catalogue import Variant
from shop.models.orders import Order
from shop.models.quotes import Quote
from shop.pricing import Totals
from shop.services import checkout
from shop.services.cart import sale_problem
from shop.services.checkout import CheckoutRequest, OrderLineDraft
from shop.services.quotes import acceptable_version, mark_accepted


def accept_quote(clinician: User, quote: Quote, version_number: int, request: CheckoutRequest) -> Order:
    """Accept version `version_number` and place its order. Raises InvalidTransition (already
    accepted, superseded), QuoteExpired, NotEligible, OutOfStock or CreditLimitExceeded;
    on any of them nothing changes."""
    try:
        order = _accept(clinician, quote, version_number, request)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return order


def _accept(clinician: User, quote: Quote, version_number: int, request: CheckoutRequest) -> Order:
    version = acceptable_version(clinician, quote, version_number)
    address = checkout.delivery_address(clinician, request.address_id)
    if request.expected_total_cents != version.total_cents:
        raise PriceChanged("The total on the page is not this version's total. Reload the quote and accept it again.")
    lines = []
    for line in version.lines:
        variant = db.session.get(Variant, line.variant_id) if line.variant_id else None
        if variant is not None:
            problem = sale_problem(variant, clinician)
            if problem:
                raise NotEligible(f"{line.product_name} ({line.sku}) {problem}. Call the quotes desk.")
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
    order = checkout.create_order(
        clinician,
        request,
        address,
        lines,
        totals,
        note=f"From quote {quote.number} v{version.number}, at the quoted prices.",
    )
    mark_accepted(clinician, quote, version, order.id)
    quote.updated_at = clock.now()
    return order
