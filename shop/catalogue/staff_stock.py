"""A variant's stock in the back office: its ledger, newest first, and the form with which the
catalogue desk records goods received, a count, a write-off or a return."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from shop.access import Desk, desk_pages
from shop.backoffice import bp
from shop.catalogue import stock
from shop.catalogue.models import Variant
from shop.catalogue.staff_forms import StockForm
from shop.core.paging import paginate
from shop.errors import ShopError
from shop.extensions import db
from shop.forms import show_error

desk_pages(__name__, Desk.CATALOGUE)

DONE = {
    stock.Movement.RECEIVED: "{n} received: {sku} now has {balance} in stock.",
    stock.Movement.COUNTED: "Count recorded: {sku} now has {balance} in stock.",
    stock.Movement.WRITTEN_OFF: "{n} written off: {sku} now has {balance} in stock.",
    stock.Movement.RETURNED: "{n} returned to stock: {sku} now has {balance} in stock.",
}


@bp.route("/catalogue/<id:product_id>/variants/<id:variant_id>/stock", methods=["GET", "POST"])
def catalogue_stock(product_id: int, variant_id: int):
    variant = db.session.get(Variant, variant_id)
    if variant is None or variant.product_id != product_id:
        abort(404)
    form = StockForm()
    if form.validate_on_submit():
        adjustment = form.adjustment()
        try:
            stock.adjust(current_user, variant, adjustment)
        except ShopError as error:
            show_error(form, error)
        else:
            flash(
                DONE[adjustment.kind].format(n=adjustment.quantity, sku=variant.sku, balance=variant.stock_on_hand),
                "success",
            )
            return redirect(url_for("staff.catalogue_stock", product_id=product_id, variant_id=variant_id), code=303)
    return (
        render_template(
            "staff/catalogue/stock.html",
            variant=variant,
            product=variant.product,
            form=form,
            page=paginate(stock.ledger_of(variant.id)),
        ),
        422 if form.errors else 200,
    )
