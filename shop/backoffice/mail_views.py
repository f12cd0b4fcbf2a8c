"""The mail log: what has not gone out yet (send it now, or decide it is not to be sent: the
mailer never drops one by itself), every message filtered by status, kind and words, one
message read as it was sent, and sending any message again."""

from __future__ import annotations

import re

from flask import abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import case, func, or_, select

from shop.backoffice import bp
from shop.backoffice.dashboard import QueueCount, queue
from shop.core.db import contains
from shop.core.mail_actions import retry_now, send_again, stop_sending
from shop.core.outbox import MailStatus, OutboxMessage, in_status
from shop.core.paging import paginate
from shop.extensions import db
from shop.forms import EmptyForm, clean_text

# Links that act for the recipient (choose a password, accept an invitation, confirm an
# address and sign in): staff read the message without them, so reading the mail log never
# lets one person into another's account.
PERSONAL_LINK = re.compile(r"(/password/reset/|/welcome/|/register/confirm/)[A-Za-z0-9_.\-]+")


def without_personal_links(body: str) -> str:
    return PERSONAL_LINK.sub(r"\1[hidden: it works only for the recipient]", body or "")


# What a message's HTML may do when staff read it: show itself and its inline styles, nothing
# else (no script, no request anywhere, no form), inside the message page only.
HTML_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox; frame-ancestors 'self'"


@bp.route("/mail")
def outbox():
    waiting = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.sent_at.is_(None)).order_by(OutboxMessage.created_at).limit(200)
    ).all()
    status = request.args.get("status", "")
    status = MailStatus(status) if status in MailStatus._value2member_map_ else None
    kind = clean_text(request.args.get("kind", ""))[:60]
    q = clean_text(request.args.get("q", ""))[:80]
    query = select(OutboxMessage).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    if status is not None:
        query = query.where(in_status(status))
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    if q:
        query = query.where(
            or_(
                contains(OutboxMessage.to_address, q),
                contains(OutboxMessage.subject, q),
                contains(OutboxMessage.about, q),
            )
        )
    filters = {name: value for name, value in (("status", status), ("kind", kind), ("q", q)) if value}
    return render_template(
        "staff/outbox.html",
        waiting=waiting,
        page=paginate(query),
        filters=filters,
        statuses=list(MailStatus),
        kinds=db.session.scalars(select(OutboxMessage.kind).distinct().order_by(OutboxMessage.kind)).all(),
        retry=EmptyForm(),
    )


def _message_or_404(message_id: int) -> OutboxMessage:
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    return message


@bp.route("/mail/<id:message_id>")
def message(message_id: int):
    found = _message_or_404(message_id)
    copies = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.resent_from_id == found.id).order_by(OutboxMessage.id)
    ).all()
    return render_template(
        "staff/mail_message.html",
        message=found,
        text_body=without_personal_links(found.text_body),
        copies=copies,
        action_form=EmptyForm(),
    )


@bp.route("/mail/<id:message_id>/html")
def message_html(message_id: int):
    """The message's HTML alone, for the sandboxed frame of the message page."""
    html = without_personal_links(_message_or_404(message_id).html_body)
    response = make_response(html or "<p>This message has no HTML part.</p>")
    response.headers["Content-Security-Policy"] = HTML_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.route("/mail/<id:message_id>/retry", methods=["POST"])
def retry_message(message_id: int):
    found = _message_or_404(message_id)
    if EmptyForm().validate_on_submit() and retry_now(current_user, found):
        flash("The message is queued to be sent again now.", "success")
    return redirect(url_for("staff.outbox"), code=303)


@bp.route("/mail/<id:message_id>/stop", methods=["POST"])
def stop_message(message_id: int):
    found = _message_or_404(message_id)
    if EmptyForm().validate_on_submit() and stop_sending(current_user, found):
        flash("The message will not be sent. Send it again from this page if you change your mind.", "success")
    return redirect(url_for("staff.outbox"), code=303)


@bp.route("/mail/<id:message_id>/send-again", methods=["POST"])
def resend_message(message_id: int):
    found = _message_or_404(message_id)
    if EmptyForm().validate_on_submit():
        copy = send_again(current_user, found)
        flash(f"A copy is queued to go to {copy.to_address} now.", "success")
        return redirect(url_for("staff.message", message_id=copy.id), code=303)
    return redirect(url_for("staff.message", message_id=found.id), code=303)


@queue(position=90)
def _undelivered_mail() -> list[QueueCount]:
    failing = OutboxMessage.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]
    undelivered, stuck = db.session.execute(
        select(func.count(), func.coalesce(func.sum(case((failing, 1), else_=0)), 0)).where(
            OutboxMessage.sent_at.is_(None), OutboxMessage.gave_up_at.is_(None)
        )
    ).one()
    return [
        QueueCount(undelivered, "email not yet delivered", "emails not yet delivered", url_for("staff.outbox")),
        QueueCount(
            stuck,
            "email failing to go out",
            "emails failing to go out",
            url_for("staff.outbox", status=MailStatus.FAILING.value),
        ),
    ]
