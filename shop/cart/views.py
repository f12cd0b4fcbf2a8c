"""The cart, for verified clinicians."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from shop.access import Policy, protect
from shop.cart import quick_order as bulk
from shop.cart import services as carts
from shop.cart.forms import AcceptPricesForm, AddToCartForm, QuickOrderForm, UpdateLineForm
from shop.errors import ShopError
from shop.forms import first_error, posted
from shop.urls import safe_next

bp = Blueprint("cart", __name__, url_prefix="/cart")
protect(bp, Policy.VERIFIED)


def _render(report=None, quick_form=None, status=200):
    view = carts.view_cart(current_user)
    return (
        render_template(
            "cart/cart.html",
            view=view,
            update_form=UpdateLineForm(formdata=None),
            accept_form=AcceptPricesForm(formdata=None),
            quick_form=quick_form or QuickOrderForm(formdata=None),
            report=report,
        ),
        status,
    )


@bp.route("")
def show():
    report = None
    report_id = request.args.get("report", type=int)
    if report_id and 0 < report_id < 2**31:
        report = bulk.kept_report(current_user, report_id)
    if report is None:
        return _render()
    # What was not added goes back in the box, to correct and send again.
    retry = [line.text for line in report if not line.added]
    retry_form = QuickOrderForm(formdata=None, lines="\n".join(retry))
    retry_form.lines.render_kw = {**retry_form.lines.render_kw, "rows": min(max(len(retry), 5), 15)}
    return _render(report=report, quick_form=retry_form)


@bp.route("/add", methods=["POST"])
def add():
    form = AddToCartForm()
    back = safe_next(form.next.data) or url_for("cart.show")
    if not form.validate_on_submit():
        flash(first_error(form), "error")
        return redirect(back, code=303)
    try:
        line = carts.add_to_cart(current_user, form.sku.data, form.quantity.data)
    except ShopError as error:
        flash(error.message, "error")
        return redirect(back, code=303)
    flash(f"Added {form.quantity.data} × {line.variant.product.name} ({line.variant.sku}) to your cart.", "success")
    return redirect(back, code=303)


@bp.route("/lines/<id:line_id>", methods=["POST"])
def update(line_id: int):
    form = UpdateLineForm()
    posted(form, lambda: carts.set_quantity(current_user, line_id, form.quantity.data), "Your cart is updated.")
    return redirect(url_for("cart.show"), code=303)


@bp.route("/lines/<id:line_id>/remove", methods=["POST"])
def remove(line_id: int):
    posted(None, lambda: carts.remove_line(current_user, line_id), "The line is removed from your cart.")
    return redirect(url_for("cart.show"), code=303)


@bp.route("/accept-prices", methods=["POST"])
def accept_prices():
    form = AcceptPricesForm()
    if not form.validate_on_submit():
        flash(first_error(form), "error")
        return redirect(url_for("cart.show"), code=303)
    if carts.accept_current_prices(current_user, form.shown_prices()):
        flash("A price changed again while you were looking. Review the marked lines, then accept again.", "error")
    else:
        flash("Your cart now uses the current prices.", "success")
    return redirect(url_for("cart.show"), code=303)


@bp.route("/remove-unavailable", methods=["POST"])
def remove_unavailable():
    removed = carts.remove_unavailable(current_user)
    flash(f"Removed {removed} line{'' if removed == 1 else 's'} that cannot be ordered.", "success")
    return redirect(url_for("cart.show"), code=303)


@bp.route("/quick-order", methods=["POST"])
def quick_order():
    form = QuickOrderForm()
    if not form.validate_on_submit():
        return _render(quick_form=form, status=422)
    try:
        report = bulk.quick_order(current_user, form.parsed)
    except ShopError as error:
        form.lines.errors = [error.message]
        return _render(quick_form=form, status=422)
    # The result is shown after a redirect, so that reloading it adds nothing again.
    report_id = bulk.keep_report(current_user, report)
    return redirect(url_for("cart.show", report=report_id) + "#report-title", code=303)
