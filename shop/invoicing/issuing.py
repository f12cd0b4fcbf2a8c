"""Issuing an invoice: the part of the business that sold something (ordering) hands over what
was sold (`InvoiceSource`), and the invoice is numbered, copied and filed in the caller's
transaction, so the order's change and its invoice are committed together or not at all, and a
number is never lost to a rollback. The clinician who ordered is emailed the PDF."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from shop import clock
from shop.core import audit
from shop.core.formatting import long_date
from shop.core.letterhead import seller_details
from shop.core.outbox import queue_email
from shop.extensions import db
from shop.invoicing.documents import invoice_pdf
from shop.invoicing.models import Invoice, InvoiceLine, InvoicePayment, PaymentKind
from shop.invoicing.numbering import next_number
from shop.practices.models import Practice
from shop.urls import external_url

if TYPE_CHECKING:
    from shop.accounts.models import User


@dataclass(frozen=True)
class SourceLine:
    sku: str
    description: str
    quantity: int
    unit_price_cents: int
    line_total_cents: int
    tax_rate_bps: int


@dataclass(frozen=True)
class CardPayment:
    """A card payment the invoice records as received (the order was paid before it was issued)."""

    amount_cents: int
    reference: str
    received_on: date


@dataclass(frozen=True)
class InvoiceSource:
    """What was sold, as the invoice copies it."""

    order_id: int
    order_number: str
    practice_id: int
    buyer_name: str
    buyer_address: str
    clinician_name: str
    clinician_email: str
    placed_by_id: int | None
    po_number: str
    currency: str
    subtotal_cents: int
    shipping_cents: int
    tax_rate_bps: int
    tax_cents: int
    total_cents: int
    lines: tuple[SourceLine, ...]
    terms_days: int
    card_payment: CardPayment | None = None
    terms: str = ""  # said instead of the usual terms (a card payment being reconciled)


def invoice_of_order(order_id: int) -> Invoice | None:
    return db.session.scalar(select(Invoice).where(Invoice.order_id == order_id))


def issue_invoice(source: InvoiceSource, actor: User | None) -> Invoice:
    """Number and file the invoice of `source`, in the caller's transaction, and email it to the
    clinician who ordered. Due `terms_days` after today (today when paid by card)."""
    today = clock.today()
    number, sequence = next_number("INV", today.year)
    due = today + timedelta(days=source.terms_days)
    invoice = Invoice(
        number=number,
        year=today.year,
        sequence=sequence,
        order_id=source.order_id,
        practice_id=source.practice_id,
        placed_by_id=source.placed_by_id,
        issued_at=clock.now(),
        issue_date=today,
        due_date=today if source.card_payment else due,
        terms=source.terms or _terms(source, due),
        currency=source.currency,
        seller=seller_details(),
        buyer_name=source.buyer_name,
        buyer_address=source.buyer_address,
        clinician_name=source.clinician_name,
        order_number=source.order_number,
        po_number=source.po_number,
        subtotal_cents=source.subtotal_cents,
        shipping_cents=source.shipping_cents,
        tax_rate_bps=source.tax_rate_bps,
        tax_cents=source.tax_cents,
        total_cents=source.total_cents,
        lines=[
            InvoiceLine(
                position=position,
                sku=line.sku,
                description=line.description[:300],
                quantity=line.quantity,
                unit_price_cents=line.unit_price_cents,
                line_total_cents=line.line_total_cents,
                tax_rate_bps=line.tax_rate_bps,
            )
            for position, line in enumerate(source.lines, start=1)
        ],
    )
    db.session.add(invoice)
    if source.card_payment is not None:
        paid = source.card_payment
        invoice.payments.append(
            InvoicePayment(
                practice_id=source.practice_id,
                kind=PaymentKind.CARD.value,
                received_on=paid.received_on,
                amount_cents=paid.amount_cents,
                reference=paid.reference[:120],
                recorded_at=clock.now(),
            )
        )
    db.session.flush()
    if actor is not None and actor.is_staff:
        audit.record(actor, "invoice.issued", invoice, {"total_cents": (None, invoice.total_cents)})
    email_document(
        invoice, "invoice.issued", f"Invoice {number} for order {invoice.order_number}", number, invoice_pdf(invoice)
    )
    return invoice


def _terms(source: InvoiceSource, due: date) -> str:
    if source.card_payment is not None:
        return f"Paid by card on {long_date(source.card_payment.received_on)}."
    return f"Payment due within {source.terms_days} days of the invoice date, by {long_date(due)}."


def recipients(practice_id: int, placed_by_id: int | None) -> list[str]:
    """Who receives a practice's invoice or credit note: the clinician who ordered while they are
    still an active member of the practice, else its owners (never someone who left it)."""
    practice = db.session.get(Practice, practice_id)
    active = {member.id: member for member in practice.active_members}
    if placed_by_id in active:
        return [active[placed_by_id].email]
    return [owner.email for owner in practice.active_owners]


def email_document(invoice: Invoice, kind: str, subject: str, number: str, pdf: bytes, **context) -> None:
    """Email an invoice (or a credit note on it) as a PDF to whoever receives its documents."""
    for to in recipients(invoice.practice_id, invoice.placed_by_id):
        queue_email(
            kind=kind,
            to=to,
            subject=subject,
            template=kind.replace(".", "_"),
            invoice=invoice,
            link=external_url("invoices.index"),
            attachments=((f"{number}.pdf", "application/pdf", pdf),),
            **context,
        )
