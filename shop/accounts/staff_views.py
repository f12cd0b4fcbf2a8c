"""The verification desk: the queue of applications, one application with its documents, the
three decisions (or, for a renewed licence sent early, approval or a request for another), and
the licences expiring soon or lapsed."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import func, select

from shop import clock
from shop.access import Desk, desk_pages
from shop.accounts import expiry, joining, verification
from shop.accounts.documents import path_of
from shop.accounts.expiry import EXPIRY_LISTS
from shop.accounts.licences import (
    ACTION_TARGETS,
    RENEWAL_WINDOW_DAYS,
    ApplicationAction,
    ApplicationStatus,
    LicenceDocument,
)
from shop.accounts.models import prescriber_professions
from shop.accounts.staff_forms import ApproveForm, AttachForm, CorrectionForm, RejectForm, RequestInfoForm
from shop.backoffice import bp
from shop.backoffice.dashboard import QueueCount, queue
from shop.core.paging import paginate
from shop.errors import NotFound, ShopError
from shop.extensions import db
from shop.forms import clean_text, posted, show_error
from shop.urls import add_post_routes

desk_pages(__name__, Desk.VERIFICATION)

QUEUE_FILTERS = {
    "open": "Waiting for a decision",
    "pending": "Under review",
    "reuploaded": "New document from the clinician",
    "renewal": "Renewed licence sent early",
    "needs_info": "More information needed",
    "approved": "Approved",
    "rejected": "Rejected",
    "all": "All",
}


@queue(position=10, desk=Desk.VERIFICATION)
def _verification_queue() -> list[QueueCount]:
    waiting = verification.confirmed_applications().subquery()
    counts = dict(db.session.execute(select(waiting.c.status, func.count()).group_by(waiting.c.status)).all())
    reuploaded, renewals = (
        db.session.scalar(select(func.count()).select_from(verification.desk_list(shown).order_by(None).subquery()))
        for shown in ("reuploaded", "renewal")
    )
    pending, needs_info = counts.get(ApplicationStatus.PENDING, 0), counts.get(ApplicationStatus.NEEDS_INFO, 0)
    return [
        QueueCount(
            pending,
            "application to review",
            "applications to review",
            url_for("staff.applications", status=ApplicationStatus.PENDING.value),
        ),
        QueueCount(
            reuploaded,
            "document re-uploaded",
            "documents re-uploaded",
            url_for("staff.applications", status="reuploaded"),
        ),
        QueueCount(
            renewals,
            "renewed licence to review",
            "renewed licences to review",
            url_for("staff.applications", status="renewal"),
        ),
        QueueCount(
            needs_info,
            "waiting for the clinician",
            "waiting for the clinician",
            url_for("staff.applications", status=ApplicationStatus.NEEDS_INFO.value),
        ),
    ]


@queue(position=12, desk=Desk.VERIFICATION)
def _expiring_licences() -> list[QueueCount]:
    return [
        QueueCount(
            expiry.count_expiring(clock.today()),
            f"licence expiring within {RENEWAL_WINDOW_DAYS} days",
            f"licences expiring within {RENEWAL_WINDOW_DAYS} days",
            url_for("staff.licences", show="expiring"),
        )
    ]


@bp.route("/applications")
def applications():
    shown = request.args.get("status", "pending")
    shown = shown if shown in QUEUE_FILTERS else "pending"
    page = paginate(verification.desk_list(shown))
    return render_template(
        "staff/applications.html", page=page, shown=shown, filters=QUEUE_FILTERS, prescribers=prescriber_professions()
    )


@bp.route("/licences")
def licences():
    """Approved licences expiring within the renewal window, or lapsed, with the reminders sent."""
    shown = request.args.get("show", "expiring")
    shown = shown if shown in EXPIRY_LISTS else "expiring"
    today = clock.today()
    page = paginate(expiry.expiry_list(shown, today))
    return render_template(
        "staff/licences.html",
        page=page,
        shown=shown,
        lists=EXPIRY_LISTS,
        reminders=expiry.sent_reminders(a.id for a in page.items),
        prescribers=prescriber_professions(),
        today=today,
    )


def _application_or_404(application_id: int):
    try:
        return verification.get_application(application_id)
    except NotFound:
        abort(404)


@bp.route("/applications/<id:application_id>")
def application(application_id: int):
    return _render_application(_application_or_404(application_id))


def _render_application(app_row, *, approve=None, reject=None, request_info=None, correct=None, status=200):
    searched = clean_text(request.args.get("practice_q", ""))[:80]
    return (
        render_template(
            "staff/application.html",
            application=app_row,
            similar=joining.similar_practices(app_row.applicant),
            searched=searched,
            found=joining.practices_named(searched),
            attach_form=AttachForm(formdata=None),
            approve_form=approve or ApproveForm(formdata=None),
            reject_form=reject or RejectForm(formdata=None),
            info_form=request_info or RequestInfoForm(formdata=None),
            correct_form=correct or CorrectionForm.of(app_row),
            prescribers=prescriber_professions(),
            today=clock.today(),
        ),
        status,
    )


def _decide(application_id: int, form, target: ApplicationStatus, note_field: str, done: str, slot: str):
    app_row = _application_or_404(application_id)
    if form.validate_on_submit():
        try:
            verification.decide(application_id, current_user, target, getattr(form, note_field).data or "")
        except ShopError as error:
            show_error(form, error)
        else:
            flash(done, "success")
            return redirect(url_for("staff.application", application_id=application_id), code=303)
    return _render_application(app_row, status=422, **{slot: form})


@bp.route("/applications/<id:application_id>/correct", methods=["POST"])
def correct(application_id: int):
    """The licence details as the document shows them, before the desk decides."""
    app_row = _application_or_404(application_id)
    form = CorrectionForm()
    if form.validate_on_submit():
        try:
            verification.correct(application_id, current_user, form.details())
        except ShopError as error:
            show_error(form, error)
        else:
            flash("Licence details corrected; the change is in the history.", "success")
            return redirect(url_for("staff.application", application_id=application_id), code=303)
    return _render_application(app_row, status=422, correct=form)


@bp.route("/applications/<id:application_id>/attach", methods=["POST"])
def attach(application_id: int):
    """Make a new applicant a buyer of an existing practice the desk chose."""
    _application_or_404(application_id)
    form = AttachForm()

    def attach_now():
        try:
            joining.attach_to_practice(application_id, current_user, form.practice_id.data)
        except NotFound:
            abort(404)

    posted(form, attach_now, "The applicant is now a buyer of that practice; the practice they typed in is removed.")
    return redirect(url_for("staff.application", application_id=application_id), code=303)


# The desk's decisions: the form, its field with the note for the clinician, what the desk is told.
DECISIONS = {
    ApplicationAction.APPROVE: (ApproveForm, "note", "Approved. The clinician has been emailed and can order now."),
    ApplicationAction.REJECT: (RejectForm, "reason", "Rejected. The clinician has been emailed the reason."),
    ApplicationAction.REQUEST_INFO: (
        RequestInfoForm,
        "message",
        "Request sent. The application waits for the clinician's answer.",
    ),
}


def _decision(name: str):
    action = ApplicationAction(name)
    form_class, note_field, done = DECISIONS[action]
    return lambda application_id: _decide(
        application_id, form_class(), ACTION_TARGETS[action], note_field, done, slot=name
    )


add_post_routes(bp, "/applications/<id:application_id>/{name}", [a.value for a in DECISIONS], _decision)


@bp.route("/applications/<id:application_id>/documents/<id:document_id>")
def document(application_id: int, document_id: int):
    row = db.session.get(LicenceDocument, document_id)
    if row is None or row.application_id != application_id or not path_of(row.stored_name).is_file():
        abort(404)
    response = send_file(
        path_of(row.stored_name),
        mimetype=row.content_type,
        as_attachment=True,
        download_name=row.download_name,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
