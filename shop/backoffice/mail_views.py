"""Mail that has not gone out yet, so staff can see a stuck message, send it again now, or
decide that it is not to be sent (the mailer never drops one by itself)."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from sqlalchemy import case, func, select

from shop.backoffice import bp
from shop.backoffice.dashboard import QueueCount, queue
from shop.core.mailer import retry_now, stop_sending
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


def _message_or_404(message_id: int) -> OutboxMessage:
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    return message


@bp.route("/mail/<id:message_id>/retry", methods=["POST"])
def retry_message(message_id: int):
    message = _message_or_404(message_id)
    if EmptyForm().validate_on_submit() and retry_now(message):
        flash("The message is queued to be sent again now.", "success")
    return redirect(url_for("staff.outbox"), code=303)


@bp.route("/mail/<id:message_id>/stop", methods=["POST"])
def stop_message(message_id: int):
    message = _message_or_404(message_id)
    if EmptyForm().validate_on_submit() and stop_sending(message):
        flash("The message will not be sent. Send it again from this page if you change your mind.", "success")
    return redirect(url_for("staff.outbox"), code=303)


@queue(position=90)
def _undelivered_mail() -> list[QueueCount]:
    failing = OutboxMessage.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]
    undelivered, stuck = db.session.execute(
        select(func.count(), func.coalesce(func.sum(case((failing, 1), else_=0)), 0)).where(
            OutboxMessage.sent_at.is_(None), OutboxMessage.gave_up_at.is_(None)
        )
    ).one()
    url = url_for("staff.outbox")
    return [
        QueueCount(undelivered, "email not yet delivered", "emails not yet delivered", url),
        QueueCount(stuck, "email failing to go out", "emails failing to go out", url),
    ]
