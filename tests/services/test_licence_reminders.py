"""Licences watched: `check-licences` emails a verified clinician 30 and 7 days before the
licence expires and on the day it lapses, each reminder once per licence, however often and
however many at once it runs; a run that finds a licence late sends the most urgent reminder
due, never the ones it missed; a renewed licence is reminded afresh; a renewal already with
the desk is not asked for again. The controllable clock stands in for the calendar."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from shop import clock
from shop.accounts import expiry, verification
from shop.accounts.licences import ApplicationStatus, LicenceApplication, LicenceReminder, ReminderKind
from shop.accounts.models import User
from shop.core import mailer
from shop.core.outbox import OutboxMessage
from shop.extensions import db
from tests.factories import make_applicant, make_clinician, make_staff, upload
from tests.helpers import reload
from tests.smtp import html_of, text_of

EXPIRY = date(2027, 6, 30)  # the licence works to the end of this day (Dublin)


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def licence_mail(mailbox, clinician: User) -> list:
    mailer.deliver_due()
    found = [m for m in mailbox.to(clinician.email) if "licence" in m["Subject"].lower()]
    mailbox.clear()
    return found


def kinds_sent(clinician: User) -> list[ReminderKind]:
    db.session.expire_all()
    application_id = db.session.get(User, clinician.id).application.id
    return list(
        db.session.scalars(
            select(LicenceReminder.kind)
            .where(LicenceReminder.application_id == application_id)
            .order_by(LicenceReminder.id)
        )
    )


def test_a_clinician_is_reminded_30_and_7_days_before_and_when_the_licence_lapses_once_each(cli, mailbox):
    with time_machine.travel(at(date(2027, 5, 1)), tick=False) as traveller:
        clinician = make_clinician(licence_expiry=EXPIRY, full_name="Dr Orla Quinn")
        mailbox.clear()
        subjects = []
        runs = [
            (date(2027, 5, 30), 0),  # 31 days before
            (date(2027, 5, 31), 1),  # 30 days before
            (date(2027, 5, 31), 0),  # the same day again
            (date(2027, 6, 22), 0),
            (date(2027, 6, 23), 1),  # 7 days before
            (date(2027, 6, 30), 0),  # the last valid day
            (date(2027, 7, 1), 1),  # lapsed
            (date(2027, 7, 2), 0),
        ]
        for day, expected in runs:
            traveller.move_to(at(day))
            result = cli("check-licences")
            assert result.exit_code == 0, result.output
            assert f"{expected} licence reminder{'' if expected == 1 else 's'} sent" in result.output, day
            subjects += [m["Subject"] for m in licence_mail(mailbox, clinician)]

    assert subjects == [
        "Your licence expires in 30 days: send us the renewed one",
        "Your licence expires in 7 days: send us the renewed one",
        "Your licence expired on 30 Jun 2027: ordering is paused until we verify a renewed one",
    ]
    assert kinds_sent(clinician) == [ReminderKind.DAYS_30, ReminderKind.DAYS_7, ReminderKind.LAPSED]


def test_the_reminder_says_how_to_upload_the_renewed_licence(mailbox):
    with time_machine.travel(at(date(2027, 6, 1)), tick=False) as traveller:
        clinician = make_clinician(licence_expiry=EXPIRY, full_name="Dr Orla Quinn")
        mailbox.clear()
        expiry.check_licences()
        [soon] = licence_mail(mailbox, clinician)
        traveller.move_to(at(date(2027, 7, 1)))
        expiry.check_licences()
        [lapsed] = licence_mail(mailbox, clinician)

    body = " ".join(text_of(soon).split())
    assert "Dear Dr Orla Quinn" in body
    assert "expires on 30 Jun 2027, in 29 days" in body
    assert 'Under "Upload your renewed licence"' in body and "http://shop.test/account" in body
    assert "your current licence keeps your account open until it" in body
    assert 'href="http://shop.test/account"' in html_of(soon)
    assert soon["Reply-To"] == "care@meridian-supply.example"
    lapsed_body = " ".join(text_of(lapsed).split())
    assert "expired on 30 Jun 2027" in lapsed_body and "cannot place orders or accept quotes" in lapsed_body
    assert "Your orders, quotes and invoices are kept as they are" in lapsed_body
    assert 'Under "Upload your renewed licence"' in lapsed_body


def test_a_run_that_finds_a_licence_late_sends_the_most_urgent_reminder_due_and_not_the_missed_ones(cli):
    with time_machine.travel(at(date(2027, 5, 1)), tick=False) as traveller:
        at_20_days = make_clinician(licence_expiry=date(2027, 6, 20))
        at_5_days = make_clinician(licence_expiry=date(2027, 6, 5))
        lapsed_3_days_ago = make_clinician(licence_expiry=date(2027, 5, 28))
        lapsed_long_ago = make_clinician(licence_expiry=date(2027, 4, 1))
        untouched = make_clinician(licence_expiry=date(2027, 7, 1))

        traveller.move_to(at(date(2027, 5, 31)))
        assert "3 licence reminders sent" in cli("check-licences").output

        assert kinds_sent(at_20_days) == [ReminderKind.DAYS_30]  # not past the 7-day mark yet
        assert kinds_sent(at_5_days) == [ReminderKind.DAYS_7]
        assert kinds_sent(lapsed_3_days_ago) == [ReminderKind.LAPSED]
        assert kinds_sent(lapsed_long_ago) == []  # more than 30 days: on the desk's list only
        assert kinds_sent(untouched) == []  # 31 days to go

        traveller.move_to(at(date(2027, 6, 13)))  # 7 days before the first one's expiry
        assert "3 licence reminders sent" in cli("check-licences").output
        assert kinds_sent(at_20_days) == [ReminderKind.DAYS_30, ReminderKind.DAYS_7]
        assert kinds_sent(at_5_days) == [ReminderKind.DAYS_7, ReminderKind.LAPSED]
        assert kinds_sent(lapsed_3_days_ago) == [ReminderKind.LAPSED]
        assert kinds_sent(untouched) == [ReminderKind.DAYS_30]


def test_reminders_are_sent_once_even_when_the_check_runs_many_times_at_once(ctx, mailbox):
    with time_machine.travel(at(date(2027, 6, 23)), tick=False):
        clinicians = [make_clinician(licence_expiry=EXPIRY) for _ in range(3)]
        lapsed = make_clinician(licence_expiry=date(2027, 6, 20))
        mailbox.clear()

        results = run_at_once(ctx, 4)

        assert sum(results) == 4
        for clinician in clinicians:
            assert kinds_sent(clinician) == [ReminderKind.DAYS_7]
        assert kinds_sent(lapsed) == [ReminderKind.LAPSED]
        db.session.expire_all()
        messages = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind.like("licence.%"))).all()
        assert sorted(m.to_address for m in messages) == sorted(c.email for c in [*clinicians, lapsed])
        mailer.deliver_due()
        assert sorted(m["To"] for m in mailbox.messages) == sorted(c.email for c in [*clinicians, lapsed])


def run_at_once(ctx, runs: int) -> list[int]:
    start = threading.Barrier(runs)

    def run():
        with ctx.app_context():
            try:
                start.wait(timeout=30)
                return expiry.check_licences()
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=runs) as pool:
        futures = [pool.submit(run) for _ in range(runs)]
        return [future.result(timeout=120) for future in futures]


def test_the_database_refuses_a_second_reminder_of_the_same_kind_for_the_same_licence():
    clinician = make_clinician(licence_expiry=EXPIRY)
    values = dict(
        application_id=clinician.application.id, expires_on=EXPIRY, kind=ReminderKind.DAYS_7, sent_at=clock.now()
    )
    db.session.add(LicenceReminder(**values))
    db.session.commit()
    db.session.add(LicenceReminder(**values))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    # Another kind, or another expiry date, is another reminder.
    db.session.add(LicenceReminder(**{**values, "kind": ReminderKind.LAPSED}))
    db.session.add(LicenceReminder(**{**values, "expires_on": date(2029, 6, 30)}))
    db.session.commit()


def test_each_reminder_is_in_the_licence_history_with_its_email():
    with time_machine.travel(at(date(2027, 6, 23)), tick=False):
        clinician = make_clinician(licence_expiry=EXPIRY)
        expiry.check_licences()
        application = reload(LicenceApplication, clinician.application.id)
        [event] = [e for e in application.events if e.action == "expiry_reminder"]
        assert event.label == "Reminded of the licence's expiry" and event.actor_id is None
        assert event.note == "7 days before expiry: the licence expires on 30 Jun 2027."
        [reminder] = db.session.scalars(select(LicenceReminder)).all()
        message = db.session.get(OutboxMessage, reminder.message_id)
        assert message.to_address == clinician.email and message.kind == "licence.7_days"


def test_a_licence_renewed_early_is_not_asked_for_again_and_its_new_date_is_reminded_afresh(mailbox):
    with time_machine.travel(at(date(2027, 6, 1)), tick=False) as traveller:
        clinician = make_clinician(licence_expiry=EXPIRY)
        staff = make_staff()
        assert expiry.check_licences() == 1  # the 30-day reminder
        verification.submit_document(clinician, upload(), date(2029, 6, 30), "Renewed.")

        traveller.move_to(at(date(2027, 6, 23)))
        assert expiry.check_licences() == 0  # the renewal is with the desk: no 7-day reminder

        verification.decide(clinician.application.id, staff, ApplicationStatus.APPROVED)
        traveller.move_to(at(date(2027, 7, 1)))
        assert expiry.check_licences() == 0  # nothing lapsed
        traveller.move_to(at(date(2029, 5, 31)))
        assert expiry.check_licences() == 1

    db.session.expire_all()
    rows = db.session.scalars(select(LicenceReminder).order_by(LicenceReminder.id)).all()
    assert [(r.expires_on, r.kind) for r in rows] == [
        (EXPIRY, ReminderKind.DAYS_30),
        (date(2029, 6, 30), ReminderKind.DAYS_30),
    ]


def test_a_licence_that_lapses_while_its_renewal_waits_is_reminded_that_the_desk_has_it(mailbox):
    with time_machine.travel(at(date(2027, 6, 25)), tick=False) as traveller:
        clinician = make_clinician(licence_expiry=EXPIRY)
        verification.submit_document(clinician, upload(), date(2029, 6, 30))
        mailer.deliver_due()
        mailbox.clear()
        traveller.move_to(at(date(2027, 7, 1)))
        assert expiry.check_licences() == 1
        [lapsed] = licence_mail(mailbox, clinician)
    body = " ".join(text_of(lapsed).split())
    assert "We have the renewed licence you sent on 25 Jun 2027" in body
    assert "Upload your renewed licence" not in body


def test_only_verified_clinicians_who_order_for_a_practice_are_reminded():
    with time_machine.travel(at(date(2027, 6, 23)), tick=False):
        reminded = make_clinician(licence_expiry=EXPIRY)
        inactive = make_clinician(licence_expiry=EXPIRY)
        reload(inactive).active = False
        removed = make_clinician(licence_expiry=EXPIRY)
        reload(removed).practice_id = None
        db.session.commit()
        make_applicant(licence_expiry=EXPIRY)  # still under review

        assert expiry.check_licences() == 1
        assert kinds_sent(reminded) == [ReminderKind.DAYS_7]
        assert kinds_sent(inactive) == kinds_sent(removed) == []


@pytest.mark.parametrize(
    ("days_left", "kind"),
    [
        (31, None),
        (30, ReminderKind.DAYS_30),
        (8, ReminderKind.DAYS_30),
        (7, ReminderKind.DAYS_7),
        (0, ReminderKind.DAYS_7),
        (-1, ReminderKind.LAPSED),
        (-30, ReminderKind.LAPSED),
        (-31, None),
    ],
)
def test_the_reminder_due_is_the_most_urgent_one_reached(days_left, kind):
    today = date(2027, 6, 1)
    assert expiry.due_reminder(today + timedelta(days=days_left), today) == kind
