"""A clinician's own account: the application status page, and answering a request for a
document or sending a renewed licence."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from shop import clock
from shop.access import Policy, allow, protect
from shop.accounts import addresses, registration, verification
from shop.accounts.forms import AddressForm, DocumentForm
from shop.errors import NotFound, ShopError
from shop.extensions import limiter
from shop.forms import EmptyForm, show_error

bp = Blueprint("account", __name__, url_prefix="/account")
protect(bp, Policy.CLINICIAN)


def _render_status(form=None, address_form=None, status=200):
    application = current_user.application
    today = clock.today()
    if form is None and verification.can_submit_document(application, today):
        form = DocumentForm(licence_expiry=None)
    verified = current_user.is_verified(today)
    return (
        render_template(
            "account/status.html",
            application=application,
            practice=current_user.practice,
            form=form,
            today=today,
            address_form=(address_form or AddressForm(formdata=None)) if verified else None,
            action_form=EmptyForm(formdata=None),
        ),
        status,
    )


@bp.route("")
def status():
    return _render_status()


@bp.route("/addresses", methods=["POST"])
@allow(Policy.VERIFIED)
def add_address():
    form = AddressForm()
    if form.validate_on_submit():
        try:
            addresses.add_address(
                current_user,
                addresses.AddressDetails(
                    line1=form.line1.data,
                    line2=form.line2.data or "",
                    city=form.city.data,
                    region=form.region.data or "",
                    postcode=form.postcode.data,
                    country=form.country.data,
                ),
                make_default=form.make_default.data,
            )
        except ShopError as error:
            show_error(form, error)
        else:
            flash("The address is added; you can ship orders there now.", "success")
            return redirect(url_for("account.status") + "#addresses", code=303)
    return _render_status(address_form=form, status=422)


@bp.route("/addresses/<id:address_id>/<any(default,remove):action>", methods=["POST"])
@allow(Policy.VERIFIED)
def change_address(address_id: int, action: str):
    try:
        if action == "default":
            addresses.make_default(current_user, address_id)
        else:
            addresses.remove_address(current_user, address_id)
    except NotFound:
        abort(404)
    except ShopError as error:
        flash(error.message, "error")
    else:
        flash(
            "That is now the default delivery address." if action == "default" else "The address is removed.", "success"
        )
    return redirect(url_for("account.status") + "#addresses", code=303)


@bp.route("/confirmation", methods=["POST"])
@limiter.limit(
    lambda: current_app.config["CONFIRMATION_RESEND_RATE_LIMIT"], key_func=lambda: f"confirm:{current_user.id}"
)
def resend_confirmation():
    if EmptyForm().validate_on_submit():
        registration.resend_confirmation(current_user)
        flash(f"We have emailed a new confirmation link to {current_user.email}.", "success")
    return redirect(url_for("account.status"), code=303)


@bp.route("/document", methods=["POST"])
def submit_document():
    application = current_user.application
    if not verification.can_submit_document(application, clock.today()):
        flash("Your application is not waiting for a document.", "error")
        return redirect(url_for("account.status"), code=303)
    form = DocumentForm()
    if form.validate_on_submit():
        try:
            verification.submit_document(
                current_user, form.licence_document.data, form.licence_expiry.data, form.message.data or ""
            )
        except ShopError as error:
            show_error(form, error)
        else:
            flash("Thank you. Your document is with the verification desk.", "success")
            return redirect(url_for("account.status"), code=303)
    return _render_status(form=form, status=422)
