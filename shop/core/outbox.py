"""The outbox: every email is a row written in the same transaction as the change that caused
it, delivered later by the mailer (shop.core.mailer) with retries.

`queue_email` renders a message from `templates/email/<name>.txt|.html` and adds it to the
current database session, so it commits (or rolls back) with the business change that caused
it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app, render_template
from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop import clock
from shop.core.db import UTCDateTime
from shop.core.enums import LabelledEnum
from shop.core.formatting import one_line
from shop.core.letterhead import shop_details
from shop.extensions import db


class MailStatus(LabelledEnum):
    QUEUED = "queued", "Queued"
    RETRYING = "retrying", "Retrying"
    FAILING = "failing", "Failing, still retrying"  # MAIL_MAX_ATTEMPTS or more failures: staff look at it
    SENT = "sent", "Sent"
    STOPPED = "stopped", "Stopped by staff"


class OutboxMessage(db.Model):
    __tablename__ = "outbox_messages"

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

    attachments: Mapped[list[OutboxAttachment]] = relationship(
        back_populates="message", order_by="OutboxAttachment.id", cascade="all, delete-orphan"
    )

    @property
    def status(self) -> MailStatus:
        if self.sent_at:
            return MailStatus.SENT
        if self.gave_up_at:
            return MailStatus.STOPPED
        if self.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
            return MailStatus.FAILING
        return MailStatus.RETRYING if self.attempts else MailStatus.QUEUED


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
        text_body=render_template(f"email/{template}.txt", **context),
        html_body=render_template(f"email/{template}.html", subject=subject, **context),
        created_at=now,
        due_at=now,
        attachments=[
            OutboxAttachment(filename=name, content_type=ctype, data=data) for name, ctype, data in attachments
        ],
    )
    db.session.add(message)
    return message


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
