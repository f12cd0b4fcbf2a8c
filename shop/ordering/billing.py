"""An order's invoice and credit notes, in the transaction of the order's own change: an order on
account is invoiced when the orders desk confirms it (or releases it from hold), a card order when
it is paid; cancelling or refunding an invoiced order credits what is left on its invoice, and a
refund records the money paid back. The invoice copies the order (shop.invoicing.issuing)."""

from __future__ import annotations

from shop import clock
from shop.accounts.models import User
from shop.core.formatting import country_name
from shop.extensions import db
from shop.invoicing.credit_notes import Credit, Refund, credit_in_transaction, left_to_credit, record_refund
from shop.invoicing.issuing import CardPayment, InvoiceSource, SourceLine, invoice_of_order, issue_invoice
from shop.invoicing.models import CreditNote, Invoice, PaymentKind
from shop.ordering.models import Order, OrderAction, PaymentMethod


def described(product_name: str, variant_label: str, pack_size: str) -> str:
    """A line as an invoice reads it: the product, the option (unless the name says it), the pack."""
    label = "" if variant_label and variant_label in product_name else variant_label
    return ", ".join(part for part in (product_name, label, pack_size) if part)


def source_of(order: Order) -> InvoiceSource:
    """What the invoice copies of the order: its lines and totals as placed, the practice and its
    billing address (its default address) as they are today, the payment if it was by card."""
    practice = order.practice
    address = practice.default_address
    billing = [*address.lines(), country_name(address.country)] if address else order.ship_to.splitlines()[1:]
    card, terms = None, ""
    if order.payment_method == PaymentMethod.CARD and any(e.action == "payment_mismatch" for e in order.events):
        # Stripe took another amount than the order's: the finance desk records what arrived.
        terms = "Paid by card; the amount Stripe received differed from the order, and the finance desk records it."
    elif order.payment_method == PaymentMethod.CARD and order.paid_at is not None:
        card = CardPayment(
            amount_cents=order.total_cents,
            reference=order.stripe_payment_intent or order.stripe_session_id or order.number,
            received_on=clock.local(order.paid_at).date(),
        )
    return InvoiceSource(
        order_id=order.id,
        order_number=order.number,
        practice_id=order.practice_id,
        buyer_name=practice.name,
        buyer_address="\n".join(billing),
        clinician_name=order.clinician_name,
        clinician_email=order.clinician_email,
        placed_by_id=order.placed_by_id,
        po_number=order.po_number,
        currency=order.currency,
        subtotal_cents=order.subtotal_cents,
        shipping_cents=order.shipping_cents,
        tax_rate_bps=order.tax_rate_bps,
        tax_cents=order.tax_cents,
        total_cents=order.total_cents,
        lines=tuple(
            SourceLine(
                sku=line.sku,
                description=described(line.product_name, line.variant_label, line.pack_size),
                quantity=line.quantity,
                unit_price_cents=line.unit_price_cents,
                line_total_cents=line.line_total_cents,
                tax_rate_bps=line.tax_rate_bps,
            )
            for line in order.lines
        ),
        terms_days=0 if order.payment_method == PaymentMethod.CARD else practice.payment_terms_days,
        card_payment=card,
        terms=terms,
    )


def invoice_order(order: Order, actor: User | None) -> Invoice | None:
    """The order's invoice, issued now if its goods are sold and it has none; in the caller's
    transaction. None for an order with nothing to invoice (unpaid, cancelled...)."""
    existing = invoice_of_order(order.id)
    if existing is not None:
        return existing
    if order.refusal(OrderAction.INVOICE) is not None:
        return None
    invoice = issue_invoice(source_of(order), actor)
    db.session.expire(order, ["invoice"])
    return invoice


def credit_order(order: Order, actor: User | None, reason: str, *, refunded: bool) -> CreditNote | None:
    """Credit what is left on the order's invoice (if anything is), and when the money goes back
    to the practice, record the refund of what it paid beyond what it owes (a cancelled order
    whose invoice was credited at the cancellation is refunded later); in the caller's
    transaction. Returns the credit note issued now, if one was."""
    invoice = invoice_of_order(order.id)
    if invoice is None:
        return None
    note = None
    if left_to_credit(invoice) > 0:
        note = credit_in_transaction(invoice, actor, Credit(reason=reason, everything=True))
    if refunded:
        db.session.expire(invoice)
        kind = PaymentKind.CARD if order.payment_method == PaymentMethod.CARD else PaymentKind.TRANSFER
        record_refund(invoice, actor, max(-invoice.outstanding_cents, 0), Refund(kind=kind, reference=reason))
    return note
