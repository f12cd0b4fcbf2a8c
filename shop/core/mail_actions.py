"""What staff do with a message of the outbox: stop one that cannot be delivered, send one
waiting again now, or send any message again as a new one. Each is audited."""

from __future__ import annotations

from flask import current_app

from shop import clock
from shop.core import audit
from shop.core.db import unit_of_work
from shop.core.outbox import OutboxAttachment, OutboxMessage
from shop.extensions import db


def stop_sending(staff, message: OutboxMessage) -> bool:
    """A member of staff decides a message that cannot be delivered is not to be tried again;
    one already sent stays as it is. Returns whether it was stopped."""
    if message.sent_at is not None or message.gave_up_at is not None:
        return False
    with unit_of_work():
        message.gave_up_at = clock.now()
        message.claimed_until = None
        _audit(staff, "mail.stopped", message)
    return True


def send_again(staff, message: OutboxMessage) -> OutboxMessage:
    """A member of staff sends a message again, delivered or not: a new message with the same
    recipients, subject, bodies and attachments, pointing to the one it copies."""
    now = clock.now()
    with unit_of_work():
        copy = OutboxMessage(
            kind=message.kind,
            to_address=message.to_address,
            reply_to=message.reply_to,
            subject=message.subject,
            text_body=message.text_body,
            html_body=message.html_body,
            about=message.about,
            created_at=now,
            due_at=now,
            resent_from_id=message.id,
            attachments=[
                OutboxAttachment(filename=a.filename, content_type=a.content_type, data=a.data)
                for a in message.attachments
            ],
        )
        db.session.add(copy)
        db.session.flush()
        audit.record(staff, "mail.resent", message, note=f"Sent again as message #{copy.id}.")
    return copy


def _audit(staff, action: str, message: OutboxMessage) -> None:
    audit.record(staff, action, message, note=message.last_error)


def retry_now(staff, message: OutboxMessage) -> bool:
    """A member of staff puts a failed or waiting message back at the head of the queue; one
    already sent stays as it is. Returns whether it was queued again."""
    if message.sent_at is not None:
        return False
    with unit_of_work():
        message.gave_up_at = None
        message.due_at = clock.now()
        message.claimed_until = None
        if message.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
            message.attempts = 0
        _audit(staff, "mail.sent_again", message)
    return True
