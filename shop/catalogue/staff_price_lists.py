"""The prices a practice has agreed with the shop, as the customers desk keeps them: one page per
practice, and its panel on the practice's page. The orders and quotes desks may read them."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from shop.access import Desk, desk_pages, readable_by
from shop.backoffice import bp
from shop.catalogue import price_lists
from shop.core.pricing import cents
from shop.errors import NotFound, ShopError
from shop.extensions import db
from shop.forms import EmptyForm, posted, show_error
from shop.practices.models import Practice
from shop.practices.staff_forms import AgreedPriceForm
from shop.practices.staff_panels import Panel, panel

desk_pages(__name__, Desk.CUSTOMERS)


@bp.route("/practices/<id:practice_id>/prices", methods=["GET", "POST"])
@readable_by(Desk.ORDERS, Desk.QUOTES)
def practice_prices(practice_id: int):
    row = db.get_or_404(Practice, practice_id)
    form = AgreedPriceForm()
    if form.validate_on_submit():
        try:
            agreement = price_lists.set_agreed_price(current_user, row, form.sku.data, cents(form.unit_price.data))
        except ShopError as error:
            show_error(form, error)
        else:
            flash(f"{row.name} now pays {form.unit_price.data:.2f} for {agreement.variant.sku}.", "success")
            return redirect(url_for("staff.practice_prices", practice_id=row.id), code=303)
    return (
        render_template(
            "staff/practices/prices.html",
            practice=row,
            agreements=price_lists.agreements_of(row),
            form=form,
            action_form=EmptyForm(formdata=None),
        ),
        422 if form.errors else 200,
    )


@bp.route("/practices/<id:practice_id>/prices/<id:agreement_id>/remove", methods=["POST"])
def practice_price_remove(practice_id: int, agreement_id: int):
    row = db.get_or_404(Practice, practice_id)

    def remove():
        try:
            price_lists.remove_agreed_price(current_user, row, agreement_id)
        except NotFound:
            abort(404)

    posted(EmptyForm(), remove, "The agreed price is removed; the practice pays the list price (less its discount).")
    return redirect(url_for("staff.practice_prices", practice_id=row.id), code=303)


@panel(position=30)
def _prices(practice: Practice) -> Panel:
    count = db.session.scalar(
        db.select(db.func.count())
        .select_from(price_lists.PriceAgreement)
        .where(price_lists.PriceAgreement.practice_id == practice.id)
    )
    return Panel("Prices", "staff/practices/_prices.html", {"count": count})
