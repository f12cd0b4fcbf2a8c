"""Importing a catalogue CSV file in the back office: upload, watch the check, read the report,
apply it (or correct the file and upload it again), watch it being applied."""

from __future__ import annotations

from flask import jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from shop.access import Desk, desk_pages
from shop.backoffice import bp
from shop.catalogue import import_jobs
from shop.catalogue.csv_format import COLUMNS
from shop.catalogue.import_jobs import ImportJob
from shop.errors import ShopError
from shop.extensions import db
from shop.forms import EmptyForm, posted

desk_pages(__name__, Desk.CATALOGUE)


@bp.route("/catalogue/import", methods=["GET", "POST"])
def catalogue_import():
    form = EmptyForm()
    error = None
    if form.validate_on_submit():
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            error = "Choose the CSV file to import."
        else:
            try:
                job = import_jobs.start(
                    current_user, upload.stream.read(import_jobs.MAX_FILE_BYTES + 1), upload.filename
                )
            except ShopError as refusal:
                error = refusal.message
            else:
                return redirect(url_for("staff.catalogue_import_job", job_id=job.id), code=303)
    elif form.is_submitted():
        error = "Your form expired. Please choose the file again."
    return (
        render_template(
            "staff/catalogue/import.html", form=form, error=error, jobs=import_jobs.recent(), columns=COLUMNS
        ),
        422 if error else 200,
    )


def _job_or_404(job_id: int) -> ImportJob:
    return db.get_or_404(ImportJob, job_id)


@bp.route("/catalogue/import/<id:job_id>")
def catalogue_import_job(job_id: int):
    return render_template("staff/catalogue/import_job.html", job=_job_or_404(job_id), button=EmptyForm())


@bp.route("/catalogue/import/<id:job_id>/progress")
def catalogue_import_progress(job_id: int):
    job = _job_or_404(job_id)
    return jsonify(status=job.status.value, label=job.status.label, percent=job.percent, working=job.status.working)


@bp.route("/catalogue/import/<id:job_id>/apply", methods=["POST"])
def catalogue_import_apply(job_id: int):
    job = _job_or_404(job_id)
    posted(EmptyForm(), lambda: import_jobs.request_apply(current_user, job), "The import is being applied.")
    return redirect(url_for("staff.catalogue_import_job", job_id=job.id), code=303)
