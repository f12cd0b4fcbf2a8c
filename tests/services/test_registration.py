"""register_clinician: one application creates the account, practice, address, pending licence
application, its document and two emails together, or raises a typed error and keeps nothing,
not even the uploaded file."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, select

from shop import clock
from shop.accounts import registration
from shop.accounts.licences import ApplicationStatus, LicenceDocument
from shop.accounts.models import Profession, Role, User
from shop.accounts.passwords import verify_password
from shop.accounts.registration import register_clinician
from shop.accounts.verification import get_application, review_queue
from shop.core.outbox import OutboxMessage
from shop.errors import InvalidDocument, NotEligible, NotFound, WeakPassword
from shop.extensions import db
from tests.factories import (
    EXE_BYTES,
    JPEG_BYTES,
    PASSWORD,
    PNG_BYTES,
    application_data,
    make_applicant,
    make_clinician,
    pdf_bytes,
    upload,
)
from tests.helpers import outbox, row_count, stored, uploaded_files

HTML_BYTES = b"<!doctype html><html><body>licence</body></html>"


def test_an_application_creates_a_pending_account_with_its_practice_and_address():
    user = make_applicant(email="  Niamh.Walsh@Clinic.Example ", full_name=" Dr Niamh Walsh ")

    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.email == "niamh.walsh@clinic.example"
    assert user.full_name == "Dr Niamh Walsh"
    assert user.role == Role.CLINICIAN
    assert user.active
    assert verify_password(user.password_hash, PASSWORD)
    assert not user.is_verified(clock.today())
    application = user.application
    assert application.status == ApplicationStatus.PENDING
    assert application.profession == Profession.PHYSICIAN
    assert (application.licence_number, application.licence_region) == ("MCI-402211", "Medical Council of Ireland")
    assert application.submitted_at is not None
    assert [(e.action, e.from_status, e.to_status, e.actor_id) for e in application.events] == [
        ("submitted", None, "pending", user.id)
    ]
    assert user.practice.name == "Harbour Skin Clinic"
    [address] = user.practice.addresses
    assert (address.line1, address.city, address.postcode, address.country, address.is_default) == (
        "4 South Mall",
        "Cork",
        "T12 X1Y2",
        "IE",
        True,
    )


@pytest.mark.parametrize(
    ("data", "filename", "content_type"),
    [
        (None, "licence.pdf", "application/pdf"),
        (JPEG_BYTES, "scan.jpeg", "image/jpeg"),
        (PNG_BYTES, "scan.PNG", "image/png"),
    ],
    ids=["pdf", "jpeg", "png"],
)
def test_the_document_is_recorded_with_its_detected_type_size_and_sha256(app, data, filename, content_type):
    content = pdf_bytes() if data is None else data
    user = make_applicant(document=upload(content, filename))

    [row] = user.application.documents
    assert row.content_type == content_type
    assert row.size_bytes == len(content)
    assert row.sha256 == hashlib.sha256(content).hexdigest()
    assert row.original_filename == filename
    assert row.stored_name != filename
    path = Path(app.config["UPLOAD_FOLDER"]) / row.stored_name
    assert path.read_bytes() == content
    assert not path.resolve().is_relative_to(Path(app.static_folder).resolve())


def test_the_applicant_and_customer_care_each_get_an_email_in_the_outbox(app):
    user = make_applicant(email="niamh@clinic.example")
    application = user.application

    messages = {m.kind: m for m in db.session.scalars(select(OutboxMessage))}
    assert set(messages) == {"account.confirm_email", "application.received", "application.new"}
    received = messages["application.received"]
    assert received.to_address == "niamh@clinic.example"
    assert received.reply_to == app.config["CUSTOMER_CARE_EMAIL"]
    assert f"{app.config['SHOP_BASE_URL']}/account" in received.text_body
    assert received.html_body
    new = messages["application.new"]
    assert new.to_address == app.config["CUSTOMER_CARE_EMAIL"]
    assert f"#{application.id}" in new.subject
    link = f"{app.config['SHOP_BASE_URL']}/staff/applications/{application.id}"
    assert link in new.text_body and link in new.html_body


# --- licence dates --------------------------------------------------------------------------


def test_a_licence_that_expires_today_is_accepted(time_machine):
    time_machine.move_to(datetime(2026, 3, 15, 12, 0, tzinfo=UTC), tick=False)
    user = make_applicant(licence_expiry=date(2026, 3, 15))
    assert user.application.licence_expiry == date(2026, 3, 15)


@pytest.mark.usefixtures("nothing_kept")
def test_a_licence_that_expired_yesterday_is_refused(time_machine):
    time_machine.move_to(datetime(2026, 3, 15, 12, 0, tzinfo=UTC), tick=False)
    with pytest.raises(NotEligible) as refused:
        make_applicant(licence_expiry=date(2026, 3, 14))
    assert refused.value.field == "licence_expiry"
    assert "2026-03-14" in refused.value.message


@pytest.mark.usefixtures("nothing_kept")
def test_expiry_is_judged_by_the_calendar_where_the_shop_is(app, time_machine):
    assert app.config["SHOP_TIMEZONE"] == "Europe/Dublin"
    # 23:30 UTC on 1 July is already 00:30 on 2 July in Cork (Irish summer time).
    time_machine.move_to(datetime(2026, 7, 1, 23, 30, tzinfo=UTC), tick=False)
    with pytest.raises(NotEligible):
        make_applicant(licence_expiry=date(2026, 7, 1))


def test_an_hour_earlier_the_same_licence_is_still_valid_where_the_shop_is(time_machine):
    time_machine.move_to(datetime(2026, 7, 1, 22, 30, tzinfo=UTC), tick=False)
    assert make_applicant(licence_expiry=date(2026, 7, 1)).application.licence_expiry == date(2026, 7, 1)


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("existing", "applying"),
    [
        ("dr@clinic.example", "dr@clinic.example"),
        ("dr@clinic.example", "Dr@Clinic.example"),
        ("DR@CLINIC.EXAMPLE", "dr@clinic.example"),
    ],
)
def test_an_email_that_already_has_an_account_makes_nothing_and_emails_its_owner(app, existing, applying):
    owner = make_clinician(email=existing)
    before = stored(app.config)
    assert registration.register_clinician(application_data(email=applying), upload()) is None
    after = stored(app.config)
    assert after.pop("outbox_messages") == before.pop("outbox_messages") + 1
    assert after == before
    assert [m.to_address for m in outbox("application.duplicate")] == [owner.email]


def test_only_confirmed_applications_are_in_the_desks_queue():
    waiting = make_applicant(email="waiting@clinic.example", confirmed=False)
    confirmed = make_applicant(email="confirmed@clinic.example")
    queued = db.session.scalars(review_queue(None)).all()
    assert [a.applicant.email for a in queued] == ["confirmed@clinic.example"]
    with pytest.raises(NotFound):
        get_application(waiting.application.id)
    assert get_application(confirmed.application.id).id == confirmed.application.id
    assert [m.subject for m in outbox("application.new")] == [
        f"New licence application #{confirmed.application.id}: Dr Niamh Walsh, Harbour Skin Clinic"
    ], "customer care hears of an application once its address is confirmed"


@pytest.mark.usefixtures("nothing_kept")
@pytest.mark.parametrize(
    "password",
    ["Short-pw-1a", "password1234", "qwertyuiop123", "aaaaaaaaaaaaaaaa", "harbourniamh", "x" * 129],
    ids=["short", "common", "keyboard", "repeats", "own-name-and-practice", "too-long"],
)
def test_a_weak_password_is_refused_before_anything_is_stored(password):
    with pytest.raises(WeakPassword) as refused:
        make_applicant(
            password=password, email="niamh.walsh@clinic.example", full_name="Dr Niamh Walsh"
        )  # practice: Harbour Skin Clinic
    assert refused.value.field == "password"


@pytest.mark.usefixtures("nothing_kept")
@pytest.mark.parametrize(
    ("document", "words"),
    [
        (None, "Attach"),
        (upload(b"", "licence.pdf"), "empty"),
        (upload(HTML_BYTES, "licence.pdf"), "not really"),
        (upload(EXE_BYTES, "licence.png"), "not really"),
        (upload(b"plain text", "licence.txt"), "PDF, JPEG or PNG"),
        (upload(EXE_BYTES, "licence.exe"), "PDF, JPEG or PNG"),
    ],
    ids=["missing", "empty", "html-as-pdf", "exe-as-png", "txt", "exe"],
)
def test_a_missing_or_false_document_is_refused_and_no_file_is_written(document, words):
    with pytest.raises(InvalidDocument) as refused:
        register_clinician(application_data(), document)
    assert refused.value.field == "licence_document"
    assert words.lower() in refused.value.message.lower()


@pytest.mark.usefixtures("nothing_kept")
def test_a_document_over_10_mb_is_refused():
    oversized = pdf_bytes() + b"0" * (10 * 1024 * 1024)
    with pytest.raises(InvalidDocument) as refused:
        make_applicant(document=upload(oversized))
    assert "10 MB" in refused.value.message


# --- failures after the file was written ------------------------------------------------------


def test_a_duplicate_email_racing_in_before_the_rows_are_written_leaves_no_file_and_tells_the_owner(app, data_app):
    """Another request creates the same account between the duplicate check and our insert."""
    rival_inserted = []

    def rival(_conn, _cursor, statement, *_args):
        if not rival_inserted and statement.lstrip().upper().startswith("INSERT"):
            rival_inserted.append(True)
            with data_app.app_context():  # its own session and connection
                make_clinician(email="dr@clinic.example", full_name="Dr Rival")

    event.listen(db.engine, "before_cursor_execute", rival)
    try:
        assert registration.register_clinician(application_data(email="Dr@Clinic.example"), upload()) is None
    finally:
        event.remove(db.engine, "before_cursor_execute", rival)

    assert rival_inserted
    assert uploaded_files(app.config) == []
    db.session.rollback()
    assert db.session.scalars(select(User.full_name)).all() == ["Dr Rival"]
    assert row_count(LicenceDocument) == 0
    assert [m.subject for m in outbox("application.duplicate")] == ["Someone applied with your email address"]
    assert row_count(OutboxMessage) == 1


@pytest.mark.usefixtures("nothing_kept")
def test_a_database_failure_at_commit_leaves_no_file_and_no_rows(app):
    """The database fails while the commit writes the outbox rows, after the file was written."""
    dbapi = db.engine.dialect.loaded_dbapi
    failed = []

    def outage(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("INSERT INTO OUTBOX_MESSAGES"):
            failed.append(True)
            raise dbapi.OperationalError("simulated: the database went away during commit")

    event.listen(db.engine, "before_cursor_execute", outage)
    try:
        with pytest.raises(dbapi.OperationalError, match="went away"):
            make_applicant()
    finally:
        event.remove(db.engine, "before_cursor_execute", outage)
    assert failed, "the commit never wrote the outbox rows"


def test_after_a_refused_application_the_same_person_can_apply_again(app):
    with pytest.raises(InvalidDocument):
        register_clinician(application_data(email="again@clinic.example"), upload(HTML_BYTES, "licence.pdf"))
    user = make_applicant(email="again@clinic.example")
    assert user.application.status == ApplicationStatus.PENDING
    assert uploaded_files(app.config) == [user.application.documents[0].stored_name]


def test_two_applications_store_two_separate_files(app):
    first = make_applicant(email="one@clinic.example")
    second = make_applicant(email="two@clinic.example")
    names = {first.application.documents[0].stored_name, second.application.documents[0].stored_name}
    assert len(names) == 2
    assert uploaded_files(app.config) == sorted(names)


def test_licence_number_and_region_are_kept_without_surrounding_spaces():
    user = make_applicant(licence_number="  MCI-402211 ", licence_region=" Medical Council of Ireland  ")
    assert (user.application.licence_number, user.application.licence_region) == (
        "MCI-402211",
        "Medical Council of Ireland",
    )


def test_an_expiry_years_ahead_is_kept_as_given():
    expiry = clock.today() + timedelta(days=3650)
    assert make_applicant(licence_expiry=expiry).application.licence_expiry == expiry
