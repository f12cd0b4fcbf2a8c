"""A practice's invoices and credit notes, for its clinicians: an owner sees every one of the
practice's, a buyer those of the orders they placed. Another practice's document is a 404."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from shop import clock
from shop.access import Policy, allow, protect
from shop.core.paging import paginate
from shop.extensions import db
from shop.invoicing import balances
from shop.invoicing.documents import credit_note_download, invoice_download
from shop.invoicing.models import CreditNote, Invoice
from shop.practices.models import PracticeRole

bp = Blueprint("invoices", __name__)
protect(bp, Policy.VERIFIED)


def sees_every_invoice(user) -> bool:
    return user.practice_role == PracticeRole.OWNER


def visible_invoices(user):
    """The invoices `user` may see, newest first."""
    query = select(Invoice).where(Invoice.practice_id == user.practice_id)
    if not sees_every_invoice(user):
        query = query.where(Invoice.placed_by_id == user.id)
    return query.order_by(Invoice.issued_at.desc(), Invoice.id.desc())


def may_see(user, invoice: Invoice | None) -> bool:
    return (
        invoice is not None
        and user.practice_id is not None
        and invoice.practice_id == user.practice_id
        and (sees_every_invoice(user) or invoice.placed_by_id == user.id)
    )


@bp.route("/invoices")
@allow(Policy.MEMBER)
def index():
    page = paginate(
        visible_invoices(current_user).options(selectinload(Invoice.payments), selectinload(Invoice.credit_notes))
    )
    owner = sees_every_invoice(current_user)
    return render_template(
        "invoices/index.html",
        page=page,
        owner=owner,
        balance=balances.practice_balance(current_user.practice_id) if owner else None,
        today=clock.today(),
    )


def _invoice_or_404(number: str) -> Invoice:
    invoice = db.session.scalar(select(Invoice).where(Invoice.number == number))
    if not may_see(current_user, invoice):
        abort(404)
    return invoice


@bp.route("/invoices/<invoice_number:number>.pdf")
@allow(Policy.MEMBER)
def pdf(number: str):
    return invoice_download(_invoice_or_404(number))


@bp.route("/credit-notes/<credit_note_number:number>.pdf")
@allow(Policy.MEMBER)
def credit_note_pdf(number: str):
    note = db.session.scalar(select(CreditNote).where(CreditNote.number == number))
    if note is None or not may_see(current_user, note.invoice):
        abort(404)
    return credit_note_download(note)
