"""Payments against invoices, recorded by the finance desk as the bank statement shows them:
the day received, the amount (part payments allowed, never more than is owed), the reference.
A payment is an audit entry, and is taken one at a time per practice, so two clerks recording
the same transfer at once cannot pay an invoice twice over."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from shop import clock
from shop.access import Desk
from shop.core import audit
from shop.core.db import hold, unit_of_work
from shop.core.formatting import long_date, money
from shop.errors import NotEligible
from shop.extensions import db
from shop.invoicing.models import Invoice, InvoicePayment, PaymentKind
from shop.practices.models import Practice

if TYPE_CHECKING:
    from shop.accounts.models import User

RECEIVABLE = (PaymentKind.TRANSFER, PaymentKind.CARD, PaymentKind.CHEQUE, PaymentKind.OTHER)


@dataclass(frozen=True)
class Receipt:
    received_on: date
    amount_cents: int
    reference: str
    kind: PaymentKind = PaymentKind.TRANSFER


def record_payment(staff: User, invoice: Invoice, receipt: Receipt) -> InvoicePayment:
    """Raises NotEligible: not the finance desk, a day in the future or before the invoice, an
    amount not above zero or above what is owed, no reference."""
    if not staff.works(Desk.FINANCE):
        raise NotEligible("Only the finance desk records payments.")
    if receipt.kind not in RECEIVABLE:
        raise NotEligible("Choose how it was paid.", field="kind")
    if receipt.received_on > clock.today():
        raise NotEligible("The day it was received cannot be in the future.", field="received_on")
    if receipt.received_on < invoice.issue_date:
        raise NotEligible(
            f"Invoice {invoice.number} was issued on {long_date(invoice.issue_date)}; a payment comes after.",
            field="received_on",
        )
    reference = (receipt.reference or "").strip()
    if not reference:
        raise NotEligible("Enter the reference on the bank statement (or the cheque number).", field="reference")
    if receipt.amount_cents <= 0:
        raise NotEligible("Enter an amount above zero.", field="amount")
    with unit_of_work():
        hold(Practice.name, invoice.practice_id)
        db.session.expire(invoice)
        owed = invoice.outstanding_cents
        if receipt.amount_cents > owed:
            raise NotEligible(
                f"Only {money(owed, invoice.currency)} is owed on {invoice.number}."
                if owed > 0
                else f"Nothing is owed on {invoice.number}.",
                field="amount",
            )
        payment = InvoicePayment(
            invoice_id=invoice.id,
            practice_id=invoice.practice_id,
            kind=receipt.kind.value,
            received_on=receipt.received_on,
            amount_cents=receipt.amount_cents,
            reference=reference[:120],
            recorded_at=clock.now(),
            recorded_by_id=staff.id,
        )
        db.session.add(payment)
        db.session.flush()
        audit.record(
            staff,
            "payment.recorded",
            payment,
            {"amount_cents": (None, receipt.amount_cents), "outstanding_cents": (owed, owed - receipt.amount_cents)},
            reference,
            label=f"Payment on {invoice.number}",
        )
    return payment
