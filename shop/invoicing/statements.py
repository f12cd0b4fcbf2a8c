"""A practice's statement of account: what it owed at the start of a period, every invoice,
credit note, payment and refund in it with the running balance, what it owes at the end, and
how old its unpaid invoices are. As a PDF on the letterhead, downloaded by staff or emailed by the
finance desk to the practice's owners."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import func, select

from shop import clock
from shop.access import Desk
from shop.core import audit
from shop.core.db import unit_of_work
from shop.core.formatting import long_date, money
from shop.core.letterhead import seller_details
from shop.core.outbox import queue_email
from shop.core.pdf import letterhead_document
from shop.errors import NotEligible
from shop.extensions import db
from shop.invoicing.documents import columns, how_to_pay, paragraph, title
from shop.invoicing.models import CreditNote, Invoice, InvoicePayment
from shop.practices.models import Practice

if TYPE_CHECKING:
    from shop.accounts.models import User

DEFAULT_DAYS = 90
AGES = (("Not yet due", None, 0), ("1–30 days overdue", 1, 30), ("31–60 days", 31, 60), ("61–90 days", 61, 90))
OVER = "Over 90 days"


@dataclass(frozen=True)
class Entry:
    day: date
    what: str
    reference: str
    due: date | None
    charge: int
    credit: int
    balance: int


@dataclass(frozen=True)
class Statement:
    practice: Practice
    since: date
    until: date
    currency: str
    opening: int
    entries: list[Entry]
    closing: int
    ages: list[tuple[str, int]]


def _before(since: date, practice_id: int) -> int:
    invoiced = select(func.coalesce(func.sum(Invoice.total_cents), 0)).where(
        Invoice.practice_id == practice_id, Invoice.issue_date < since
    )
    credited = select(func.coalesce(func.sum(CreditNote.total_cents), 0)).where(
        CreditNote.practice_id == practice_id, CreditNote.issue_date < since
    )
    paid = select(func.coalesce(func.sum(InvoicePayment.amount_cents), 0)).where(
        InvoicePayment.practice_id == practice_id, InvoicePayment.received_on < since
    )
    return db.session.scalar(select(invoiced.scalar_subquery() - credited.scalar_subquery() - paid.scalar_subquery()))


def statement_of(practice: Practice, since: date | None = None, until: date | None = None) -> Statement:
    until = until or clock.today()
    since = since or until - timedelta(days=DEFAULT_DAYS)
    in_period = []
    for invoice in db.session.scalars(
        select(Invoice).where(Invoice.practice_id == practice.id, Invoice.issue_date.between(since, until))
    ):
        in_period.append(
            (
                invoice.issue_date,
                0,
                "Invoice",
                f"{invoice.number} (order {invoice.order_number})",
                invoice.due_date,
                invoice.total_cents,
                0,
            )
        )
    for note in db.session.scalars(
        select(CreditNote).where(CreditNote.practice_id == practice.id, CreditNote.issue_date.between(since, until))
    ):
        in_period.append(
            (note.issue_date, 1, "Credit note", f"{note.number} on {note.invoice.number}", None, 0, note.total_cents)
        )
    for payment in db.session.scalars(
        select(InvoicePayment).where(
            InvoicePayment.practice_id == practice.id, InvoicePayment.received_on.between(since, until)
        )
    ):
        refund = payment.amount_cents < 0
        in_period.append(
            (
                payment.received_on,
                2,
                "Refund paid" if refund else f"Payment ({payment.kind_label.lower()})",
                f"{payment.reference} on {payment.invoice.number}",
                None,
                -payment.amount_cents if refund else 0,
                0 if refund else payment.amount_cents,
            )
        )
    opening = _before(since, practice.id)
    balance, entries = opening, []
    for day, _order, what, reference, due, charge, credited in sorted(in_period, key=lambda row: row[:2]):
        balance += charge - credited
        entries.append(Entry(day, what, reference, due, charge, credited, balance))
    return Statement(
        practice=practice,
        since=since,
        until=until,
        currency=current_app.config["SHOP_CURRENCY"],
        opening=opening,
        entries=entries,
        closing=balance,
        ages=_ages(practice, until),
    )


def _ages(practice: Practice, until: date) -> list[tuple[str, int]]:
    buckets = {label: 0 for label, _, _ in AGES} | {OVER: 0}
    for invoice in db.session.scalars(select(Invoice).where(Invoice.practice_id == practice.id)):
        owed = invoice.outstanding_cents
        if owed <= 0:
            continue
        late = (until - invoice.due_date).days
        label = next(
            (name for name, low, high in AGES if (low is None and late <= 0) or (low and low <= late <= high)), OVER
        )
        buckets[label] += owed
    return list(buckets.items())


HEADINGS = ("Date", "Document", "Due", "Charges", "Credits", "Balance")


def statement_pdf(statement: Statement) -> bytes:
    practice, currency = statement.practice, statement.currency
    pdf = letterhead_document(f"Statement {practice.name} {statement.until.isoformat()}")
    title(pdf, "Statement of account")
    address = practice.default_address
    columns(
        pdf,
        [
            ("For", "\n".join([practice.name, *(address.lines() if address else [])])),
            (
                "Period",
                f"{long_date(statement.since)} to {long_date(statement.until)}\nBalance brought forward {money(statement.opening, currency)}",
            ),
        ],
    )
    rows = [
        (
            long_date(entry.day),
            f"{entry.what}: {entry.reference}",
            long_date(entry.due) if entry.due else "",
            money(entry.charge, currency) if entry.charge else "",
            money(entry.credit, currency) if entry.credit else "",
            money(entry.balance, currency),
        )
        for entry in statement.entries
    ] or [("", "No invoices, credit notes or payments in this period.", "", "", "", money(statement.opening, currency))]
    pdf.lines_table(HEADINGS, rows, ("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT"))
    pdf.ln(3)
    pdf.set_font("DejaVu", "B", 11)
    pdf.cell(pdf.epw - 45, 6, "Balance due", align="R")
    pdf.cell(0, 6, money(statement.closing, currency), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.lines_table(
        ("Unpaid invoices by age", "Amount"),
        [(label, money(amount, currency)) for label, amount in statement.ages],
        ("LEFT", "RIGHT"),
        wrap=0,
    )
    seller = _seller_of(practice)
    if seller:
        paragraph(pdf, "How to pay", how_to_pay(seller, "the invoice numbers"))
    return bytes(pdf.output())


def _seller_of(practice: Practice) -> dict:
    latest = db.session.scalar(
        select(Invoice).where(Invoice.practice_id == practice.id).order_by(Invoice.id.desc()).limit(1)
    )
    if latest is not None:
        return latest.seller
    return seller_details()


def send_statement(staff: User, practice: Practice) -> int:
    """Email the statement of the last 90 days to the practice's owners; returns how many were
    sent. Raises NotEligible (not the finance desk, no owner to send it to)."""
    if not staff.works(Desk.FINANCE):
        raise NotEligible("Only the finance desk sends statements.")
    owners = practice.active_owners
    if not owners:
        raise NotEligible(f"{practice.name} has no owner to send a statement to.")
    statement = statement_of(practice)
    data = statement_pdf(statement)
    with unit_of_work():
        for owner in owners:
            queue_email(
                kind="invoice.statement",
                to=owner.email,
                subject=f"Statement of account, {practice.name}, {long_date(statement.until)}",
                template="invoice_statement",
                owner=owner,
                statement=statement,
                attachments=((f"statement-{statement.until.isoformat()}.pdf", "application/pdf", data),),
            )
        audit.record(
            staff,
            "practice.statement_sent",
            practice,
            {"balance_cents": (None, statement.closing)},
            ", ".join(owner.email for owner in owners),
        )
    return len(owners)
