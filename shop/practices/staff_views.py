"""The customers desk: the practices, and each practice's page with its members, terms and
history, plus the panels the other desks add to it (shop.practices.staff_panels). The orders and
quotes desks may open these pages for context; only the customers desk changes anything."""

from __future__ import annotations

from decimal import Decimal

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from shop import clock
from shop.access import Desk, desk_pages, readable_by
from shop.backoffice import bp
from shop.core.paging import paginate
from shop.core.pricing import cents
from shop.errors import NotFound, ShopError
from shop.extensions import db
from shop.forms import EmptyForm, clean_text, posted, show_error
from shop.practices import members, terms
from shop.practices.models import Practice
from shop.practices.staff_forms import PracticeTermsForm, ReinstateForm, SuspendForm
from shop.practices.staff_panels import panels_for

desk_pages(__name__, Desk.CUSTOMERS)


@bp.route("/practices")
@readable_by(Desk.ORDERS, Desk.QUOTES, Desk.FINANCE)
def practices():
    q = clean_text(request.args.get("q", ""))[:80]
    query = select(Practice).order_by(Practice.name)
    if q:
        query = query.where(db.func.lower(Practice.name).contains(q.lower(), autoescape=True))
    page = paginate(query)
    return render_template("staff/practices.html", page=page, q=q)


@bp.route("/practices/<id:practice_id>", methods=["GET", "POST"])
@readable_by(Desk.ORDERS, Desk.QUOTES, Desk.FINANCE)
def practice(practice_id: int):
    row = db.get_or_404(Practice, practice_id)
    form = PracticeTermsForm() if request.method == "POST" else _terms_form(row)
    if form.validate_on_submit():
        discount = form.discount.data
        try:
            terms.set_terms(
                current_user,
                row,
                terms.Terms(
                    on_account=form.on_account.data,
                    payment_terms_days=form.payment_terms_days.data,
                    credit_limit_cents=cents(form.credit_limit.data),
                    discount_bps=row.discount_bps if discount is None else cents(discount),
                ),
            )
        except ShopError as error:
            show_error(form, error)
        else:
            flash(f"Terms of {row.name} are saved.", "success")
            return redirect(url_for("staff.practice", practice_id=row.id), code=303)
    return _render(row, form=form, status=422 if form.errors else 200)


def _terms_form(row: Practice) -> PracticeTermsForm:
    return PracticeTermsForm(
        formdata=None,
        data={
            "on_account": row.on_account,
            "payment_terms_days": row.payment_terms_days,
            "credit_limit": Decimal(row.credit_limit_cents) / 100,
            "discount": Decimal(row.discount_bps) / 100,
        },
    )


def _render(row: Practice, *, form=None, suspend_form=None, reinstate_form=None, status=200):
    return (
        render_template(
            "staff/practice.html",
            practice=row,
            members=members.members_with_licences(row),
            form=form or _terms_form(row),
            suspend_form=suspend_form or SuspendForm(formdata=None),
            reinstate_form=reinstate_form or ReinstateForm(formdata=None),
            panels=panels_for(row),
            action_form=EmptyForm(formdata=None),
            today=clock.today(),
        ),
        status,
    )


@bp.route("/practices/<id:practice_id>/suspend", methods=["POST"])
def practice_suspend(practice_id: int):
    """Stop the practice ordering, with the reason its members are told."""
    return _change_standing(
        practice_id,
        SuspendForm(),
        "suspend_form",
        lambda row, f: terms.suspend(current_user, row, f.reason.data),
        "Ordering is suspended; the practice's members see why.",
    )


@bp.route("/practices/<id:practice_id>/reinstate", methods=["POST"])
def practice_reinstate(practice_id: int):
    return _change_standing(
        practice_id,
        ReinstateForm(),
        "reinstate_form",
        lambda row, f: terms.reinstate(current_user, row, f.note.data),
        "The suspension is lifted; the practice can order again.",
    )


def _change_standing(practice_id: int, form, slot: str, change, done: str):
    row = db.get_or_404(Practice, practice_id)
    if form.validate_on_submit():
        try:
            change(row, form)
        except ShopError as error:
            show_error(form, error)
        else:
            flash(done, "success")
            return redirect(url_for("staff.practice", practice_id=row.id), code=303)
    return _render(row, status=422, **{slot: form})


@bp.route("/practices/<id:practice_id>/members/<id:member_id>/remove", methods=["POST"])
def practice_member_remove(practice_id: int, member_id: int):
    row = db.get_or_404(Practice, practice_id)

    def remove():
        try:
            members.remove_member(current_user, row, member_id)
        except NotFound:
            abort(404)

    posted(EmptyForm(), remove, "The member is removed; their orders and quotes stay with the practice.")
    return redirect(url_for("staff.practice", practice_id=row.id) + "#members", code=303)
