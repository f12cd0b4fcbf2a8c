"""Credit notes: the only way an invoice is corrected or refunded. A credit note refers to its
invoice and credits what is left on it (a cancelled or refunded order), chosen lines (packs
sent back), or an amount (a goodwill gesture); together the credit notes of an invoice never
credit more than it charged. Numbered without gaps per year like invoices ("CN-2026-000045").

Tax is credited at the invoice's rate: in full what the invoice charged when everything left is
credited, so the credit notes of a fully credited invoice add up to it to the cent."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from shop import clock
from shop.access import Desk
from shop.core import audit
from shop.core.db import hold, unit_of_work
from shop.core.formatting import money
from shop.core.pricing import tax_on
from shop.errors import NotEligible
from shop.extensions import db
from shop.invoicing.documents import credit_note_pdf
from shop.invoicing.issuing import email_document
from shop.invoicing.models import CreditNote, CreditNoteLine, Invoice, InvoiceLine, InvoicePayment, PaymentKind
from shop.invoicing.numbering import next_number
from shop.practices.models import Practice

if TYPE_CHECKING:
    from shop.accounts.models import User


@dataclass(frozen=True)
class Credit:
    """What to credit: everything left, chosen quantities of lines ({invoice line id: packs}),
    or an amount (tax included)."""

    reason: str
    everything: bool = False
    quantities: dict[int, int] = field(default_factory=dict)
    amount_cents: int | None = None


@dataclass(frozen=True)
class Refund:
    """Money returned to the practice with the credit (to its card, or by transfer)."""

    kind: PaymentKind
    reference: str


def credited_quantity(invoice: Invoice, line: InvoiceLine) -> int:
    return sum(c.quantity for note in invoice.credit_notes for c in note.lines if c.invoice_line_id == line.id)


def shipping_credited(invoice: Invoice) -> bool:
    return any(c.invoice_line_id is None and c.description == "Shipping" for n in invoice.credit_notes for c in n.lines)


def left_to_credit(invoice: Invoice) -> int:
    return invoice.total_cents - invoice.credited_cents


def issue_credit_note(staff: User, invoice: Invoice, credit: Credit, refund: Refund | None = None) -> CreditNote:
    """The finance desk credits part or all of an invoice, and may record the money returned.
    Raises NotEligible (not the finance desk, no reason, nothing or too much to credit)."""
    if not staff.works(Desk.FINANCE):
        raise NotEligible("Only the finance desk issues credit notes.")
    with unit_of_work():
        note = credit_in_transaction(invoice, staff, credit)
        if refund is not None:
            record_refund(invoice, staff, note.total_cents, refund)
    return note


def credit_in_transaction(invoice: Invoice, actor: User | None, credit: Credit) -> CreditNote:
    """Issue the credit note in the caller's transaction (a cancellation or refund of the order
    issues one with the order's change). Raises NotEligible."""
    reason = (credit.reason or "").strip()
    if not reason:
        raise NotEligible("Give the reason for the credit; the practice sees it.", field="reason")
    hold(Practice.name, invoice.practice_id)  # one money change of a practice at a time
    db.session.expire(invoice)
    left = left_to_credit(invoice)
    if left <= 0:
        raise NotEligible(f"Invoice {invoice.number} is credited in full already.")
    lines, net, tax = _what_to_credit(invoice, credit, left)
    if net + tax <= 0:
        raise NotEligible("Choose what to credit: packs of a line, or an amount.", field="amount")
    today = clock.today()
    number, sequence = next_number("CN", today.year)
    note = CreditNote(
        number=number,
        year=today.year,
        sequence=sequence,
        invoice_id=invoice.id,
        practice_id=invoice.practice_id,
        issued_at=clock.now(),
        issue_date=today,
        currency=invoice.currency,
        seller=invoice.seller,
        buyer_name=invoice.buyer_name,
        buyer_address=invoice.buyer_address,
        order_number=invoice.order_number,
        po_number=invoice.po_number,
        subtotal_cents=sum(line.line_total_cents for line in lines if line.description != "Shipping"),
        shipping_cents=sum(line.line_total_cents for line in lines if line.description == "Shipping"),
        tax_rate_bps=invoice.tax_rate_bps,
        tax_cents=tax,
        total_cents=net + tax,
        reason=reason,
        issued_by_id=actor.id if actor is not None and actor.is_staff else None,
        lines=lines,
    )
    db.session.add(note)
    db.session.flush()
    if actor is not None and actor.is_staff:
        audit.record(actor, "credit_note.issued", note, {"total_cents": (None, note.total_cents)}, reason)
    email_document(
        invoice,
        "credit_note.issued",
        f"Credit note {number} for invoice {invoice.number}",
        number,
        credit_note_pdf(note),
        note=note,
    )
    return note


