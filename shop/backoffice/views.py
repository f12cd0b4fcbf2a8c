"""The back-office front page."""

from flask import render_template
from sqlalchemy import func, select

from shop.accounts.licences import ApplicationStatus, LicenceApplication
from shop.backoffice import bp
from shop.core.outbox import OutboxMessage
from shop.extensions import db


@bp.route("")
def dashboard():
    counts = dict(
        db.session.execute(select(LicenceApplication.status, func.count()).group_by(LicenceApplication.status)).all()
    )
    undelivered = db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
    )
    return render_template(
        "staff/dashboard.html",
        pending=counts.get(ApplicationStatus.PENDING, 0),
        needs_info=counts.get(ApplicationStatus.NEEDS_INFO, 0),
        undelivered=undelivered,
    )
