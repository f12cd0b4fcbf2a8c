"""The staff mail page: what has not gone out yet, and sending a stuck message again now."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from shop import clock
from shop.accounts import registration
from shop.core import mailer
from shop.core.outbox import OutboxMessage
from shop.extensions import db
from tests.factories import make_applicant, make_staff
from tests.helpers import flashes, redirect_path, text


def waiting_section(response) -> str:
    html = response.get_data(as_text=True)
    start = html.index('id="waiting-title"')
    return html[start : html.index('id="log-title"')]


def message_for(address: str) -> OutboxMessage:
    """The applicant's receipt (they were sent their confirmation link before it)."""
    db.session.rollback()
    db.session.expire_all()
    return db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.to_address == address, OutboxMessage.kind == "application.received")
    )


def receipts(mailbox, address: str) -> list:
    return [m for m in mailbox.to(address) if m["Subject"] == "We received your application"]


@pytest.fixture
def desk(signed_in):
    return signed_in(make_staff())


@pytest.fixture
def outage(mailbox):
    """The SMTP relay is down inside the block and back up afterwards, whatever happens."""

    class Outage:
        def __enter__(self):
            mailbox.stop()

        def __exit__(self, *exc):
            if not mailbox.running:
                mailbox.start()

    yield Outage()
    if not mailbox.running:
        mailbox.start()


def test_the_mail_page_lists_messages_not_yet_delivered_and_not_the_delivered_ones(desk, mailbox):
    make_applicant(email="delivered@clinic.example", full_name="Dr Delivered")
    mailer.deliver_due()
    make_applicant(email="waiting@clinic.example", full_name="Dr Waiting")

    response = desk.get("/staff/mail")

    assert response.status_code == 200
    waiting = waiting_section(response)
    assert "waiting@clinic.example" in waiting
    assert "We received your application" in waiting
    assert "Dr Waiting" in waiting  # the customer-care notice names the applicant
    assert "delivered@clinic.example" not in waiting
    assert "delivered@clinic.example" in text(response)  # in the log of every message


def test_with_everything_delivered_the_mail_page_says_so(desk, mailbox):
    make_applicant()
    mailer.deliver_due()
    response = desk.get("/staff/mail")
    assert "Every message has been delivered." in text(response)
    assert "Send now" not in text(response)


def test_a_message_held_back_by_an_outage_is_sent_at_once_with_send_now(desk, mailbox, outage):
    applicant = make_applicant(email="stuck@clinic.example", confirmed=False)
    mailer.deliver_due()  # the confirmation link goes out; the receipt follows the confirmation
    registration.confirm(applicant)
    with outage:
        report = mailer.deliver_due()
    assert report.failed >= 1 and report.sent == 0
    stuck = message_for("stuck@clinic.example")
    assert stuck.sent_at is None and stuck.attempts == 1 and stuck.due_at > clock.now()

    page = desk.get("/staff/mail")
    waiting = waiting_section(page)
    assert "stuck@clinic.example" in waiting and "Retrying" in waiting
    assert f'action="/staff/mail/{stuck.id}/retry"' in waiting

    # Back up, but the message waits for its back-off: a normal round does not send it yet
    # (only the notice to customer care, which was never tried, goes out).
    mailer.deliver_due()
    assert receipts(mailbox, "stuck@clinic.example") == []
    assert message_for("stuck@clinic.example").sent_at is None

    response = desk.post(f"/staff/mail/{stuck.id}/retry")

    assert response.status_code == 303
    assert redirect_path(response) == "/staff/mail"
    assert ("success", "The message is queued to be sent again now.") in flashes(desk.get("/staff/mail"))
    assert message_for("stuck@clinic.example").due_at <= clock.now()
    mailer.deliver_due()
    assert len(receipts(mailbox, "stuck@clinic.example")) == 1
    assert message_for("stuck@clinic.example").sent_at is not None
    assert "stuck@clinic.example" not in waiting_section(desk.get("/staff/mail"))


def test_a_message_staff_stopped_can_be_sent_again(desk, mailbox, app):
    make_applicant(email="given-up@clinic.example")
    row = message_for("given-up@clinic.example")
    row.attempts = app.config["MAIL_MAX_ATTEMPTS"]
    row.gave_up_at = clock.now()
    row.last_error = "550 mailbox unavailable"
    row.due_at = clock.now() + timedelta(hours=6)
    db.session.commit()
    mailer.deliver_due()
    assert receipts(mailbox, "given-up@clinic.example") == []

    page = waiting_section(desk.get("/staff/mail"))
    assert "Stopped by staff" in page and "550 mailbox unavailable" in page

    assert desk.post(f"/staff/mail/{row.id}/retry").status_code == 303

    requeued = message_for("given-up@clinic.example")
    assert requeued.gave_up_at is None and requeued.attempts == 0
    mailer.deliver_due()
    assert len(receipts(mailbox, "given-up@clinic.example")) == 1


def test_send_now_on_a_delivered_message_sends_nothing_twice(desk, mailbox):
    make_applicant(email="once@clinic.example")
    mailer.deliver_due()
    row = message_for("once@clinic.example")
    assert desk.post(f"/staff/mail/{row.id}/retry").status_code == 303
    mailer.deliver_due()
    assert len(receipts(mailbox, "once@clinic.example")) == 1


def test_send_now_for_an_unknown_message_is_not_found(desk):
    for url in ("/staff/mail/999999/retry", f"/staff/mail/{'9' * 30}/retry", "/staff/mail/0/retry"):
        assert desk.post(url).status_code == 404, url
    assert desk.post("/staff/mail/abc/retry").status_code == 404


def test_send_now_without_the_form_token_changes_nothing(desk, mailbox, outage):
    make_applicant(email="csrf@clinic.example")
    with outage:
        mailer.deliver_due()
    due = message_for("csrf@clinic.example").due_at
    response = desk.post(f"/staff/mail/{message_for('csrf@clinic.example').id}/retry", {}, csrf=False)
    assert response.status_code < 500
    assert message_for("csrf@clinic.example").due_at == due


def test_a_failing_message_is_counted_on_the_dashboard_and_staff_decide_to_stop_it(desk, mailbox, app):
    make_applicant(email="bounces@clinic.example")
    row = message_for("bounces@clinic.example")
    row.attempts = app.config["MAIL_MAX_ATTEMPTS"]
    row.last_error = "550 mailbox unavailable"
    db.session.commit()

    dashboard = text(desk.get("/staff"))
    assert "1 email failing to go out" in dashboard
    page = waiting_section(desk.get("/staff/mail"))
    assert "Failing, still retrying" in page and "Stop sending" in page

    response = desk.post(f"/staff/mail/{row.id}/stop")

    assert response.status_code == 303
    assert ("success", "The message will not be sent. Send it again from this page if you change your mind.") in (
        flashes(desk.get("/staff/mail"))
    )
    stopped = message_for("bounces@clinic.example")
    assert stopped.gave_up_at is not None and stopped.sent_at is None
    assert "0 emails failing to go out" in text(desk.get("/staff"))
    mailer.deliver_due()
    assert receipts(mailbox, "bounces@clinic.example") == []
