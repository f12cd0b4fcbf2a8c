"""The orders desk: new orders first, filters and search, the desk's queues (and its share of
the dashboard), and each order's status flow."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import and_, case, func, select

from shop import clock
from shop.access import Desk, desk_pages
from shop.accounts.lookup import records_found
from shop.backoffice import bp
from shop.backoffice.dashboard import QueueCount, queue
from shop.catalogue.options import no_longer_sold
from shop.core.paging import paginate
from shop.extensions import db
from shop.forms import EmptyForm, clean_text, posted
from shop.ordering import orders
from shop.ordering.forms import NoteForm, ReasonForm
from shop.ordering.models import CancelCause, Order, OrderStatus
from shop.ordering.packing_slip import packing_slip_download

desk_pages(__name__, Desk.ORDERS)


@bp.route("/orders")
def orders_list():
    status = request.args.get("status", "")
    status = status if status in OrderStatus._value2member_map_ else ""
    shown = request.args.get("queue", "")
    shown = shown if shown in ORDER_QUEUES else ""
    q = clean_text(request.args.get("q", ""))[:80]
    query = select(Order).order_by(Order.placed_at.desc(), Order.id.desc())
    if status:
        query = query.where(Order.status == OrderStatus(status))
    if shown:
        query = select(Order).where(_in_order_queue(shown, clock.now())).order_by(Order.placed_at, Order.id)
    if q:
        query = query.where(found_by(q))
    page = paginate(query)
    return render_template(
        "staff/orders/list.html",
        page=page,
        status=status,
        q=q,
        statuses=list(OrderStatus),
        shown=shown,
        queue_label=ORDER_QUEUES.get(shown, ""),
    )


def found_by(q: str):
    """Orders by number (with or without "ORD-"), practice name, the ordering clinician's name or
    email, or PO number (as written, or in capitals or small letters): each through its index."""
    return records_found(
        q,
        prefix="ORD",
        number=Order.number,
        practice=Order.practice_id,
        person=Order.placed_by_id,
        exact=[Order.po_number],
    )


# The desk's queues: what waits for it, oldest first.
ORDER_QUEUES = {
    "to_confirm": "Orders to confirm",
    "to_ship": "Orders to ship",
    "unpaid": "Card orders awaiting payment for more than a day",
}
UNPAID_AFTER = timedelta(days=1)


def _in_order_queue(shown: str, now):
    return {
        "to_confirm": Order.status.in_([OrderStatus.PLACED, OrderStatus.PAID]),
        "to_ship": Order.status == OrderStatus.PROCESSING,
        "unpaid": and_(Order.status == OrderStatus.AWAITING_PAYMENT, Order.placed_at < now - UNPAID_AFTER),
    }[shown]


@queue(position=20, desk=Desk.ORDERS)
def _orders_queue() -> list[QueueCount]:
    now = clock.now()
    counts = db.session.execute(
        select(
            *(func.coalesce(func.sum(case((_in_order_queue(name, now), 1), else_=0)), 0) for name in ORDER_QUEUES)
        ).where(
            Order.status.in_(
                [OrderStatus.PLACED, OrderStatus.PAID, OrderStatus.PROCESSING, OrderStatus.AWAITING_PAYMENT]
            )
        )
    ).one()
    words = {
        "to_confirm": ("order to confirm", "orders to confirm"),
        "to_ship": ("order to ship", "orders to ship"),
        "unpaid": ("card order unpaid for over a day", "card orders unpaid for over a day"),
    }
    return [
        QueueCount(count, *words[name], url_for("staff.orders_list", queue=name))
        for name, count in zip(ORDER_QUEUES, counts, strict=True)
    ]


def _order_or_404(number: str) -> Order:
    order = orders.order_by_number(number)
    if order is None:
        abort(404)
    return order


@bp.route("/orders/<order_number:number>")
def order(number: str):
    found = _order_or_404(number)
    return render_template(
        "staff/orders/detail.html",
        order=found,
        unsold=no_longer_sold(line.variant_id for line in found.lines),
        cancel_form=ReasonForm(formdata=None),
        note_form=NoteForm(formdata=None),
        action_form=EmptyForm(formdata=None),
    )


@bp.route("/orders/<order_number:number>/packing-slip.pdf")
def order_packing_slip(number: str):
    """Only an order with goods to pack has a slip; any other is a 404, as an unknown one."""
    found = _order_or_404(number)
    if not found.has_goods_to_pack:
        abort(404)
    return packing_slip_download(found)


ACTIONS = {
    "confirm": (EmptyForm, lambda o, f: orders.confirm(o, current_user), "Confirmed: the order is being prepared."),
    "deliver": (EmptyForm, lambda o, f: orders.deliver(o, current_user), "Marked delivered."),
    "cancel": (
        ReasonForm,
        lambda o, f: orders.cancel(o, current_user, f.reason.data, CancelCause.STAFF),
        "Cancelled; the stock is back and the clinician has been emailed.",
    ),
    "release": (NoteForm, lambda o, f: orders.release_hold(o, current_user, f.note.data), "Released from hold."),
    "refund": (NoteForm, lambda o, f: orders.mark_refunded(o, current_user, f.note.data), "Marked refunded."),
    "invoice": (EmptyForm, lambda o, f: orders.issue_invoice(o, current_user), "Invoice issued and emailed."),
}


@bp.route("/orders/<order_number:number>/<any(confirm,deliver,cancel,release,refund,invoice):action>", methods=["POST"])
def order_action(number: str, action: str):
    form_class, perform, done = ACTIONS[action]
    order = _order_or_404(number)
    form = form_class()
    if posted(form, lambda: perform(order, form), f"{number}: {done}") and action == "cancel" and order.refund_due:
        flash("It was paid by card: refund the payment in the Stripe dashboard, then mark it refunded.", "warning")
    return redirect(url_for("staff.order", number=number), code=303)
