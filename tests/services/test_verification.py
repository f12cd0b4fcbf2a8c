"""The verification desk's rules, called as the views call them: who may decide, what each
decision records and sends, which decisions can follow which, answering a request with a new
document, and two people deciding at the same moment."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from shop import clock
from shop.accounts import verification
from shop.accounts.licences import ApplicationEvent, ApplicationStatus, LicenceApplication, LicenceDocument
from shop.accounts.models import User
from shop.core import mailer
from shop.core.outbox import OutboxMessage
from shop.errors import InvalidDocument, InvalidTransition, NotEligible, NotFound
from shop.extensions import db
from tests.factories import PNG_BYTES, make_applicant, make_clinician, make_staff, upload
from tests.helpers import reload, row_count, uploaded_files
from tests.smtp import html_of, text_of

APPROVED, REJECTED, NEEDS_INFO, PENDING = (
    ApplicationStatus.APPROVED,
    ApplicationStatus.REJECTED,
    ApplicationStatus.NEEDS_INFO,
    ApplicationStatus.PENDING,
)
NOTES = {APPROVED: "", REJECTED: "The licence number does not match the register.", NEEDS_INFO: "Send both sides."}


def state(application_id: int) -> tuple:
    """Everything a decision could change."""
    application = reload(LicenceApplication, application_id)
    events = [(e.action, e.from_status, e.to_status, e.note) for e in application.events]
    return (
        application.status,
        application.decided_at,
        application.decided_by_id,
        application.decision_note,
        application.licence_expiry,
        application.queued_at,
        len(application.documents),
        events,
        row_count(OutboxMessage),
    )


def new_mail(mailbox) -> list:
    mailer.deliver_due()
    return list(mailbox.messages)


# --- decisions -------------------------------------------------------------------------


def test_approval_records_who_decided_and_when_and_emails_the_clinician(mailbox, settled):
    applicant = make_applicant(email="niamh@clinic.example", licence_number="MCI-777001")
    staff = make_staff(full_name="Sam Reviewer")
    settled()
    before = clock.now()

    verification.decide(applicant.application.id, staff, APPROVED, "Checked with the Medical Council.")

    after = clock.now()
    application = reload(LicenceApplication, applicant.application.id)
    assert application.status == APPROVED
    assert application.decided_by_id == staff.id
    assert before <= application.decided_at <= after
    assert application.decision_note == "Checked with the Medical Council."
    event = application.events[-1]
    assert (event.actor_id, event.action, event.from_status, event.to_status) == (
        staff.id,
        "approved",
        "pending",
        "approved",
    )
    assert event.note == "Checked with the Medical Council."
    assert before <= event.created_at <= after

    messages = new_mail(mailbox)
    assert [m["To"] for m in messages] == ["niamh@clinic.example"]
    assert messages[0]["Subject"] == "Your account is approved"
    body = text_of(messages[0])
    assert "MCI-777001" in body
    assert "Checked with the Medical Council." in body
    assert "http://shop.test/catalogue" in body
    assert "http://shop.test/catalogue" in html_of(messages[0])


def test_rejection_records_the_reason_and_emails_it_to_the_clinician(mailbox, settled):
    applicant = make_applicant(email="reject-me@clinic.example")
    staff = make_staff()
    settled()

    verification.decide(applicant.application.id, staff, REJECTED, "  The licence was suspended in 2023.  ")

    application = reload(LicenceApplication, applicant.application.id)
    assert application.status == REJECTED
    assert application.decided_by_id == staff.id
    assert application.decision_note == "The licence was suspended in 2023."
    event = application.events[-1]
    assert (event.actor_id, event.action, event.from_status, event.to_status, event.note) == (
        staff.id,
        "rejected",
        "pending",
        "rejected",
        "The licence was suspended in 2023.",
    )
    messages = new_mail(mailbox)
    assert [m["To"] for m in messages] == ["reject-me@clinic.example"]
    assert messages[0]["Subject"] == "Your application was not approved"
    assert "The licence was suspended in 2023." in text_of(messages[0])


def test_a_request_for_information_records_what_is_needed_and_emails_the_upload_link(mailbox, settled):
    applicant = make_applicant(email="more-info@clinic.example")
    staff = make_staff()
    settled()

    verification.decide(applicant.application.id, staff, NEEDS_INFO, "Please send the back of the card too.")

    application = reload(LicenceApplication, applicant.application.id)
    assert application.status == NEEDS_INFO
    assert application.decided_by_id == staff.id
    event = application.events[-1]
    assert (event.actor_id, event.action, event.from_status, event.to_status, event.note) == (
        staff.id,
        "info_requested",
        "pending",
        "needs_info",
        "Please send the back of the card too.",
    )
    messages = new_mail(mailbox)
    assert [m["To"] for m in messages] == ["more-info@clinic.example"]
    assert messages[0]["Subject"] == "We need more information"
    body = text_of(messages[0])
    assert "Please send the back of the card too." in body
    assert "http://shop.test/account" in body


@pytest.mark.parametrize("target", [REJECTED, NEEDS_INFO])
@pytest.mark.parametrize("note", ["", "   ", "\n\t"])
def test_rejecting_or_asking_for_more_without_saying_why_is_refused(target, note):
    applicant = make_applicant()
    staff = make_staff()
    before = state(applicant.application.id)
    with pytest.raises(NotEligible):
        verification.decide(applicant.application.id, staff, target, note)
    assert state(applicant.application.id) == before


def test_a_clinician_cannot_decide_on_an_application():
    applicant = make_applicant()
    clinician = make_clinician()
    before = state(applicant.application.id)
    for target in (APPROVED, REJECTED, NEEDS_INFO):
        with pytest.raises(NotEligible):
            verification.decide(applicant.application.id, clinician, target, "I approve myself.")
    with pytest.raises(NotEligible):
        verification.decide(applicant.application.id, applicant, APPROVED)
    assert state(applicant.application.id) == before


def test_deciding_on_an_application_that_does_not_exist_is_not_found():
    staff = make_staff()
    with pytest.raises(NotFound):
        verification.decide(424242, staff, APPROVED)
    assert row_count(OutboxMessage) == 0


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (APPROVED, APPROVED),
        (APPROVED, REJECTED),
        (APPROVED, NEEDS_INFO),
        (REJECTED, APPROVED),
        (REJECTED, REJECTED),
        (REJECTED, NEEDS_INFO),
        (NEEDS_INFO, NEEDS_INFO),
    ],
)
def test_a_decision_that_no_longer_applies_is_refused_and_changes_nothing(first, second):
    applicant = make_applicant()
    first_staff, second_staff = make_staff(), make_staff()
    verification.decide(applicant.application.id, first_staff, first, NOTES[first])
    before = state(applicant.application.id)

    with pytest.raises(InvalidTransition):
        verification.decide(applicant.application.id, second_staff, second, NOTES[second] or "second opinion")

    assert state(applicant.application.id) == before
    assert reload(LicenceApplication, applicant.application.id).decided_by_id == first_staff.id


@pytest.mark.parametrize("second", [APPROVED, REJECTED])
def test_an_application_waiting_for_the_clinician_can_still_be_decided(second):
    applicant = make_applicant()
    staff = make_staff()
    verification.decide(applicant.application.id, staff, NEEDS_INFO, "Send a clearer scan.")
    verification.decide(applicant.application.id, staff, second, NOTES[second])
    assert reload(LicenceApplication, applicant.application.id).status == second


def test_an_application_whose_licence_has_expired_cannot_be_approved():
    applicant = make_applicant(licence_expiry=clock.today() + timedelta(days=3))
    staff = make_staff()
    with time_machine.travel(clock.now() + timedelta(days=5)):
        before = state(applicant.application.id)
        with pytest.raises(NotEligible, match="expired"):
            verification.decide(applicant.application.id, staff, APPROVED)
        assert state(applicant.application.id) == before
        # Asking for a current licence is still possible.
        verification.decide(applicant.application.id, staff, NEEDS_INFO, "Your licence expired; send the renewal.")
        assert reload(LicenceApplication, applicant.application.id).status == NEEDS_INFO


def test_a_licence_that_expires_today_can_still_be_approved():
    applicant = make_applicant(licence_expiry=clock.today())
    verification.decide(applicant.application.id, make_staff(), APPROVED)
    assert reload(LicenceApplication, applicant.application.id).status == APPROVED


# --- the clinician's answer ------------------------------------------------------------


def test_a_new_document_answering_a_request_returns_the_application_to_the_queue(mailbox, settled, app_config):
    with time_machine.travel(clock.now() - timedelta(days=3)):
        applicant = make_applicant(full_name="Dr Aoife Byrne")
        first_queued = reload(LicenceApplication, applicant.application.id).queued_at
    staff = make_staff()
    verification.decide(applicant.application.id, staff, NEEDS_INFO, "The scan is blurred.")
    settled()
    new_expiry = clock.today() + timedelta(days=900)
    before = clock.now()

    verification.submit_document(applicant, upload(PNG_BYTES, "sharper.png"), new_expiry, "  Here is a sharper scan.  ")

    application = reload(LicenceApplication, applicant.application.id)
    assert application.status == PENDING
    assert application.queued_at >= before > first_queued
    assert application.licence_expiry == new_expiry
    assert len(application.documents) == 2
    latest = application.documents[-1]
    assert latest.content_type == "image/png"
    assert latest.original_filename == "sharper.png"
    assert latest.stored_name in uploaded_files(app_config)
    event = application.events[-1]
    assert (event.actor_id, event.action, event.from_status, event.to_status, event.note) == (
        applicant.id,
        "document_uploaded",
        "needs_info",
        "pending",
        "Here is a sharper scan.",
    )
    messages = new_mail(mailbox)
    assert [m["To"] for m in messages] == ["care@meridian-supply.example"]
    assert "Dr Aoife Byrne" in messages[0]["Subject"]
    body = text_of(messages[0])
    assert "Here is a sharper scan." in body
    assert f"http://shop.test/staff/applications/{application.id}" in body

    verification.decide(application.id, staff, APPROVED)
    assert reload(LicenceApplication, application.id).status == APPROVED


def test_a_pending_application_does_not_accept_a_document(app_config):
    applicant = make_applicant()
    files = uploaded_files(app_config)
    before = state(applicant.application.id)
    with pytest.raises(InvalidTransition):
        verification.submit_document(applicant, upload(), clock.today() + timedelta(days=400))
    assert state(applicant.application.id) == before
    assert uploaded_files(app_config) == files


def test_a_rejected_application_does_not_accept_a_document(app_config):
    applicant = make_applicant()
    verification.decide(applicant.application.id, make_staff(), REJECTED, "Not a licensed profession here.")
    before = state(applicant.application.id)
    with pytest.raises(InvalidTransition):
        verification.submit_document(applicant, upload(), clock.today() + timedelta(days=400))
    assert state(applicant.application.id) == before


@pytest.mark.parametrize(
    ("document", "days"),
    [
        (lambda: None, 400),
        (lambda: upload(b"just some text, not a scan", "licence.pdf"), 400),
        (lambda: upload(b"%PDF-1.4 ...", "licence.exe"), 400),
        (lambda: upload(b"", "licence.pdf"), 400),
        (upload, -1),
    ],
    ids=["missing", "fake-pdf", "wrong-extension", "empty", "expired"],
)
def test_an_unacceptable_answer_changes_nothing_and_leaves_no_file(document, days, app_config):
    applicant = make_applicant()
    verification.decide(applicant.application.id, make_staff(), NEEDS_INFO, "Send a clearer scan.")
    files = uploaded_files(app_config)
    before = state(applicant.application.id)
    with pytest.raises((InvalidDocument, NotEligible)):
        verification.submit_document(applicant, document(), clock.today() + timedelta(days=days), "hello")
    assert state(applicant.application.id) == before
    assert uploaded_files(app_config) == files


def test_a_verified_clinician_whose_licence_expired_can_send_a_renewal(mailbox, settled):
    clinician = make_clinician(licence_expiry=clock.today() + timedelta(days=10))
    staff = make_staff()
    settled()
    with time_machine.travel(clock.now() + timedelta(days=12)):
        assert not reload(LicenceApplication, clinician.application.id).applicant.is_verified(clock.today())
        renewed = clock.today() + timedelta(days=730)
        verification.submit_document(clinician, upload(), renewed, "Renewed last week.")
        application = reload(LicenceApplication, clinician.application.id)
        assert application.status == PENDING
        assert application.licence_expiry == renewed
        assert application.events[-1].action == "renewal_submitted"
        assert [m["To"] for m in new_mail(mailbox)] == ["care@meridian-supply.example"]

        verification.decide(application.id, staff, APPROVED)
        assert db.session.get(User, clinician.id).is_verified(clock.today())


def test_a_verified_clinician_with_a_current_licence_cannot_send_a_document():
    clinician = make_clinician()
    before = state(clinician.application.id)
    with pytest.raises(InvalidTransition):
        verification.submit_document(clinician, upload(), clock.today() + timedelta(days=2000))
    assert state(clinician.application.id) == before


# --- the queue -------------------------------------------------------------------------


def test_the_review_queue_puts_the_longest_waiting_first_whatever_the_order_of_ids():
    newer = make_applicant(full_name="Dr Newer")
    with time_machine.travel(clock.now() - timedelta(days=2)):
        oldest = make_applicant(full_name="Dr Oldest")
    with time_machine.travel(clock.now() - timedelta(days=1)):
        middle = make_applicant(full_name="Dr Middle")
    decided = make_applicant(full_name="Dr Decided")
    verification.decide(decided.application.id, make_staff(), REJECTED, "No.")

    pending = db.session.scalars(verification.review_queue([PENDING])).all()
    assert [a.applicant.full_name for a in pending] == ["Dr Oldest", "Dr Middle", "Dr Newer"]
    assert oldest.id > newer.id and middle.id > newer.id
    everything = db.session.scalars(verification.review_queue(None)).all()
    assert len(everything) == 4


# --- two people at once ----------------------------------------------------------------


def _race(data_app, application_id: int, deciders: list[tuple[int, ApplicationStatus, str]]) -> list[str]:
    """Run the decisions in threads that start together; each has its own app context."""
    barrier = threading.Barrier(len(deciders))
    outcomes: list[str] = []
    lock = threading.Lock()

    def decide(staff_id: int, target: ApplicationStatus, note: str) -> None:
        with data_app.app_context():
            try:
                staff = db.session.get(User, staff_id)
                barrier.wait(timeout=10)
                verification.decide(application_id, staff, target, note)
                outcome = "decided"
            except InvalidTransition:
                outcome = "refused"
            except Exception as error:  # noqa: BLE001 - any other failure is what this test reports
                outcome = f"failed: {error!r}"
            finally:
                db.session.remove()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=decide, args=d) for d in deciders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(outcomes)


@pytest.mark.parametrize("round_", range(3))
def test_two_staff_approving_at_the_same_moment_make_one_approval_and_one_email(data_app, mailbox, settled, round_):
    applicant = make_applicant(email=f"race{round_}@clinic.example")
    first, second = make_staff(), make_staff()
    settled()

    outcomes = _race(data_app, applicant.application.id, [(first.id, APPROVED, ""), (second.id, APPROVED, "")])

    assert outcomes == ["decided", "refused"]
    application = reload(LicenceApplication, applicant.application.id)
    assert application.status == APPROVED
    approvals = [e for e in application.events if e.action == "approved"]
    assert len(approvals) == 1
    assert application.decided_by_id == approvals[0].actor_id
    assert (
        db.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "application.approved")
        )
        == 1
    )
    messages = new_mail(mailbox)
    assert [m["Subject"] for m in messages] == ["Your account is approved"]


def test_an_approval_and_a_rejection_at_the_same_moment_leave_exactly_one_decision(data_app, mailbox, settled):
    applicant = make_applicant()
    approver, rejecter = make_staff(), make_staff()
    settled()

    outcomes = _race(
        data_app, applicant.application.id, [(approver.id, APPROVED, ""), (rejecter.id, REJECTED, "Not valid.")]
    )

    assert outcomes == ["decided", "refused"]
    application = reload(LicenceApplication, applicant.application.id)
    decisions = [e for e in application.events if e.action in ("approved", "rejected")]
    assert len(decisions) == 1
    assert application.status.value == decisions[0].to_status
    assert len(new_mail(mailbox)) == 1


def test_every_change_to_an_application_leaves_an_event_naming_its_actor():
    applicant = make_applicant()
    staff = make_staff()
    verification.decide(applicant.application.id, staff, NEEDS_INFO, "Clearer scan please.")
    verification.submit_document(applicant, upload(), clock.today() + timedelta(days=500), "")
    verification.decide(applicant.application.id, staff, APPROVED)
    events = db.session.scalars(
        select(ApplicationEvent)
        .where(ApplicationEvent.application_id == applicant.application.id)
        .order_by(ApplicationEvent.id)
    ).all()
    assert [(e.action, e.from_status, e.to_status, e.actor_id) for e in events] == [
        ("submitted", None, "pending", applicant.id),
        ("info_requested", "pending", "needs_info", staff.id),
        ("document_uploaded", "needs_info", "pending", applicant.id),
        ("approved", "pending", "approved", staff.id),
    ]
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(LicenceDocument)
            .where(LicenceDocument.application_id == applicant.application.id)
        )
        == 2
    )


def test_a_document_sent_twice_at_the_same_moment_is_filed_once_and_leaves_no_stray_file(data_app, app_config):
    applicant = make_applicant()
    verification.decide(applicant.application.id, make_staff(), NEEDS_INFO, "Clearer scan please.")
    files = set(uploaded_files(app_config))
    applicant_id = applicant.id
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def send() -> None:
        with data_app.app_context():
            try:
                clinician = db.session.get(User, applicant_id)
                barrier.wait(timeout=10)
                verification.submit_document(clinician, upload(), clock.today() + timedelta(days=600))
                outcomes.append("filed")
            except InvalidTransition:
                outcomes.append("refused")
            except Exception as error:  # noqa: BLE001 - any other failure is what this test reports
                outcomes.append(f"failed: {error!r}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["filed", "refused"]
    application = reload(LicenceApplication, applicant.application.id)
    assert application.status == PENDING
    assert len(application.documents) == 2
    assert [e.action for e in application.events].count("document_uploaded") == 1
    assert set(uploaded_files(app_config)) - files == {application.documents[-1].stored_name}
    assert (
        db.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "application.document_uploaded")
        )
        == 1
    )
