"""A renewed licence sent before the approved one expires: from 30 days ahead the clinician sends
it, keeps ordering on the approved licence (which orders keep naming), and the verification
desk approves it (it becomes the licence on file) or asks for another; never a rejection. The
approved licence lapsing while the renewal waits closes the account until the desk approves."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import select

from shop.accounts import verification
from shop.accounts.licences import (
    ApplicationAction,
    ApplicationStatus,
    LicenceApplication,
)
from shop.accounts.models import User
from shop.core import mailer
from shop.core.audit import AuditEntry
from shop.errors import InvalidTransition, NotEligible
from shop.extensions import db
from tests.factories import clinician_with_cart, make_clinician, make_staff, make_variant, place_order, upload
from tests.helpers import outbox, reload, uploaded_files
from tests.smtp import text_of

EXPIRY = date(2027, 6, 30)
RENEWED = date(2029, 6, 30)
APPROVED, NEEDS_INFO, REJECTED = ApplicationStatus.APPROVED, ApplicationStatus.NEEDS_INFO, ApplicationStatus.REJECTED


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def verified(clinician: User, day: date) -> bool:
    db.session.expire_all()
    return db.session.get(User, clinician.id).is_verified(day)


def application_of(clinician: User) -> LicenceApplication:
    return reload(LicenceApplication, clinician.application.id)


def test_a_renewal_can_be_sent_from_30_days_before_the_licence_expires_and_not_earlier(app_config):
    with time_machine.travel(at(date(2027, 5, 30)), tick=False) as traveller:
        clinician = make_clinician(licence_expiry=EXPIRY)
        assert ApplicationAction.SEND_DOCUMENT not in application_of(clinician).available_actions(date(2027, 5, 30))
        files = uploaded_files(app_config)
        with pytest.raises(InvalidTransition):
            verification.submit_document(clinician, upload(), RENEWED)
        assert uploaded_files(app_config) == files

        traveller.move_to(at(date(2027, 5, 31)))
        assert verification.can_submit_document(application_of(clinician), date(2027, 5, 31))
        verification.submit_document(clinician, upload(), RENEWED, "Renewed by the council.")

        application = application_of(clinician)
        assert application.status == APPROVED
        assert (application.licence_expiry, application.renewal_expiry) == (EXPIRY, RENEWED)
        assert application.renewal_waiting and len(application.documents) == 1  # an operator made the account
        event = application.events[-1]
        assert (event.action, event.from_status, event.to_status, event.note) == (
            "renewal_submitted",
            "approved",
            "approved",
            "Renewed by the council.",
        )
        assert verified(clinician, date(2027, 5, 31))
        # With the desk now: no second renewal until it decides.
        with pytest.raises(InvalidTransition):
            verification.submit_document(clinician, upload(), RENEWED)


def test_the_desk_is_told_of_a_renewal_sent_early(mailbox):
    with time_machine.travel(at(date(2027, 6, 10)), tick=False):
        clinician = make_clinician(licence_expiry=EXPIRY, full_name="Dr Orla Quinn")
        mailer.deliver_due()
        mailbox.clear()
        verification.submit_document(clinician, upload(), RENEWED, "Renewed.")
        mailer.deliver_due()
    [message] = mailbox.messages
    assert message["To"] == "care@meridian-supply.example"
    assert message["Subject"] == f"Application #{clinician.application.id}: renewed licence from Dr Orla Quinn"
    body = text_of(message)
    assert "Approved until:  2027-06-30" in body and "Renewed until:   2029-06-30" in body


def test_a_renewal_must_run_beyond_the_licence_on_file(app_config):
    with time_machine.travel(at(date(2027, 6, 10)), tick=False):
        clinician = make_clinician(licence_expiry=EXPIRY)
        files = uploaded_files(app_config)
        for expiry in (EXPIRY, date(2027, 6, 20)):
            with pytest.raises(NotEligible) as refused:
                verification.submit_document(clinician, upload(), expiry)
            assert refused.value.field == "licence_expiry" and "2027-06-30" in refused.value.message
        assert not application_of(clinician).renewal_waiting
        assert uploaded_files(app_config) == files


def test_the_desk_approves_a_renewal_which_becomes_the_licence_on_file(mailbox):
    with time_machine.travel(at(date(2027, 6, 10)), tick=False) as traveller:
        clinician = make_clinician(licence_expiry=EXPIRY)
        staff = make_staff(full_name="Jordan Lee")
        verification.submit_document(clinician, upload(), RENEWED)
        mailer.deliver_due()
        mailbox.clear()

        verification.decide(clinician.application.id, staff, APPROVED, "Checked with the council.")

        application = application_of(clinician)
        assert (application.status, application.licence_expiry, application.renewal_expiry) == (APPROVED, RENEWED, None)
        assert application.decided_by_id == staff.id
        assert application.events[-1].action == "renewal_approved"
        [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "application.renewal_approved"))
        assert entry.actor_id == staff.id
        assert entry.changes == {"licence_expiry": ["2027-06-30", "2029-06-30"]}
        mailer.deliver_due()
        [message] = mailbox.to(clinician.email)
        assert message["Subject"] == "Your renewed licence is verified"
        assert "until 30 Jun 2029" in " ".join(text_of(message).split())
        # A second click changes nothing.
        with pytest.raises(InvalidTransition):
            verification.decide(clinician.application.id, staff, APPROVED)

        traveller.move_to(at(date(2027, 7, 1)))
        assert verified(clinician, date(2027, 7, 1))


def test_the_desk_asks_for_another_renewal_and_the_approved_licence_stands(mailbox):
    with time_machine.travel(at(date(2027, 6, 10)), tick=False):
        clinician = make_clinician(licence_expiry=EXPIRY)
        staff = make_staff()
        verification.submit_document(clinician, upload(), RENEWED)
        mailer.deliver_due()
        mailbox.clear()

        with pytest.raises(NotEligible):  # what is needed must be said
            verification.decide(clinician.application.id, staff, NEEDS_INFO, " ")
        verification.decide(clinician.application.id, staff, NEEDS_INFO, "The scan is cut off; send the whole page.")

        application = application_of(clinician)
        assert (application.status, application.licence_expiry, application.renewal_expiry) == (APPROVED, EXPIRY, None)
        assert application.renewal_sent_back().note == "The scan is cut off; send the whole page."
        [entry] = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "application.renewal_info_requested")
        )
        assert entry.changes == {"renewal_expiry": ["2029-06-30", None]}
        mailer.deliver_due()
        [message] = mailbox.to(clinician.email)
        assert message["Subject"] == "We need another copy of your renewed licence"
        body = " ".join(text_of(message).split())
        assert "The scan is cut off" in body and "keeps your account open until 30 Jun 2027" in body
        assert verified(clinician, date(2027, 6, 10))

        verification.submit_document(clinician, upload(), RENEWED)
        assert application_of(clinician).renewal_waiting
        assert application_of(clinician).renewal_sent_back() is None


def test_a_renewal_is_never_rejected_and_never_corrected():
    with time_machine.travel(at(date(2027, 6, 10)), tick=False):
        clinician = make_clinician(licence_expiry=EXPIRY)
        staff = make_staff()
        verification.submit_document(clinician, upload(), RENEWED)
        application = application_of(clinician)
        assert application.available_actions(date(2027, 6, 10)) == {
            ApplicationAction.APPROVE,
            ApplicationAction.REQUEST_INFO,
        }
        assert not application.correctable(date(2027, 6, 10))

        with pytest.raises(InvalidTransition):
            verification.decide(application.id, staff, REJECTED, "No.")
        details = verification.LicenceDetails(application.profession, "NEW-1", application.licence_region, RENEWED)
        with pytest.raises(InvalidTransition):
            verification.correct(application.id, staff, details)

        application = application_of(clinician)
        assert (application.status, application.licence_number, application.renewal_expiry) == (
            APPROVED,
            clinician.application.licence_number,
            RENEWED,
        )


def test_orders_placed_while_a_renewal_waits_name_the_approved_licence():
    with time_machine.travel(at(date(2027, 6, 10)), tick=False):
        make_variant("REN-1", price_cents=10_000, stock=10)
        clinician = clinician_with_cart(("REN-1", 1), licence_expiry=EXPIRY)
        verification.submit_document(clinician, upload(), RENEWED)
        order = place_order(reload(clinician))
        assert order.licence_expiry == EXPIRY


def test_an_approved_licence_that_lapses_while_its_renewal_waits_closes_the_account_until_the_desk_approves():
    with time_machine.travel(at(date(2027, 6, 25)), tick=False) as traveller:
        clinician = make_clinician(licence_expiry=EXPIRY)
        staff = make_staff()
        verification.submit_document(clinician, upload(), RENEWED)

        traveller.move_to(at(date(2027, 7, 1)))
        assert not verified(clinician, date(2027, 7, 1))
        # The renewal is with the desk: nothing more to send.
        assert not verification.can_submit_document(application_of(clinician), date(2027, 7, 1))

        verification.decide(clinician.application.id, staff, APPROVED)
        assert verified(clinician, date(2027, 7, 1))
        assert application_of(clinician).licence_expiry == RENEWED


def test_a_renewal_that_itself_expired_while_waiting_cannot_be_approved():
    with time_machine.travel(at(date(2027, 6, 25)), tick=False) as traveller:
        clinician = make_clinician(licence_expiry=EXPIRY)
        staff = make_staff()
        verification.submit_document(clinician, upload(), date(2027, 7, 2))
        traveller.move_to(at(date(2027, 7, 3)))
        with pytest.raises(NotEligible) as refused:
            verification.decide(clinician.application.id, staff, APPROVED)
        assert "expired on 2027-07-02" in refused.value.message
        assert application_of(clinician).renewal_waiting


def test_two_desk_members_deciding_a_renewal_at_the_same_moment_decide_it_once(ctx):
    with time_machine.travel(at(date(2027, 6, 10)), tick=False):
        clinician = make_clinician(licence_expiry=EXPIRY)
        first, second = make_staff(), make_staff()
        verification.submit_document(clinician, upload(), RENEWED)
        application_id = clinician.application.id
        barrier = threading.Barrier(2)

        def decide(staff_id: int, target: ApplicationStatus, note: str) -> str:
            with ctx.app_context():
                try:
                    staff = db.session.get(User, staff_id)
                    barrier.wait(timeout=10)
                    verification.decide(application_id, staff, target, note)
                    return "decided"
                except InvalidTransition:
                    return "refused"
                finally:
                    db.session.remove()

        with ThreadPoolExecutor(max_workers=2) as pool:
            outcomes = sorted(
                pool.map(decide, (first.id, second.id), (APPROVED, NEEDS_INFO), ("", "Another scan, please."))
            )

        assert outcomes == ["decided", "refused"]
        application = application_of(clinician)
        decisions = [e.action for e in application.events if e.action in ("renewal_approved", "renewal_info_requested")]
        assert len(decisions) == 1 and application.renewal_expiry is None
        assert application.licence_expiry == (RENEWED if decisions == ["renewal_approved"] else EXPIRY)
        emails = outbox("licence.renewal_approved") + outbox("licence.renewal_returned")
        assert len(emails) == 1
