"""What practices owe: each invoice's outstanding amount (its total less its credit notes and the
payments against it, a refund paid out counting as a negative payment), a practice's balance
(the same over all its invoices), and which invoices are overdue (unpaid after their due date)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import event, exists, func, select
from sqlalchemy.orm import Session

from shop.extensions import db
from shop.invoicing.models import CreditNote, Invoice, InvoicePayment


def paid_of():
    """Per invoice (correlated): what was paid against it."""
    return (
        select(func.coalesce(func.sum(InvoicePayment.amount_cents), 0))
        .where(InvoicePayment.invoice_id == Invoice.id)
        .correlate(Invoice)
        .scalar_subquery()
    )


def credited_of():
    """Per invoice (correlated): what its credit notes took off."""
    return (
        select(func.coalesce(func.sum(CreditNote.total_cents), 0))
        .where(CreditNote.invoice_id == Invoice.id)
        .correlate(Invoice)
        .scalar_subquery()
    )


def outstanding_of():
    """Per invoice (correlated): what is still owed on it."""
    return Invoice.total_cents - credited_of() - paid_of()


def unpaid():
    """The condition: something is still owed on the invoice."""
    return outstanding_of() > 0


def overdue(today: date):
    """The condition: the invoice is unpaid after its due date."""
    return Invoice.due_date < today, unpaid()


def practice_balance(practice_id: int) -> int:
    """What the practice owes over all its invoices (negative: it is in credit)."""
    return db.session.scalar(select(balance_of(practice_id)))


def balance_of(practice_id: int):
    """The practice's balance as an expression, for a statement that asks more at once."""
    invoiced = select(func.coalesce(func.sum(Invoice.total_cents), 0)).where(Invoice.practice_id == practice_id)
    credited = select(func.coalesce(func.sum(CreditNote.total_cents), 0)).where(CreditNote.practice_id == practice_id)
    paid = select(func.coalesce(func.sum(InvoicePayment.amount_cents), 0)).where(
        InvoicePayment.practice_id == practice_id
    )
    return invoiced.scalar_subquery() - credited.scalar_subquery() - paid.scalar_subquery()


def overdue_invoices(practice_id: int, today: date) -> list[Invoice]:
    return list(
        db.session.scalars(
            select(Invoice).where(Invoice.practice_id == practice_id, *overdue(today)).order_by(Invoice.due_date)
        )
    )


def has_overdue(practice_id: int, today: date) -> bool:
    """Whether the practice has an invoice overdue `today`: read once per transaction (a checkout
    asks it for the form's ways to pay, then again as it places the order)."""
    known = db.session.info.setdefault(OVERDUE_KNOWN, {})
    if (practice_id, today) not in known:
        found = select(exists().where(Invoice.practice_id == practice_id, *overdue(today)))
        known[(practice_id, today)] = db.session.scalar(found)
    return known[(practice_id, today)]


OVERDUE_KNOWN = "invoicing.overdue"  # the session's answers of has_overdue, until its transaction ends


@event.listens_for(Session, "after_transaction_end")
def _forget_overdue(session: Session, _transaction) -> None:
    session.info.pop(OVERDUE_KNOWN, None)


def overdue_total(practice_id: int, today: date) -> int:
    return sum(invoice.outstanding_cents for invoice in overdue_invoices(practice_id, today))
