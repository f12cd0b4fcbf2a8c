"""The orders desk packs an order: the lines still to ship with the lots to take them from
(first expiry first, any lot may be typed or scanned instead), the parcel's carrier and
tracking, and the parcels already sent."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from shop.access import Desk, desk_pages
from shop.backoffice import bp
from shop.errors import ShopError
from shop.ordering import orders
from shop.ordering.models import OrderAction
from shop.shipping import packing
from shop.shipping.staff_forms import ROWS_PER_LINE, ParcelForm, posted_picks, row_name

desk_pages(__name__, Desk.ORDERS)


@bp.route("/orders/<order_number:number>/ship", methods=["GET", "POST"])
def order_ship(number: str):
    order = orders.order_by_number(number) or abort(404)
    refusal = order.refusal(OrderAction.SHIP)
    if refusal is not None:
        flash(refusal.message, "error" if request.method == "POST" else "info")
        return redirect(url_for("staff.order", number=number), code=303)
    form = ParcelForm()
    problem = None
    if form.validate_on_submit():
        picks, problem = posted_picks(request.form, order)
        if problem is None:
            try:
                shipment = packing.ship(
                    current_user, order, packing.Parcel(form.carrier.data, form.tracking_number.data, tuple(picks))
                )
            except ShopError as error:
                problem = error.message
            else:
                done = "the order is shipped" if order.status.value == "shipped" else "the rest is still to ship"
                flash(
                    f"Parcel {shipment.reference} recorded with its lots; {done}. The clinician has been emailed.",
                    "success",
                )
                return redirect(url_for("staff.order", number=number), code=303)
    if problem:
        flash(problem, "error")
    return (
        render_template(
            "staff/shipping/pack.html",
            order=order,
            form=form,
            plan=packing.suggest(order),
            rows=ROWS_PER_LINE,
            row_name=row_name,
            posted=request.form if request.method == "POST" else None,
            min_shelf_life=packing.min_shelf_life(),
        ),
        422 if request.method == "POST" else 200,
    )
