"""A clinician's own account: the application status page, and answering a request for a
document or sending a renewed licence."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from shop import clock
from shop.access import Policy, protect
from shop.accounts import registration, verification
from shop.accounts.forms import DocumentForm
from shop.errors import ShopError
from shop.extensions import limiter
from shop.forms import EmptyForm, show_error

bp = Blueprint("account", __name__, url_prefix="/account")
protect(bp, Policy.CLINICIAN)


def _render_status(form=None, status=200):
    application = current_user.application
    today = clock.today()
    if form is None and verification.can_submit_document(application, today):
        form = DocumentForm(licence_expiry=None)
    return (
        render_template(
            "account/status.html",
            application=application,
            practice=current_user.practice,
            form=form,
            today=today,
            action_form=EmptyForm(formdata=None),
        ),
        status,
    )


@bp.route("")
def status():
    return _render_status()


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
