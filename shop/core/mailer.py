"""Delivering the outbox.

`deliver_due` sends what is due over SMTP (or, in development without MAIL_SERVER, writes
`.eml` files) and reschedules failures with exponential back-off; it never raises for a
delivery problem, so nothing a user does waits on or fails because of SMTP. Messages are
queued by `shop.core.outbox.queue_email`.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import or_, select, update

from shop import clock
from shop.core.db import unit_of_work
from shop.core.outbox import OutboxMessage
from shop.errors import TransportUnavailable
from shop.extensions import db

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=6)


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0


class FileTransport:
    """Development delivery: each message becomes a readable `.eml` file."""

    def __init__(self, folder: str):
        self.folder = Path(folder)

    def __enter__(self) -> FileTransport:
        self.folder.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, *exc) -> None:
        return None

    def send(self, row: OutboxMessage, message: EmailMessage) -> None:
        name = f"{row.created_at:%Y%m%d-%H%M%S}-{row.id:06d}-{row.kind.replace('.', '-')}.eml"
        (self.folder / name).write_bytes(bytes(message))


class SMTPTransport:
    """One SMTP connection per batch, opened on the first message."""

    def __init__(self, config):
        self.config = config
        self.connection: smtplib.SMTP | None = None

    def __enter__(self) -> SMTPTransport:
        return self

    def __exit__(self, *exc) -> None:
        if self.connection is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.connection.quit()

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        try:
            if c["MAIL_USE_SSL"]:
                conn = smtplib.SMTP_SSL(
                    c["MAIL_SERVER"], c["MAIL_PORT"], timeout=c["MAIL_TIMEOUT"], context=ssl.create_default_context()
                )
            else:
                conn = smtplib.SMTP(c["MAIL_SERVER"], c["MAIL_PORT"], timeout=c["MAIL_TIMEOUT"])
                if c["MAIL_USE_TLS"]:
                    conn.starttls(context=ssl.create_default_context())
            if c["MAIL_USERNAME"]:
                conn.login(c["MAIL_USERNAME"], c["MAIL_PASSWORD"] or "")
        except (smtplib.SMTPException, OSError) as exc:
            raise TransportUnavailable(f"cannot reach {c['MAIL_SERVER']}:{c['MAIL_PORT']}: {exc}") from exc
        return conn

    def send(self, row: OutboxMessage, message: EmailMessage) -> None:
        if self.connection is None:
            self.connection = self._connect()
        try:
            self.connection.send_message(message)
        except (smtplib.SMTPServerDisconnected, ConnectionError) as exc:
            self.connection = None
            raise TransportUnavailable(str(exc)) from exc


def make_transport():
    config = current_app.config
    if config.get("MAIL_SERVER"):
        return SMTPTransport(config)
    if config["SHOP_ENV"] == "production":
        return None
    return FileTransport(config["MAIL_FILE_DIR"])


def build_message(row: OutboxMessage) -> EmailMessage:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_DEFAULT_SENDER"]
    message["To"] = row.to_address
    if row.reply_to:
        message["Reply-To"] = row.reply_to
    message["Subject"] = row.subject
    message["Date"] = format_datetime(row.created_at)
    message["Message-ID"] = message_id(row)
    message.set_content(row.text_body)
    if row.html_body:
        message.add_alternative(row.html_body, subtype="html")
    for attachment in row.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename)
    return message


def message_id(row: OutboxMessage) -> str:
    """The same Message-ID every time the row is sent: delivery is at least once (a worker killed
    between the relay's answer and the commit sends the row again), and mail clients and the
    desks' mailboxes fold a second copy with the same Message-ID into the first."""
    created = int(row.created_at.timestamp())
    return f"<outbox.{row.id}.{created}@{_sender_domain(current_app.config)}>"


def _sender_domain(config) -> str:
    sender = config["MAIL_DEFAULT_SENDER"]
    return sender.rsplit("@", 1)[-1].strip(" >") or "localhost"


def backoff(attempts: int) -> timedelta:
    """One minute after the first failure, doubling, at most six hours."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def due_ids(now: datetime, limit: int) -> list[int]:
    query = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.gave_up_at.is_(None),
            OutboxMessage.due_at <= now,
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        )
        .order_by(OutboxMessage.due_at, OutboxMessage.id)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def _claim(message_id: int) -> bool:
    """Take the row for this worker, for MAIL_CLAIM_SECONDS from now; false when another worker
    got it first. The claim runs from the moment it is taken, not from the start of the batch,
    so a long batch never takes rows whose claim is already over."""
    now = clock.now()
    claim = timedelta(seconds=current_app.config["MAIL_CLAIM_SECONDS"])
    with unit_of_work():
        result = db.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.sent_at.is_(None),
                OutboxMessage.gave_up_at.is_(None),
                or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
            )
            .values(claimed_until=now + claim, attempts=OutboxMessage.attempts + 1)
            .execution_options(synchronize_session=False)
        )
    return result.rowcount == 1


def _record_failure(row: OutboxMessage, error: str) -> None:
    """The message is tried again later, however often it failed: only a person stops it. From
    MAIL_MAX_ATTEMPTS failures on it shows as failing, for staff to look at."""
    now = clock.now()
    with unit_of_work():
        row.last_error = error[:2000]
        row.claimed_until = None
        row.due_at = now + backoff(row.attempts)
    if row.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        log.error("outbox message %s to %s keeps failing (attempt %s): %s", row.id, row.to_address, row.attempts, error)
    else:
        log.warning("outbox message %s failed (attempt %s): %s", row.id, row.attempts, error)


def deliver_due(limit: int = 200) -> DeliveryReport:
    """Send every due message once. Failures are rescheduled, never raised."""
    report = DeliveryReport()
    transport = make_transport()
    if transport is None:
        log.error("MAIL_SERVER is not set; outbox messages stay queued")
        return report
    now = clock.now()
    with transport:
        for message_id in due_ids(now, limit):
            if not _claim(message_id):
                continue
            row = db.session.get(OutboxMessage, message_id)
            try:
                transport.send(row, build_message(row))
            except TransportUnavailable as exc:
                _record_failure(row, str(exc))
                report.failed += 1
                break
            except (smtplib.SMTPException, OSError, ValueError) as exc:
                _record_failure(row, f"{type(exc).__name__}: {exc}")
                report.failed += 1
                continue
            with unit_of_work():
                row.sent_at = clock.now()
                row.claimed_until = None
                row.last_error = ""
            report.sent += 1
    return report


def run_worker(
    stop: threading.Event, interval: float, jobs: tuple = (), jobs_every: float = 60.0, each_round: tuple = ()
) -> None:
    """Deliver due mail every `interval` seconds, run the `each_round` jobs (work people wait
    for) after each delivery, and the other periodic `jobs` every `jobs_every` seconds, until
    `stop` is set. A round that fails (the database restarting, say) is logged and the next
    round tries again."""
    jobs_due = time.monotonic()
    while not stop.is_set():
        try:
            report = deliver_due()
            if report.sent or report.failed:
                log.info("mail worker: %s sent, %s failed", report.sent, report.failed)
            for job in each_round:
                job()
            if jobs and time.monotonic() >= jobs_due:
                jobs_due = time.monotonic() + jobs_every
                for job in jobs:
                    job()
        except Exception:  # noqa: BLE001 - a long-running worker must outlive one bad round
            log.exception("worker round failed; retrying in %ss", interval)
        finally:
            db.session.remove()
        stop.wait(interval)
