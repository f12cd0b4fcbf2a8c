"""Quotes running out: a sent quote past its validity is marked expired, and the clinician is
reminded QUOTE_REMINDER_DAYS before it ends, once per version. Acceptance checks validity itself,
so this only keeps the lists and the mail in step; it is safe to run as often as you like."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from shop import clock
from shop.core.db import unit_of_work
from shop.errors import InvalidTransition
from shop.extensions import db
from shop.quoting.mail import email_quote_expiring
from shop.quoting.models import Quote, QuoteStatus, QuoteVersion
from shop.quoting.quotes import change_status, record_event


def expire_quotes(now: datetime | None = None) -> tuple[int, int]:
    """Mark sent quotes past their validity as expired and remind clinicians two days before;
    returns (expired, reminded). Safe to run as often as you like."""
    now = now or clock.now()
    expired = reminded = 0
    window = timedelta(days=current_app.config["QUOTE_REMINDER_DAYS"])
    sent = db.session.scalars(select(Quote).where(Quote.status == QuoteStatus.SENT)).all()
    for quote in sent:
        version = quote.latest_sent
        if version is None:
            continue
        # Each quote on its own: one changed by someone else meanwhile is left for the next run.
        with suppress(InvalidTransition), unit_of_work():
            if version.expires_at <= now:
                change_status(quote, QuoteStatus.EXPIRED, None, "expired", f"v{version.number} expired.")
                expired += 1
            elif _reminder_due(version, now, window) and _claim_reminder(quote, version):
                record_event(quote, None, "reminded", quote.status.value, quote.status.value, f"v{version.number}")
                email_quote_expiring(quote, version)
                reminded += 1
    return expired, reminded


def _reminder_due(version: QuoteVersion, now: datetime, window: timedelta) -> bool:
    """Within `window` of the end, for a version sent before that window began (one sent with
    less time to run was just emailed with its validity; a reminder now would only repeat it)."""
    return version.expires_at - now <= window and version.sent_at <= version.expires_at - window


def _claim_reminder(quote: Quote, version: QuoteVersion) -> bool:
    result = db.session.execute(
        update(Quote)
        .where(Quote.id == quote.id, (Quote.reminded_version_id.is_(None)) | (Quote.reminded_version_id != version.id))
        .values(reminded_version_id=version.id)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
