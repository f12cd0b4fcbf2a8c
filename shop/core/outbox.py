"""The outbox: every email is a row written in the same transaction as the change that caused
it, delivered later by the mailer (shop.core.mailer) with retries.

`queue_email` renders a message from `templates/email/<name>.txt|.html` and adds it to the
current database session, so it commits (or rolls back) with the business change that caused
it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import ForeignKey, LargeBinary, String, Text, and_, not_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop import clock
from shop.core import audit
from shop.core.db import UTCDateTime
from shop.core.enums import LabelledEnum
from shop.core.formatting import one_line
from shop.core.letterhead import shop_details
from shop.extensions import db


class MailStatus(LabelledEnum):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Being sent"  # a worker holds it now
    RETRYING = "retrying", "Retrying"
    FAILING = "failing", "Failing, still retrying"  # MAIL_MAX_ATTEMPTS or more failures: staff look at it
    SENT = "sent", "Sent"
    STOPPED = "stopped", "Stopped by staff"


class OutboxMessage(db.Model):
    __tablename__ = "outbox_messages"
    audit_type = "email"

    id: Mapped[int] = mapped_column(primary_key=True)
    # What kind of message this is (`application.received`...), for operators and tests.
    kind: Mapped[str] = mapped_column(String(60), index=True)
    to_address: Mapped[str] = mapped_column(String(254))
    reply_to: Mapped[str] = mapped_column(String(254), default="")
    subject: Mapped[str] = mapped_column(String(255))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Not before this moment; moved forward after every failed attempt. A message is retried
    # until it goes out or a person stops it (gave_up_at): the mailer never drops one by itself.
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    # A worker that claimed the row owns it until then, so two workers never send it twice.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    gave_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    # The record the message is about, in the words people know it by ("Order ORD-100001").
    about: Mapped[str] = mapped_column(String(160), default="", server_default="")
    # A copy a member of staff sent again points to the message it copies.
    resent_from_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_messages.id"))

    attachments: Mapped[list[OutboxAttachment]] = relationship(
        back_populates="message", order_by="OutboxAttachment.id", cascade="all, delete-orphan"
    )

    resent_from: Mapped[OutboxMessage | None] = relationship(remote_side="OutboxMessage.id")

    @property
    def described_as(self) -> str:
        return f"Email “{self.subject}” to {self.to_address}"

    @property
    def status(self) -> MailStatus:
        if self.sent_at:
            return MailStatus.SENT
        if self.gave_up_at:
            return MailStatus.STOPPED
        if self.claimed_until is not None and self.claimed_until > clock.now():
            return MailStatus.SENDING
        if self.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
            return MailStatus.FAILING
        return MailStatus.RETRYING if self.attempts else MailStatus.QUEUED


def in_status(status: MailStatus):
    """The SQL condition for messages in `status`, as `OutboxMessage.status` tells it."""
    m = OutboxMessage
    unsent = (m.sent_at.is_(None), m.gave_up_at.is_(None))
    held = and_(m.claimed_until.is_not(None), m.claimed_until > clock.now())
    most = current_app.config["MAIL_MAX_ATTEMPTS"]
    return {
        MailStatus.SENT: m.sent_at.is_not(None),
        MailStatus.STOPPED: and_(m.sent_at.is_(None), m.gave_up_at.is_not(None)),
        MailStatus.SENDING: and_(*unsent, held),
        MailStatus.FAILING: and_(*unsent, not_(held), m.attempts >= most),
        MailStatus.RETRYING: and_(*unsent, not_(held), m.attempts > 0, m.attempts < most),
        MailStatus.QUEUED: and_(*unsent, not_(held), m.attempts == 0),
    }[status]


class OutboxAttachment(db.Model):
    """A file sent with a message (a quote PDF), stored with it so a retry sends the same bytes."""

    __tablename__ = "outbox_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox_messages.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes] = mapped_column(LargeBinary)

    message: Mapped[OutboxMessage] = relationship(back_populates="attachments")


def queue_email(
    *,
    kind: str,
    to: str,
    subject: str,
    template: str,
    reply_to: str = "",
    attachments: tuple[tuple[str, str, bytes], ...] = (),
    **context,
) -> OutboxMessage:
    """Render `template` and add the message to the session; the caller's commit sends it.
    `attachments` are (filename, content type, bytes)."""
    # A subject is one header line: a line break from a name typed somewhere would make the
    # relay refuse the message on every attempt.
    subject = one_line(subject)
    now = clock.now()
    context.setdefault("shop", shop_details())
    message = OutboxMessage(
        kind=kind,
        to_address=to,
        reply_to=reply_to,
        subject=subject,
        about=_about(context)[:160],
        text_body=_render(f"email/{template}.txt", **context),
        html_body=_render(f"email/{template}.html", subject=subject, **context),
        created_at=now,
        due_at=now,
        attachments=[
            OutboxAttachment(filename=name, content_type=ctype, data=data) for name, ctype, data in attachments
        ],
    )
    db.session.add(message)
    return message


def _render(name: str, **context) -> str:
    """An email's template with only what it is given: no page's context (the header's counts,
    the signed-in person), so writing an email asks the database nothing."""
    return current_app.jinja_env.get_template(name).render(**context)


# The records a message's template is given, the one it is about first.
ABOUT_KEYS = ("order", "quote", "application", "user")


def _about(context: dict[str, Any]) -> str:
    """What a message is about: the first of its order, quote, application or person."""
    records = (context.get(key) for key in ABOUT_KEYS)
    return next((audit.label_of(record) for record in records if record is not None), "")


@dataclass(frozen=True)
class Correspondence:
    """The mail about one record (an order, a quote) between a desk and a clinician: the
    record's number in every subject, its links and the record itself in every message, and
    replies going to the other side."""

    desk: str  # the desk's mailbox
    clinician: str  # the clinician's address
    desk_subject: str  # with {} where the subject goes, e.g. "Q-100001: {}"
    clinician_subject: str  # e.g. "{} (Q-100001)"
    context: dict[str, Any]

    def to_desk(self, kind: str, subject: str, template: str, *, reply_to: str, **context) -> OutboxMessage:
        return queue_email(
            kind=kind,
            to=self.desk,
            reply_to=reply_to,
            subject=self.desk_subject.format(subject),
            template=template,
            **self.context,
            **context,
        )

    def to_clinician(self, kind: str, subject: str, template: str, **context) -> OutboxMessage:
        return queue_email(
            kind=kind,
            to=self.clinician,
            reply_to=self.desk,
            subject=self.clinician_subject.format(subject),
            template=template,
            **self.context,
            **context,
        )
