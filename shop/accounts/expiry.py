"""Licences watched: a verified clinician is emailed 30 and 7 days before the approved licence
expires, and when it lapses (the day after its expiry date, or within LAPSED_NOTICE_DAYS of it
when the check did not run that day); the verification desk lists the licences expiring soon
and those that lapsed.

Whether a licence lets its holder order is not decided here: `LicenceApplication.grants_access`
answers that at every order, whether or not the check ran. The check only tells people in time.
Each reminder is recorded with its email, in one transaction, under a unique (application,
expiry date, kind): it is sent once however often, and by however many workers at once, the
check runs. A check that finds a licence late sends the most urgent reminder due, never the
ones it missed; a renewed licence has a new date, so its holder is reminded afresh."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from shop import clock
from shop.accounts.licences import (
    RENEWAL_WINDOW_DAYS,
    ApplicationStatus,
    LicenceApplication,
    LicenceReminder,
    ReminderKind,
)
from shop.accounts.models import User
from shop.accounts.verification import confirmed_applications
from shop.core import events
from shop.core.db import unit_of_work
from shop.core.formatting import long_date
from shop.core.outbox import queue_email
from shop.extensions import db
from shop.urls import external_url

# How long after a lapse its notice is still sent (a check that did not run for a while), so
# that a first run never mails everyone whose licence lapsed long ago.
LAPSED_NOTICE_DAYS = 30
# The days before the expiry date from which each reminder is due, most urgent last.
REMINDER_DAYS = {ReminderKind.DAYS_30: RENEWAL_WINDOW_DAYS, ReminderKind.DAYS_7: 7}
URGENCY = list(ReminderKind)  # least urgent first

# The desk's lists, by the name in their link.
EXPIRY_LISTS = {"expiring": f"Expiring within {RENEWAL_WINDOW_DAYS} days", "lapsed": "Lapsed, awaiting renewal"}


def due_reminder(expires_on: date, today: date) -> ReminderKind | None:
    """The most urgent reminder due today about a licence valid to the end of `expires_on`."""
    days_left = (expires_on - today).days
    if days_left < 0:
        return ReminderKind.LAPSED if -days_left <= LAPSED_NOTICE_DAYS else None
    due = [kind for kind, days in REMINDER_DAYS.items() if days_left <= days]
    return due[-1] if due else None


def watched():
    """Approved licences of active clinicians who belong to a practice: those that order."""
    return confirmed_applications().where(
        LicenceApplication.status == ApplicationStatus.APPROVED,
        User.active.is_(True),
        User.practice_id.is_not(None),
    )


def check_licences(today: date | None = None) -> int:
    """Send every reminder due today; returns how many were sent. Safe to run as often as you
    like, and from several workers at once."""
    today = today or clock.today()
    window = watched().where(
        LicenceApplication.licence_expiry.between(
            today - timedelta(days=LAPSED_NOTICE_DAYS), today + timedelta(days=RENEWAL_WINDOW_DAYS)
        )
    )
    ids = db.session.scalars(window.with_only_columns(LicenceApplication.id)).all()
    sent = sent_reminders(ids)
    reminded = 0
    for application_id in ids:
        application = db.session.get(LicenceApplication, application_id)
        kind = _due(application, today, sent[application_id])
        if kind is not None:
            reminded += _remind(application, kind, today)
    return reminded


def sent_reminders(application_ids: Iterable[int]) -> dict[int, list[LicenceReminder]]:
    """The reminders sent about each application, oldest first, in one query."""
    ids = list(application_ids)
    rows = db.session.scalars(
        select(LicenceReminder).where(LicenceReminder.application_id.in_(ids)).order_by(LicenceReminder.id)
    ).all()
    found: dict[int, list[LicenceReminder]] = defaultdict(list)
    for row in rows:
        found[row.application_id].append(row)
    return found


def _due(application: LicenceApplication, today: date, sent: list[LicenceReminder]) -> ReminderKind | None:
    kind = due_reminder(application.licence_expiry, today)
    if kind is None or (application.renewal_waiting and kind != ReminderKind.LAPSED):
        return None  # a renewal sent early is with the desk: no need to ask for it
    already = [r.kind for r in sent if r.expires_on == application.licence_expiry]
    if any(URGENCY.index(earlier) >= URGENCY.index(kind) for earlier in already):
        return None
    return kind


def _remind(application: LicenceApplication, kind: ReminderKind, today: date) -> bool:
    expires_on = application.licence_expiry
    try:
        with unit_of_work():
            reminder = LicenceReminder(
                application_id=application.id, expires_on=expires_on, kind=kind, sent_at=clock.now()
            )
            db.session.add(reminder)
            db.session.flush()  # a reminder another worker sent a moment ago stops here
            message = _email(application, kind, today)
            db.session.flush()
            reminder.message_id = message.id
            events.record_note(
                application, None, "expiry_reminder", f"{kind.label}: the licence expires on {long_date(expires_on)}."
            )
    except IntegrityError:
        return False
    return True


def _email(application: LicenceApplication, kind: ReminderKind, today: date):
    expires_on = application.licence_expiry
    days_left = (expires_on - today).days
    if kind == ReminderKind.LAPSED:
        subject = f"Your licence expired on {long_date(expires_on)}: ordering is paused until we verify a renewed one"
    else:
        subject = f"Your licence expires in {days_left} day{'' if days_left == 1 else 's'}: send us the renewed one"
    return queue_email(
        kind=f"licence.{kind.value}",
        to=application.applicant.email,
        subject=subject,
        template="licence_expiring",
        user=application.applicant,
        application=application,
        lapsed=kind == ReminderKind.LAPSED,
        days_left=days_left,
        link=external_url("account.status"),
        reply_to=current_app.config["CUSTOMER_CARE_EMAIL"],
    )


# --- the desk's lists ---------------------------------------------------------------------------


def expiry_list(shown: str, today: date):
    """The approved licences of list `shown` (a key of EXPIRY_LISTS): expiring within the
    renewal window, soonest first, or lapsed, the latest lapse first."""
    if shown == "lapsed":
        return (
            watched()
            .where(LicenceApplication.licence_expiry < today)
            .order_by(LicenceApplication.licence_expiry.desc(), LicenceApplication.id)
        )
    return (
        watched()
        .where(LicenceApplication.licence_expiry.between(today, today + timedelta(days=RENEWAL_WINDOW_DAYS)))
        .order_by(LicenceApplication.licence_expiry, LicenceApplication.id)
    )


def count_expiring(today: date) -> int:
    return db.session.scalar(select(func.count()).select_from(expiry_list("expiring", today).order_by(None).subquery()))
