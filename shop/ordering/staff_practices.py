"""Practices and their terms: whether they may pay on account, in how many days, up to what."""

from __future__ import annotations

from decimal import Decimal

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from shop.access import Desk, desk_pages, readable_by
from shop.accounts import second_factor
from shop.accounts.models import Practice
from shop.backoffice import bp
from shop.core.paging import paginate
from shop.core.pricing import cents
from shop.extensions import db
from shop.forms import clean_text
from shop.ordering import credit
from shop.ordering.forms import PracticeTermsForm

desk_pages(__name__, Desk.CUSTOMERS)


@bp.route("/practices")
@readable_by(Desk.ORDERS, Desk.QUOTES)
def practices():
    q = clean_text(request.args.get("q", ""))[:80]
    query = select(Practice).order_by(Practice.name)
    if q:
        query = query.where(db.func.lower(Practice.name).contains(q.lower(), autoescape=True))
    page = paginate(query)
    return render_template("staff/practices.html", page=page, q=q)


@bp.route("/practices/<id:practice_id>", methods=["GET", "POST"])
@readable_by(Desk.ORDERS, Desk.QUOTES)
def practice(practice_id: int):
    row = db.session.get(Practice, practice_id)
    if row is None:
        abort(404)
    form = PracticeTermsForm(
        obj=None,
        data=None
        if request.method == "POST"
        else {
            "on_account": row.on_account,
            "payment_terms_days": row.payment_terms_days,
            "credit_limit": Decimal(row.credit_limit_cents) / 100,
        },
    )
    if form.validate_on_submit():
        credit.set_terms(
            current_user,
            row,
            credit.Terms(
                on_account=form.on_account.data,
                payment_terms_days=form.payment_terms_days.data,
                credit_limit_cents=cents(form.credit_limit.data),
            ),
        )
        flash(f"Terms of {row.name} are saved.", "success")
        return redirect(url_for("staff.practice", practice_id=row.id), code=303)
    return (
        render_template(
            "staff/practice.html",
            practice=row,
            form=form,
            balance=credit.open_account_balance(row.id),
            factors=second_factor.factors_of(row.members),
        ),
        422 if form.errors else 200,
    )
