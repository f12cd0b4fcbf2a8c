"""The finance desk: every invoice, filtered (unpaid, overdue, paid; by practice, by period),
each invoice with its payments and credit notes, recording a payment and issuing a credit note.
The orders and customers desks may open these pages for context."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from shop import clock
from shop.access import Desk, desk_pages, readable_by
from shop.backoffice import bp
from shop.core.db import contains
from shop.core.paging import paginate
from shop.core.periods import period_asked, within
from shop.core.pricing import cents
from shop.errors import ShopError
from shop.extensions import db
from shop.forms import clean_text, show_error
from shop.invoicing import balances, credit_notes, receipts
from shop.invoicing.documents import credit_note_download, invoice_download
from shop.invoicing.models import CreditNote, Invoice, PaymentKind
from shop.invoicing.staff_forms import CreditNoteForm, PaymentForm, chosen_packs
from shop.practices.models import Practice

desk_pages(__name__, Desk.FINANCE)

SHOWN = {"unpaid": "Unpaid", "overdue": "Overdue", "paid": "Paid or credited", "all": "All"}


@dataclass(frozen=True)
class InvoiceFilters:
    shown: str = "unpaid"
    q: str = ""
    practice: Practice | None = None
    since: date | None = None
    until: date | None = None
    problem: str | None = None

    def args(self) -> dict:
        values = {
            "shown": self.shown,
            "q": self.q,
            "practice": self.practice.id if self.practice else "",
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
        }
        return {name: value for name, value in values.items() if value}


def _filters() -> InvoiceFilters:
    args = request.args
    shown = args.get("shown", "unpaid")
    practice_id = args.get("practice", "")
    practice = (
        db.session.get(Practice, int(practice_id))
        if practice_id.isascii() and practice_id.isdigit() and len(practice_id) < 10
        else None
    )
    since, until, problem = period_asked(args)
    return InvoiceFilters(
        shown=shown if shown in SHOWN else "unpaid",
        q=clean_text(args.get("q", ""))[:80],
        practice=practice,
        since=None if problem else since,
        until=None if problem else until,
        problem=problem,
    )


def _selection(filters: InvoiceFilters, today: date):
    query = select(Invoice).order_by(Invoice.issue_date.desc(), Invoice.id.desc())
    if filters.shown == "unpaid":
        query = query.where(balances.unpaid()).order_by(None).order_by(Invoice.due_date, Invoice.id)
    elif filters.shown == "overdue":
        query = query.where(*balances.overdue(today)).order_by(None).order_by(Invoice.due_date, Invoice.id)
    elif filters.shown == "paid":
        query = query.where(~balances.unpaid())
    if filters.practice is not None:
        query = query.where(Invoice.practice_id == filters.practice.id)
    if filters.q:
        query = query.where(
            or_(
                contains(Invoice.number, filters.q),
                contains(Invoice.order_number, filters.q),
                contains(Invoice.buyer_name, filters.q),
                contains(Invoice.po_number, filters.q),
            )
        )
    return query.where(*within(Invoice.issued_at, filters.since, filters.until))


@bp.route("/invoices")
@readable_by(Desk.ORDERS, Desk.CUSTOMERS)
def invoices():
    today = clock.today()
    filters = _filters()
    page = paginate(
        _selection(filters, today).options(selectinload(Invoice.payments), selectinload(Invoice.credit_notes))
    )
    return render_template("staff/invoices/list.html", page=page, filters=filters, shown_choices=SHOWN, today=today)


def _invoice_or_404(number: str) -> Invoice:
    invoice = db.session.scalar(select(Invoice).where(Invoice.number == number))
    if invoice is None:
        abort(404)
    return invoice


def _render(invoice: Invoice, *, payment_form=None, credit_form=None, status=200):
    return (
        render_template(
            "staff/invoices/detail.html",
            invoice=invoice,
            payment_form=payment_form or PaymentForm(formdata=None),
            credit_form=credit_form or CreditNoteForm(formdata=None),
            packs_left={
                line.id: line.quantity - credit_notes.credited_quantity(invoice, line) for line in invoice.lines
            },
            left_to_credit=credit_notes.left_to_credit(invoice),
            posted=request.form if status != 200 else {},
            today=clock.today(),
        ),
        status,
    )


@bp.route("/invoices/<invoice_number:number>")
@readable_by(Desk.ORDERS, Desk.CUSTOMERS)
def invoice(number: str):
    return _render(_invoice_or_404(number))


@bp.route("/invoices/<invoice_number:number>.pdf")
@readable_by(Desk.ORDERS, Desk.CUSTOMERS)
def invoice_pdf(number: str):
    return invoice_download(_invoice_or_404(number))


@bp.route("/credit-notes/<credit_note_number:number>.pdf")
@readable_by(Desk.ORDERS, Desk.CUSTOMERS)
def credit_note_pdf(number: str):
    note = db.session.scalar(select(CreditNote).where(CreditNote.number == number))
    if note is None:
        abort(404)
    return credit_note_download(note)


@bp.route("/invoices/<invoice_number:number>/payments", methods=["POST"])
def invoice_payment(number: str):
    found = _invoice_or_404(number)
    form = PaymentForm()
    if form.validate_on_submit():
        try:
            receipts.record_payment(
                current_user,
                found,
                receipts.Receipt(
                    received_on=form.received_on.data,
                    amount_cents=cents(form.amount.data),
                    reference=form.reference.data,
                    kind=PaymentKind(form.kind.data),
                ),
            )
        except ShopError as error:
            show_error(form, error)
        else:
            flash(f"Payment of {form.amount.data:.2f} recorded on {found.number}.", "success")
            return redirect(url_for("staff.invoice", number=found.number), code=303)
    return _render(found, payment_form=form, status=422)


@bp.route("/invoices/<invoice_number:number>/credit-notes", methods=["POST"])
def invoice_credit(number: str):
    found = _invoice_or_404(number)
    form = CreditNoteForm()
    if form.validate_on_submit():
        packs, problem = chosen_packs(request.form, found.lines)
        amount = form.amount.data
        try:
            if problem:
                raise ShopError(problem, field="credit")
            if form.credit.data == "amount" and amount is None:
                raise ShopError("Enter the amount to credit.", field="amount")
            credit = credit_notes.Credit(
                reason=form.reason.data,
                quantities=packs if form.credit.data == "lines" else {},
                amount_cents=cents(amount) if form.credit.data == "amount" else None,
            )
            refund = None
            if form.refunded.data:
                kind = (
                    PaymentKind.CARD
                    if any(p.kind == PaymentKind.CARD.value for p in found.payments)
                    else PaymentKind.TRANSFER
                )
                refund = credit_notes.Refund(kind=kind, reference=form.refund_reference.data or form.reason.data)
            note = credit_notes.issue_credit_note(current_user, found, credit, refund)
        except ShopError as error:
            show_error(form, error)
        else:
            flash(f"Credit note {note.number} issued and emailed.", "success")
            return redirect(url_for("staff.invoice", number=found.number), code=303)
    return _render(found, credit_form=form, status=422)
