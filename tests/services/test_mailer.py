"""The outbox mailer: mail is a row committed with the business change, delivered to a real
SMTP server by `send-mail` or the worker, retried with back-off through an outage, given up
after MAIL_MAX_ATTEMPTS, and never sent twice."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from email import message_from_bytes, policy
from types import SimpleNamespace

import pytest
import time_machine
from sqlalchemy import func, select

from shop import clock, create_app
from shop.accounts import users as accounts
from shop.accounts.models import Role, User
from shop.core.mailer import backoff, build_message, deliver_due, due_ids, run_worker
from shop.core.outbox import OutboxMessage, queue_email
from shop.extensions import db
from tests.factories import PASSWORD, make_applicant, make_staff, registration_form
from tests.helpers import redirect_path, row_count, text
from tests.smtp import html_of, text_of


def _queue(to: str = "ana@clinic.example", subject: str = "Reset your password", *, reply_to: str = "") -> int:
    """One message in the outbox, committed; returns its id."""
    message = queue_email(
        kind="test.note",
        to=to,
        subject=subject,
        template="password_reset",
        reply_to=reply_to,
        user=SimpleNamespace(full_name="Dr Ana Ruiz"),
        link="http://shop.test/password/reset/abc",
        hours=2,
    )
    db.session.commit()
    return message.id


def _row(message_id: int) -> OutboxMessage:
    db.session.expire_all()
    return db.session.get(OutboxMessage, message_id)


@pytest.fixture
def smtp_outage(smtp_server):
    """The SMTP relay goes down; it is started again however the test ends."""
    smtp_server.clear()
    smtp_server.stop()
    try:
        yield smtp_server
    finally:
        if not smtp_server.running:
            smtp_server.start()


@pytest.fixture
def frozen():
    with time_machine.travel(clock.now(), tick=False) as traveller:
        yield traveller


# --- the outbox and the transaction -----------------------------------------------------


def test_mail_queued_in_a_transaction_that_rolls_back_leaves_no_row():
    accounts.new_user(email="casey@supplier.example", password=None, full_name="Casey Byrne", role=Role.STAFF)
    queue_email(
        kind="staff.invited",
        to="casey@supplier.example",
        subject="Your staff account",
        template="password_reset",
        user=SimpleNamespace(full_name="Casey Byrne"),
        link="http://shop.test/welcome/x",
        hours=2,
    )
    db.session.rollback()
    assert row_count(OutboxMessage) == 0
    assert row_count(User) == 0


def test_mail_queued_with_a_business_change_is_committed_with_it(mailbox):
    admin = make_staff(role=Role.ADMIN, email="admin@supplier.example")
    accounts.invite_staff(admin=admin, email="casey@supplier.example", full_name="Casey Byrne", role=Role.STAFF)
    db.session.expire_all()
    [row] = db.session.scalars(select(OutboxMessage)).all()
    assert (row.kind, row.to_address, row.status) == ("staff.invited", "casey@supplier.example", "queued")
    # Queuing sent nothing: the request did not wait on SMTP.
    assert mailbox.messages == []


# --- send-mail --------------------------------------------------------------------------


def test_send_mail_delivers_due_messages_with_text_and_html_from_the_default_sender(cli, mailbox, ctx):
    make_applicant(email="pending@clinic.example", full_name="Dr Niamh Walsh")
    care = ctx.config["CUSTOMER_CARE_EMAIL"]

    result = cli("send-mail")

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "3 sent, 0 failed"
    assert len(mailbox.messages) == 3
    for message in mailbox.messages:
        assert message["From"] == ctx.config["MAIL_DEFAULT_SENDER"]
        assert message.get_content_type() == "multipart/alternative"
        assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
        assert message["Message-ID"] and message["Date"]
    confirm, to_applicant = sorted(mailbox.to("pending@clinic.example"), key=lambda m: m["Subject"])
    assert confirm["Subject"] == "Confirm your email address to send your application"
    assert to_applicant["Subject"] == "We received your application"
    assert to_applicant["Reply-To"] == care
    assert "Dr Niamh Walsh" in text_of(to_applicant)
    assert "<html" in html_of(to_applicant).lower()
    assert "http://shop.test/account" in text_of(to_applicant)
    [to_desk] = mailbox.to(care)
    assert to_desk["Reply-To"] is None
    assert all(row.sent_at is not None for row in db.session.scalars(select(OutboxMessage)))


def test_send_mail_sends_each_message_only_once(cli, mailbox):
    _queue("ana@clinic.example")
    assert cli("send-mail").output.strip() == "1 sent, 0 failed"
    assert cli("send-mail").output.strip() == "0 sent, 0 failed"
    assert len(mailbox.messages) == 1


def test_send_mail_reports_failures_when_the_relay_is_down(cli, smtp_outage):
    _queue("ana@clinic.example")
    result = cli("send-mail")
    assert result.exit_code == 0
    assert result.output.strip() == "0 sent, 1 failed"


def test_a_message_not_yet_due_waits(mailbox, frozen):
    message_id = _queue()
    row = _row(message_id)
    row.due_at = clock.now() + timedelta(minutes=10)
    db.session.commit()
    assert deliver_due().sent == 0
    frozen.shift(timedelta(minutes=10))
    assert deliver_due().sent == 1
    assert len(mailbox.messages) == 1


# --- outages ----------------------------------------------------------------------------


def test_an_smtp_outage_keeps_the_message_and_retries_it_later_exactly_once(smtp_outage, frozen):
    message_id = _queue("ana@clinic.example")
    started = clock.now()

    report = deliver_due()

    assert (report.sent, report.failed) == (0, 1)
    row = _row(message_id)
    assert row.sent_at is None and row.gave_up_at is None
    assert row.attempts == 1
    assert "cannot reach" in row.last_error
    assert row.due_at == started + timedelta(minutes=1)
    assert row.status == "retrying"

    smtp_outage.start()
    # Back, but the message is not due again yet.
    assert (deliver_due().sent, smtp_outage.messages) == (0, [])
    frozen.shift(timedelta(minutes=1, seconds=1))
    assert deliver_due().sent == 1
    assert deliver_due().sent == 0
    frozen.shift(timedelta(hours=1))
    assert deliver_due().sent == 0

    assert len(smtp_outage.messages) == 1
    assert smtp_outage.messages[0]["To"] == "ana@clinic.example"
    row = _row(message_id)
    assert row.status == "sent"
    assert row.last_error == ""


def test_each_failure_pushes_the_next_attempt_further_back(smtp_outage, frozen):
    message_id = _queue()
    waits = []
    for _ in range(4):
        before = clock.now()
        deliver_due()
        row = _row(message_id)
        waits.append(row.due_at - before)
        frozen.move_to(row.due_at)
    assert waits == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4), timedelta(minutes=8)]
    assert _row(message_id).attempts == 4


def test_the_back_off_is_capped_at_six_hours():
    assert backoff(1) == timedelta(minutes=1)
    assert backoff(20) == timedelta(hours=6)


def test_an_outage_loses_none_of_several_messages(smtp_outage, frozen):
    ids = [_queue(f"clinic{n}@clinic.example", f"Message {n}") for n in range(3)]
    report = deliver_due()
    assert report.sent == 0
    assert all(_row(i).sent_at is None for i in ids)

    smtp_outage.start()
    frozen.shift(timedelta(minutes=2))
    assert deliver_due().sent == 3
    assert sorted(m["Subject"] for m in smtp_outage.messages) == ["Message 0", "Message 1", "Message 2"]


def test_a_password_reset_asked_for_during_an_outage_succeeds_and_arrives_later(client, smtp_outage, frozen):
    make_staff(email="desk@supplier.example")
    response = client.post("/password/forgot", {"email": "desk@supplier.example"})
    assert response.status_code == 303
    assert "we have emailed it a link" in text(client.get(redirect_path(response)))

    assert deliver_due().failed == 1
    smtp_outage.start()
    frozen.shift(timedelta(minutes=5))
    assert deliver_due().sent == 1
    [message] = smtp_outage.to("desk@supplier.example")
    assert message["Subject"] == "Reset your password"
    assert re.search(r"/password/reset/\S+", text_of(message))


def test_a_registration_during_an_outage_succeeds_and_its_mail_arrives_later(client, smtp_outage, frozen, ctx):
    response = client.post(
        "/register", registration_form(email="new.applicant@clinic.example"), content_type="multipart/form-data"
    )
    assert response.status_code == 303
    assert redirect_path(response) == "/register/sent"

    deliver_due()
    smtp_outage.start()
    frozen.shift(timedelta(minutes=5))
    deliver_due()
    assert [m["Subject"] for m in smtp_outage.to("new.applicant@clinic.example")] == [
        "Confirm your email address to send your application"
    ]


# --- giving up and retrying -------------------------------------------------------------


def test_after_mail_max_attempts_a_message_shows_as_failing_and_is_still_retried_until_it_goes_out(
    smtp_outage, frozen, ctx, monkeypatch
):
    monkeypatch.setitem(ctx.config, "MAIL_MAX_ATTEMPTS", 3)
    message_id = _queue("ana@clinic.example")
    for _ in range(3):
        assert deliver_due().failed == 1
        frozen.shift(timedelta(hours=6, seconds=1))

    row = _row(message_id)
    assert row.status == "failing"
    assert row.gave_up_at is None
    assert row.attempts == 3
    assert row.last_error

    smtp_outage.start()
    frozen.shift(timedelta(days=2))
    assert deliver_due().sent == 1
    assert len(smtp_outage.messages) == 1
    assert _row(message_id).status == "sent"


def test_an_smtp_outage_over_a_long_weekend_loses_nothing(smtp_outage, frozen, ctx):
    """Four days without a relay, a worker round every few minutes: the message is tried again
    and again (at most six hours apart) and never dropped; it goes out when the relay is back."""
    message_id = _queue("ana@clinic.example", "Order confirmation")
    for _ in range(4 * 24 * 12):  # every five minutes for four days
        deliver_due()
        frozen.shift(timedelta(minutes=5))
    row = _row(message_id)
    assert row.sent_at is None and row.gave_up_at is None
    assert row.attempts >= 4 * 4  # still trying, at least every six hours
    assert row.due_at - clock.now() <= timedelta(hours=6)

    smtp_outage.start()
    frozen.shift(timedelta(hours=6))
    assert deliver_due().sent == 1
    [message] = smtp_outage.messages
    assert message["Subject"] == "Order confirmation"


def test_staff_can_send_a_failing_message_again_at_once_from_the_back_office(
    client, smtp_outage, frozen, ctx, monkeypatch
):
    monkeypatch.setitem(ctx.config, "MAIL_MAX_ATTEMPTS", 1)
    message_id = _queue("ana@clinic.example")
    deliver_due()
    assert _row(message_id).status == "failing"
    smtp_outage.start()

    make_staff(email="desk@supplier.example")
    client.login("desk@supplier.example", PASSWORD)
    response = client.post(f"/staff/mail/{message_id}/retry")
    assert response.status_code == 303
    assert deliver_due().sent == 1
    assert len(smtp_outage.messages) == 1


# --- several workers --------------------------------------------------------------------


def test_two_workers_delivering_at_the_same_moment_never_send_a_message_twice(ctx, mailbox):
    subjects = [f"Order confirmation {n}" for n in range(30)]
    for subject in subjects:
        _queue("ana@clinic.example", subject)
    start = threading.Barrier(2)

    def worker():
        with ctx.app_context():
            try:
                start.wait(timeout=10)
                return deliver_due()
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = [future.result(timeout=120) for future in [pool.submit(worker), pool.submit(worker)]]

    assert sum(r.sent for r in reports) == 30
    assert sum(r.failed for r in reports) == 0
    received = sorted(m["Subject"] for m in mailbox.wait_for(30))
    assert received == sorted(subjects)
    assert db.session.scalar(select(func.count()).where(OutboxMessage.sent_at.is_(None))) == 0
    assert set(db.session.scalars(select(OutboxMessage.attempts))) == {1}


def test_two_workers_never_send_the_same_message_however_long_a_batch_takes(ctx, mailbox):
    """A relay that takes a minute a message makes one worker's batch outlast a claim (five
    minutes): rows it takes late in the batch must still be its own, so a second worker starting
    meanwhile leaves them alone."""
    traveller = time_machine.travel(clock.now(), tick=True)
    shifted = traveller.start()
    mailbox.delay = 0.1
    mailbox.on_message = lambda: shifted.shift(timedelta(minutes=1))
    subjects = [f"Order confirmation {n}" for n in range(16)]
    for subject in subjects:
        _queue("ana@clinic.example", subject)

    def worker(pause: float):
        with ctx.app_context():
            try:
                time.sleep(pause)
                sent = 0
                for _ in range(40):  # a worker's rounds, until nothing is left
                    report = deliver_due()
                    sent += report.sent
                    if not report.sent and not due_ids(clock.now(), 1):
                        break
                    time.sleep(0.05)
                return sent
            finally:
                db.session.remove()

    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            sent = [future.result(timeout=120) for future in [pool.submit(worker, 0), pool.submit(worker, 0.9)]]
    finally:
        traveller.stop()

    received = mailbox.wait_for(16)
    assert sorted(m["Subject"] for m in received) == sorted(subjects)
    assert len({m["Message-ID"] for m in received}) == 16
    assert sum(sent) == 16


def test_a_message_keeps_its_message_id_whenever_it_is_sent_again(ctx):
    first, second = _queue("ana@clinic.example", "One"), _queue("ana@clinic.example", "Two")
    again = build_message(_row(first))["Message-ID"]

    assert build_message(_row(first))["Message-ID"] == again
    assert build_message(_row(second))["Message-ID"] != again
    assert again.startswith(f"<outbox.{first}.") and again.endswith("@meridian-supply.example>")


# --- development and production without a relay -----------------------------------------


def test_without_mail_server_development_writes_readable_eml_files(app_config, tmp_path, shop_logger):
    make_staff(email="desk@supplier.example")
    accounts.request_password_reset("desk@supplier.example")
    folder = tmp_path / "dev-mail"
    development = create_app("development", **{**app_config, "MAIL_SERVER": None, "MAIL_FILE_DIR": str(folder)})
    try:
        with development.app_context():
            report = deliver_due()
    finally:
        with development.app_context():
            db.engine.dispose()

    assert (report.sent, report.failed) == (1, 0)
    [path] = folder.glob("*.eml")
    assert path.name.endswith("-account-password_reset.eml")
    raw = path.read_bytes()
    assert b"Subject: Reset your password" in raw
    message = message_from_bytes(raw, policy=policy.default)
    assert message["To"] == "desk@supplier.example"
    assert message["From"] == development.config["MAIL_DEFAULT_SENDER"]
    assert "/password/reset/" in text_of(message)
    assert "/password/reset/" in html_of(message)
    assert db.session.scalar(select(OutboxMessage.sent_at)) is not None


def test_a_production_shop_without_mail_server_keeps_mail_queued(ctx, monkeypatch):
    monkeypatch.setitem(ctx.config, "SHOP_ENV", "production")
    monkeypatch.setitem(ctx.config, "MAIL_SERVER", None)
    message_id = _queue()
    report = deliver_due()
    assert (report.sent, report.failed) == (0, 0)
    row = _row(message_id)
    assert (row.status, row.attempts) == ("queued", 0)


# --- the worker loop --------------------------------------------------------------------


@pytest.fixture
def worker(ctx):
    """Runs shop.core.mailer.run_worker in a thread, as `flask mail-worker` does; stops it afterwards."""
    stop = threading.Event()
    threads = []

    def start(interval: float, **options) -> threading.Thread:
        def loop():
            with ctx.app_context():
                run_worker(stop, interval, **options)

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        threads.append(thread)
        return thread

    yield start, stop
    stop.set()
    for thread in threads:
        thread.join(timeout=10)


def test_the_mail_worker_delivers_as_mail_arrives_and_stops_when_asked(worker, mailbox):
    start, stop = worker
    _queue("first@clinic.example")
    thread = start(0.05)
    assert len(mailbox.wait_for(1)) == 1
    _queue("second@clinic.example")
    assert len(mailbox.wait_for(2)) == 2

    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()
    _queue("third@clinic.example")
    assert len(mailbox.wait_for(3, timeout=0.5)) == 2


def test_the_mail_worker_stops_at_once_even_in_a_long_pause(worker, mailbox):
    start, stop = worker
    _queue("first@clinic.example")
    thread = start(3600)
    assert len(mailbox.wait_for(1)) == 1
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_the_worker_runs_its_other_jobs_every_jobs_every_seconds_not_every_mail_round(worker, mailbox):
    start, stop = worker
    rare, often = [], []
    _queue("first@clinic.example")
    start(0.02, jobs=(lambda: rare.append(1),), jobs_every=3600)
    start(0.02, jobs=(lambda: often.append(1),), jobs_every=0)
    assert len(mailbox.wait_for(1)) == 1
    assert _wait_until(lambda: len(often) >= 5)

    stop.set()
    assert rare == [1]  # at start, then not again within the hour


def _wait_until(condition, timeout: float = 5.0) -> bool:
    done = threading.Event()
    for _ in range(int(timeout / 0.02)):
        db.session.expire_all()
        if condition():
            return True
        done.wait(0.02)
    return False


def test_the_mail_worker_survives_an_outage_and_delivers_when_the_relay_returns(worker, smtp_outage):
    start, _stop = worker
    message_id = _queue("ana@clinic.example")
    with time_machine.travel(clock.now(), tick=True) as traveller:
        thread = start(0.05)
        assert _wait_until(lambda: _row(message_id).last_error != "")
        assert (_row(message_id).status, _row(message_id).attempts) == ("retrying", 1)
        assert thread.is_alive()

        smtp_outage.start()
        traveller.shift(timedelta(minutes=2))
        assert _wait_until(lambda: _row(message_id).status == "sent")
    assert _row(message_id).attempts == 2
    assert len(smtp_outage.messages) == 1
