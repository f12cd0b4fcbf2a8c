"""The orders of a period with their lines, as a CSV file for the accounts: one row per line,
the order's own columns repeated on each."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from shop.access import Desk, desk_pages
from shop.backoffice import bp
from shop.core.formatting import local_datetime
from shop.core.periods import period_asked, within
from shop.core.spreadsheet import amount, csv_download
from shop.extensions import db
from shop.ordering.models import Order

desk_pages(__name__, Desk.ORDERS)

COLUMNS = (
    "order",
    "placed",
    "status",
    "practice",
    "clinician",
    "po_number",
    "payment",
    "currency",
    "sku",
    "product",
    "option",
    "quantity",
    "unit_price",
    "line_total",
    "tax_rate_percent",
    "order_subtotal",
    "order_shipping",
    "order_tax",
    "order_total",
)


@bp.route("/orders.csv")
def orders_csv():
    since, until, problem = period_asked(request.args)
    if problem:
        flash(problem, "error")
        return redirect(url_for("staff.orders_list"), code=303)
    query = (
        select(Order)
        .where(*within(Order.placed_at, since, until))
        .options(selectinload(Order.lines))
        .order_by(Order.placed_at, Order.id)
    )
    return csv_download("orders", COLUMNS, _rows(db.session.scalars(query.execution_options(yield_per=500))))


def _rows(orders):
    for order in orders:
        head = [
            order.number,
            local_datetime(order.placed_at, "%Y-%m-%d %H:%M:%S"),
            order.status.label,
            order.practice_name,
            order.clinician_name,
            order.po_number,
            order.payment_method.label,
            order.currency,
        ]
        totals = [
            amount(order.subtotal_cents),
            amount(order.shipping_cents),
            amount(order.tax_cents),
            amount(order.total_cents),
        ]
        for line in order.lines:
            yield head + [
                line.sku,
                line.product_name,
                line.variant_label,
                line.quantity,
                amount(line.unit_price_cents),
                amount(line.line_total_cents),
                f"{line.tax_rate_bps / 100:g}",
                *totals,
            ]
