"""The mail log: every message with its status, recipient, subject and the record it is about,
filtered; one message read as it was sent (its HTML in a sandbox); and any message sent again as
a new message that points to the original (audited)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from shop import clock
from shop.accounts.models import Role
from shop.core import mailer
from shop.core.audit import AuditEntry
from shop.core.outbox import OutboxMessage, queue_email
from shop.extensions import db
from tests.factories import make_applicant, make_staff, simple_quote
from tests.helpers import flashes, redirect_path, text


def log_section(response) -> str:
    html = response.get_data(as_text=True)
    return html[html.index('id="log-title"') :]


def message_to(address: str, kind: str | None = None) -> OutboxMessage:
    db.session.rollback()
    query = select(OutboxMessage).where(OutboxMessage.to_address == address).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return db.session.scalars(query).first()


@pytest.fixture
def desk(signed_in):
    member = make_staff(email="desk@supplier.example")
    return signed_in(member), member


def test_every_message_is_in_the_log_with_the_record_it_is_about(desk, mailbox):
    browser, _ = desk
    applicant = make_applicant(email="niamh@clinic.example", full_name="Dr Niamh Walsh")
    mailer.deliver_due()
    make_applicant(email="later@clinic.example", full_name="Dr Later")

    log = log_section(browser.get("/staff/mail"))

    assert "niamh@clinic.example" in log and "later@clinic.example" in log
    assert f"Application #{applicant.application.id} (Dr Niamh Walsh)" in log
    assert "Sent" in log and "Queued" in log


def test_the_log_is_filtered_by_status_kind_and_words(desk, mailbox, app):
    browser, _ = desk
    make_applicant(email="sent@clinic.example")
    mailer.deliver_due()
    make_applicant(email="waiting@clinic.example")
    failing = message_to("waiting@clinic.example", "application.received")
    failing.attempts = app.config["MAIL_MAX_ATTEMPTS"]
    failing.last_error = "550 mailbox unavailable"
    db.session.commit()

    sent = log_section(browser.get("/staff/mail?status=sent"))
    assert "sent@clinic.example" in sent and "waiting@clinic.example" not in sent
    only_failing = log_section(browser.get("/staff/mail?status=failing"))
    assert "waiting@clinic.example" in only_failing and "550 mailbox unavailable" in only_failing
    assert "sent@clinic.example" not in only_failing
    by_kind = log_section(browser.get("/staff/mail?kind=account.confirm_email"))
    assert "Confirm your email address" in by_kind and "We received your application" not in by_kind
    by_words = log_section(browser.get("/staff/mail?q=WAITING@"))
    assert "waiting@clinic.example" in by_words and "sent@clinic.example" not in by_words
    assert "No message matches these filters." in log_section(browser.get("/staff/mail?q=nobody-at-all"))
    assert browser.get("/staff/mail?status=bogus&kind=%00").status_code == 200


def test_a_message_a_worker_holds_shows_as_being_sent(desk):
    browser, _ = desk
    make_applicant(email="held@clinic.example")
    held = message_to("held@clinic.example")
    held.claimed_until = clock.now() + timedelta(minutes=5)
    db.session.commit()
    assert "Being sent" in log_section(browser.get("/staff/mail?status=sending"))


def test_a_message_is_read_as_it_was_sent_its_html_in_a_sandbox(desk, mailbox):
    browser, _ = desk
    applicant = make_applicant(email="niamh@clinic.example", full_name="Dr Niamh Walsh")
    mailer.deliver_due()
    row = message_to("niamh@clinic.example", "application.received")

    page = browser.get(f"/staff/mail/{row.id}")

    assert page.status_code == 200
    body = text(page)
    assert "We received your application" in body and "niamh@clinic.example" in body
    assert f"Application #{applicant.application.id} (Dr Niamh Walsh)" in body
    assert "MCI-402211" in body, "the plain text is shown"
    html = page.get_data(as_text=True)
    assert f'<iframe class="mail-frame" title="The message as HTML" sandbox src="/staff/mail/{row.id}/html">' in html

    framed = browser.get(f"/staff/mail/{row.id}/html")
    assert framed.status_code == 200 and "Dr Niamh Walsh" in framed.get_data(as_text=True)
    policy = framed.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy and "frame-ancestors 'self'" in policy
    assert "script-src" not in policy
    assert framed.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "no-store" in framed.headers["Cache-Control"]


def test_html_written_into_a_message_cannot_run_in_the_back_office(desk):
    browser, _ = desk
    queue_email(
        kind="test.hostile",
        to="x@clinic.example",
        subject="Hello",
        template="password_reset",
        user=make_staff(email="victim@supplier.example", full_name="<script>alert(1)</script>"),
        link="http://shop.test/x",
        hours=2,
    )
    db.session.commit()
    row = message_to("x@clinic.example")
    page = browser.get(f"/staff/mail/{row.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    framed = browser.get(f"/staff/mail/{row.id}/html")
    assert "sandbox" in framed.headers["Content-Security-Policy"]


def test_any_message_is_sent_again_as_a_new_message_pointing_to_the_original(desk, mailbox):
    browser, member = desk
    setup = simple_quote()
    mailer.deliver_due()
    original = message_to(setup.clinician.email, "quote.sent")
    assert original.sent_at is not None and original.attachments, "the quote goes with its PDF"

    response = browser.post(f"/staff/mail/{original.id}/send-again")

    copy = db.session.scalars(select(OutboxMessage).where(OutboxMessage.resent_from_id == original.id)).one()
    assert redirect_path(response) == f"/staff/mail/{copy.id}"
    assert ("success", f"A copy is queued to go to {setup.clinician.email} now.") in flashes(
        browser.get(f"/staff/mail/{copy.id}")
    )
    assert (copy.to_address, copy.subject, copy.text_body, copy.html_body) == (
        original.to_address,
        original.subject,
        original.text_body,
        original.html_body,
    )
    assert [a.data for a in copy.attachments] == [a.data for a in original.attachments]
    assert copy.sent_at is None and message_to(setup.clinician.email, "quote.sent").sent_at == original.sent_at
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "mail.resent")).all()
    assert entry.actor_id == member.id and entry.object_id == str(original.id)
    assert f"#{copy.id}" in entry.note

    before = len(mailbox.to(setup.clinician.email))
    mailer.deliver_due()
    assert len(mailbox.to(setup.clinician.email)) == before + 1
    original_page = text(browser.get(f"/staff/mail/{original.id}"))
    assert f"#{copy.id}" in original_page


def test_sending_again_without_the_form_token_sends_nothing(desk):
    browser, _ = desk
    make_applicant(email="csrf@clinic.example")
    row = message_to("csrf@clinic.example")
    browser.post(f"/staff/mail/{row.id}/send-again", {}, csrf=False)
    assert db.session.scalars(select(OutboxMessage).where(OutboxMessage.resent_from_id == row.id)).all() == []


def test_an_unknown_message_is_not_found(desk):
    browser, _ = desk
    for url in ("/staff/mail/999999", "/staff/mail/999999/html"):
        assert browser.get(url).status_code == 404
    assert browser.post("/staff/mail/999999/send-again").status_code == 404


@pytest.mark.parametrize(
    ("url", "path"),
    [("/password/forgot", "/password/reset/"), (None, "/register/confirm/")],
    ids=["password-reset", "address-confirmation"],
)
def test_links_that_act_for_the_recipient_are_hidden_from_staff(desk, client, url, path):
    browser, _ = desk
    if url:
        make_staff(email="admin.person@supplier.example", role=Role.ADMIN)
        client.post(url, {"email": "admin.person@supplier.example"})
        row = message_to("admin.person@supplier.example", "account.password_reset")
    else:
        make_applicant(email="new@clinic.example", confirmed=False)
        row = message_to("new@clinic.example", "account.confirm_email")
    assert path in row.text_body and path in row.html_body

    page = browser.get(f"/staff/mail/{row.id}").get_data(as_text=True)
    framed = browser.get(f"/staff/mail/{row.id}/html").get_data(as_text=True)

    token = row.text_body.split(path, 1)[1].split()[0]
    assert token not in page and token not in framed
    assert "[hidden: it works only for the recipient]" in page
