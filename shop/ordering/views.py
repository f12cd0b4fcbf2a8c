"""Checkout, the practice's order history, card payment and reorder, for verified clinicians."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from shop.access import Policy, allow, protect
from shop.cart import quick_order as bulk
from shop.cart import services as carts
from shop.catalogue.options import no_longer_sold
from shop.core.paging import paginate
from shop.errors import NotFound, PaymentUnavailable, ShopError
from shop.extensions import db
from shop.forms import EmptyForm, show_error
from shop.invoicing.views import may_see
from shop.ordering import card_payments as payments
from shop.ordering import checkout, credit
from shop.ordering.forms import CheckoutForm
from shop.ordering.models import OrderStatus, PaymentMethod
from shop.ordering.orders import practice_order, practice_orders

bp = Blueprint("orders", __name__)
protect(bp, Policy.VERIFIED)


def _checkout_form(view) -> CheckoutForm:
    form = CheckoutForm()
    form.offer(current_user, view.totals.total_cents)
    return form


def _render_checkout(form, view, status=200):
    return (
        render_template(
            "orders/checkout.html",
            form=form,
            view=view,
            credit=credit.available_credit(current_user),
            methods=credit.payment_methods(current_user),
            overdue=credit.account_blocked_by_overdue(current_user),
        ),
        status,
    )


@bp.route("/checkout", methods=["GET", "POST"])
def checkout_page():
    view = carts.view_cart(current_user)
    if view.is_empty:
        flash("Your cart is empty. Add products before checking out.", "info")
        return redirect(url_for("cart.show"), code=303)
    if not view.can_check_out:
        flash(checkout.blocking_message(view, current_user), "error")
        return redirect(url_for("cart.show"), code=303)
    if current_user.practice.is_suspended:
        return redirect(url_for("cart.show"), code=303)  # the page says why, on every page
    form = _checkout_form(view)
    if not form.validate_on_submit():
        return _render_checkout(form, view, 422 if form.is_submitted() else 200)
    try:
        placed = checkout.place_order(current_user, form.checkout_request(), view)
    except ShopError as error:
        show_error(form, error)
        if error.field is None:
            return redirect(url_for("cart.show"), code=303)
        return _render_checkout(form, carts.view_cart(current_user), 422)
    # What the clinician is told comes from the order as it was placed: no database read.
    if placed.payment_method == PaymentMethod.ACCOUNT:
        flash(f"Thank you. Order {placed.number} is placed on account; the orders desk will confirm it.", "success")
        return redirect(url_for("orders.detail", number=placed.number), code=303)
    return pay_for(placed.number)


def pay_for(number: str):
    """Send the clinician to Stripe for order `number`, or back to the order page saying why not."""
    detail = url_for("orders.detail", number=number)
    try:
        order = _own(number)
        url = payments.start_card_payment(order, current_user)
        paid = order.status == OrderStatus.PAID
    except PaymentUnavailable as error:
        flash(f"Order {number} is reserved for you. {error.message}", "error")
        return redirect(detail, code=303)
    except ShopError as error:
        flash(error.message, "error")
        return redirect(detail, code=303)
    except SQLAlchemyError:
        # The order is placed and its stock reserved; only the way to Stripe failed.
        flash(f"Order {number} is placed and reserved for you. Pay for it from this page in a moment.", "info")
        return redirect(detail, code=303)
    if url is None:
        if paid:
            flash("This order is already paid. Thank you.", "success")
        else:
            flash("Stripe has your payment; the orders desk is checking it and will be in touch.", "info")
        return redirect(detail, code=303)
    return redirect(url, code=303)


def _own(number: str):
    try:
        return practice_order(current_user, number)
    except NotFound:
        abort(404)


@bp.route("/orders")
@allow(Policy.MEMBER)
def history():
    page = paginate(practice_orders(current_user))
    return render_template("orders/history.html", page=page)


@bp.route("/orders/<order_number:number>")
@allow(Policy.MEMBER)
def detail(number: str):
    order = _own(number)
    unsold = no_longer_sold(line.variant_id for line in order.lines)
    invoice = order.invoice if may_see(current_user, order.invoice) else None
    return render_template("orders/detail.html", order=order, action_form=EmptyForm(), unsold=unsold, invoice=invoice)


@bp.route("/orders/<order_number:number>/pay", methods=["POST"])
def pay(number: str):
    return pay_for(number)


@bp.route("/orders/<order_number:number>/return")
def payment_return(number: str):
    order = _own(number)
    try:
        payments.confirm_return(order, request.args.get("session_id", "")[:255])
    except PaymentUnavailable:
        flash(
            "We could not confirm your payment with Stripe yet; this page will show it as soon as Stripe tells us.",
            "info",
        )
    db.session.refresh(order)
    if order.status.value == "paid":
        flash(f"Thank you. Order {order.number} is paid.", "success")
    return redirect(url_for("orders.detail", number=order.number))


@bp.route("/orders/<order_number:number>/reorder", methods=["POST"])
def reorder(number: str):
    report = bulk.reorder(current_user, _own(number).lines)
    added = sum(1 for line in report if line.added)
    for line in report:
        if not line.added:
            flash(f"{line.text}: {line.message}", "error")
    flash(
        f"{added} of {len(report)} line{'' if len(report) == 1 else 's'} added to your cart.",
        "success" if added else "info",
    )
    return redirect(url_for("cart.show"), code=303)
