"""The back-office front page: the work queue of every desk."""

from flask import render_template
from flask_login import current_user

from shop.backoffice import bp
from shop.backoffice.dashboard import work_queue


@bp.route("")
def dashboard():
    return render_template("staff/dashboard.html", queues=work_queue(current_user))
