"""A clinician's own account: the application status page, and answering a request for a
document or sending a renewed licence."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from shop import clock
from shop.access import Policy, protect
from shop.account.forms import DocumentForm
from shop.errors import ShopError
from shop.forms import show_error
from shop.services import verification

bp = Blueprint("account", __name__, url_prefix="/account")
protect(bp, Policy.CLINICIAN)


@bp.route("")
def status():
    application = current_user.application
    today = clock.today()
    form = None
    if application is not None and verification.can_submit_document(application, today):
        form = DocumentForm(licence_expiry=None)
    return render_template(
        "account/status.html",
        application=application,
        practice=current_user.practice,
        form=form,
        today=today,
    )


@bp.route("/document", methods=["POST"])
def submit_document():
    application = current_user.application
    if application is None or not verification.can_submit_document(application, clock.today()):
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
    return (
        render_template(
            "account/status.html",
            application=application,
            practice=current_user.practice,
            form=form,
            today=clock.today(),
        ),
        422,
    )
