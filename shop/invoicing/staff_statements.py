"""What the finance desk adds to a practice's page (its balance, what is overdue, its invoices and
its statement of account) and to the dashboard (overdue invoices)."""

from __future__ import annotations

from flask import redirect, url_for
from flask_login import current_user
from sqlalchemy import func, select

from shop import clock
from shop.access import Desk, desk_pages, readable_by
from shop.backoffice import bp
from shop.backoffice.dashboard import QueueCount, queue
from shop.core.pdf import pdf_response
from shop.extensions import db
from shop.forms import EmptyForm, posted
from shop.invoicing import balances, statements
from shop.invoicing.models import Invoice
from shop.practices.models import Practice
from shop.practices.staff_panels import Panel, panel

desk_pages(__name__, Desk.FINANCE)


@bp.route("/practices/<id:practice_id>/statement.pdf")
@readable_by(Desk.ORDERS, Desk.CUSTOMERS)
def practice_statement(practice_id: int):
    row = db.get_or_404(Practice, practice_id)
    statement = statements.statement_of(row)
    return pdf_response(statements.statement_pdf(statement), f"statement-{row.id}-{statement.until.isoformat()}.pdf")


@bp.route("/practices/<id:practice_id>/statement", methods=["POST"])
def practice_statement_send(practice_id: int):
    row = db.get_or_404(Practice, practice_id)
    posted(
        EmptyForm(),
        lambda: statements.send_statement(current_user, row),
        "The statement is emailed to the practice's owners.",
    )
    return redirect(url_for("staff.practice", practice_id=row.id) + "#invoices", code=303)


@panel(position=25)
def _invoices(practice: Practice) -> Panel:
    today = clock.today()
    return Panel(
        "Invoices",
        "staff/practices/_invoices.html",
        {
            "balance": balances.practice_balance(practice.id),
            "overdue": balances.overdue_total(practice.id, today),
            "count": db.session.scalar(
                select(func.count()).select_from(Invoice).where(Invoice.practice_id == practice.id)
            ),
            "form": EmptyForm(formdata=None),
        },
    )


@queue(position=25, desk=Desk.FINANCE)
def _overdue_queue() -> list[QueueCount]:
    count = db.session.scalar(select(func.count()).select_from(Invoice).where(*balances.overdue(clock.today())))
    return [QueueCount(count, "overdue invoice", "overdue invoices", url_for("staff.invoices", shown="overdue"))]