def _what_to_credit(invoice: Invoice, credit: Credit, left: int) -> tuple[list[CreditNoteLine], int, int]:
    if credit.everything:
        return _everything_left(invoice, left)
    if credit.amount_cents is not None:
        if credit.amount_cents <= 0:
            raise NotEligible("Credit an amount above zero.", field="amount")
        if credit.amount_cents > left:
            raise NotEligible(
                f"At most {money(left, invoice.currency)} is left to credit on {invoice.number}.", field="amount"
            )
        net = int((Decimal(credit.amount_cents) * 10_000 / (10_000 + invoice.tax_rate_bps)).quantize(1, ROUND_HALF_UP))
        line = CreditNoteLine(
            description=f"Credit: {credit.reason.strip()}"[:300], quantity=1, unit_price_cents=net, line_total_cents=net
        )
        return [line], net, credit.amount_cents - net
    lines = []
    by_id = {line.id: line for line in invoice.lines}
    for line_id, packs in credit.quantities.items():
        if not packs:
            continue
        line = by_id.get(line_id)
        if line is None:
            raise NotEligible("A line of another invoice was chosen. Reload the page.")
        still = line.quantity - credited_quantity(invoice, line)
        if not 0 < packs <= still:
            raise NotEligible(
                f"{line.sku or line.description}: at most {still} pack(s) are left to credit.", field="quantities"
            )
        lines.append(_line_of(line, packs))
    net = sum(line.line_total_cents for line in lines)
    tax = tax_on(net, invoice.tax_rate_bps)
    if net + tax > left:
        raise NotEligible(
            f"Those packs come to {money(net + tax, invoice.currency)} and only {money(left, invoice.currency)} "
            f"is left to credit on {invoice.number}: credit an amount instead.",
            field="quantities",
        )
    return lines, net, tax


def _line_of(line: InvoiceLine, packs: int) -> CreditNoteLine:
    return CreditNoteLine(
        invoice_line_id=line.id,
        description=f"{line.sku} {line.description}".strip()[:300],
        quantity=packs,
        unit_price_cents=line.unit_price_cents,
        line_total_cents=line.unit_price_cents * packs,
    )


def _everything_left(invoice: Invoice, left: int) -> tuple[list[CreditNoteLine], int, int]:
    lines = [
        _line_of(line, line.quantity - credited_quantity(invoice, line))
        for line in invoice.lines
        if line.quantity > credited_quantity(invoice, line)
    ]
    if invoice.shipping_cents and not shipping_credited(invoice):
        lines.append(
            CreditNoteLine(
                description="Shipping",
                quantity=1,
                unit_price_cents=invoice.shipping_cents,
                line_total_cents=invoice.shipping_cents,
            )
        )
    net = sum(line.line_total_cents for line in lines)
    credited_tax = sum(note.tax_cents for note in invoice.credit_notes)
    tax = invoice.tax_cents - credited_tax
    if net + tax != left:  # amounts credited as such: credit the rest as one amount
        net = int((Decimal(left) * 10_000 / (10_000 + invoice.tax_rate_bps)).quantize(1, ROUND_HALF_UP))
        tax = left - net
        lines = [
            CreditNoteLine(
                description="The rest of the invoice", quantity=1, unit_price_cents=net, line_total_cents=net
            )
        ]
    return lines, net, tax


def record_refund(invoice: Invoice, actor: User | None, amount_cents: int, refund: Refund) -> InvoicePayment | None:
    """Money paid back to the practice (at most what it paid), as a negative payment."""
    amount = min(amount_cents, invoice.paid_cents)
    if amount <= 0:
        return None
    payment = InvoicePayment(
        invoice_id=invoice.id,
        practice_id=invoice.practice_id,
        kind=PaymentKind.REFUND.value,
        received_on=clock.today(),
        amount_cents=-amount,
        reference=f"{refund.kind.label}: {refund.reference}".strip()[:120],
        recorded_at=clock.now(),
        recorded_by_id=actor.id if actor is not None and actor.is_staff else None,
    )
    db.session.add(payment)
    db.session.flush()
    if actor is not None and actor.is_staff:
        audit.record(
            actor,
            "payment.refunded",
            payment,
            {"amount_cents": (None, -amount)},
            refund.reference,
            label=f"Refund on {invoice.number}",
        )
    return payment
