"""What the orders desk adds to the customers desk's view of practices: what each owes on
account (its invoices' balance and its orders not yet invoiced), the credit it has left, and the
practices over their credit limit, as a list and on the dashboard."""

from __future__ import annotations

from flask import render_template, url_for
from sqlalchemy import func, select

from shop.access import Desk, desk_pages, readable_by
from shop.backoffice import bp
from shop.backoffice.dashboard import QueueCount, queue
from shop.core.paging import paginate
from shop.extensions import db
from shop.invoicing.models import CreditNote, Invoice, InvoicePayment
from shop.ordering import credit
from shop.ordering.models import Order
from shop.practices.models import Practice
from shop.practices.staff_panels import Panel, panel

desk_pages(__name__, Desk.CUSTOMERS)


@panel(position=20)
def _account(practice: Practice) -> Panel:
    owed = credit.open_account_balance(practice.id)
    return Panel(
        "Credit on account",
        "staff/practices/_account.html",
        {"owed": owed, "available": max(practice.credit_limit_cents - owed, 0)},
    )


def _per_practice(column, amount, *conditions):
    # Only practices on account have a credit limit: the others are never summed (with orders
    # spread over thousands of practices, summing them all made the dashboard slow).
    on_account = select(Practice.id).where(Practice.on_account)
    return (
        select(column.label("practice_id"), func.sum(amount).label("amount"))
        .where(column.in_(on_account), *conditions)
        .group_by(column)
    )


def exposure():
    """Per practice on account: what it owes on invoices (less credit notes and payments) and on
    orders on account not yet invoiced, as a subquery of (practice_id, owed)."""
    parts = [
        _per_practice(Invoice.practice_id, Invoice.total_cents),
        _per_practice(CreditNote.practice_id, -CreditNote.total_cents),
        _per_practice(InvoicePayment.practice_id, -InvoicePayment.amount_cents),
        _per_practice(Order.practice_id, Order.total_cents, *credit.uninvoiced_on_account()),
    ]
    union = parts[0].union_all(*parts[1:]).subquery()
    return select(union.c.practice_id, func.sum(union.c.amount).label("owed")).group_by(union.c.practice_id).subquery()


def over_limit():
    """The practices on account that owe more than their credit limit, the furthest over first."""
    owed = exposure()
    return (
        select(Practice)
        .join(owed, owed.c.practice_id == Practice.id)
        .where(Practice.on_account, owed.c.owed > Practice.credit_limit_cents)
        .order_by((owed.c.owed - Practice.credit_limit_cents).desc(), Practice.name)
    )


@bp.route("/practices/over-limit")
@readable_by(Desk.ORDERS, Desk.FINANCE)
def practices_over_limit():
    page = paginate(over_limit())
    owed = exposure()
    shown = [practice.id for practice in page.items]
    amounts = dict(
        db.session.execute(select(owed.c.practice_id, owed.c.owed).where(owed.c.practice_id.in_(shown))).all()
    )
    return render_template("staff/practices/over_limit.html", page=page, owed_of=amounts)


@queue(position=45, desk=Desk.CUSTOMERS)
def _over_limit_queue() -> list[QueueCount]:
    count = db.session.scalar(select(func.count()).select_from(over_limit().subquery()))
    return [
        QueueCount(
            count,
            "practice over its credit limit",
            "practices over their credit limit",
            url_for("staff.practices_over_limit"),
        )
    ]
