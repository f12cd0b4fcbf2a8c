"""Mail that has not gone out yet, so staff can see a stuck message and send it again."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from sqlalchemy import func, select

from shop.backoffice import bp
from shop.backoffice.dashboard import QueueCount, queue
from shop.core.mailer import retry_now
from shop.core.outbox import OutboxMessage
from shop.extensions import db
from shop.forms import EmptyForm


@bp.route("/mail")
def outbox():
    waiting = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.sent_at.is_(None)).order_by(OutboxMessage.created_at).limit(200)
    ).all()
    recent = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.sent_at.is_not(None)).order_by(OutboxMessage.sent_at.desc()).limit(25)
    ).all()
    return render_template("staff/outbox.html", waiting=waiting, recent=recent, retry=EmptyForm())


@bp.route("/mail/<id:message_id>/retry", methods=["POST"])
def retry_message(message_id: int):
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    if EmptyForm().validate_on_submit() and retry_now(message):
        flash("The message is queued to be sent again now.", "success")
    return redirect(url_for("staff.outbox"), code=303)


@queue(position=90)
def _undelivered_mail() -> list[QueueCount]:
    undelivered = db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
    )
    return [QueueCount(undelivered, "email not yet delivered", "emails not yet delivered", url_for("staff.outbox"))]
