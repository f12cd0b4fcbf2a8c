"""Applying for a clinician account at /register: a complete application asks the applicant to
confirm their address from an emailed link, which signs them in to an "Under review" status
page and emails them and customer care; an address that has an account sees the same page and
its owner is emailed; anything wrong is refused with every message next to its field at once,
and leaves nothing behind (no rows, no file, no mail)."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from limits import parse_many
from sqlalchemy import event, select

from shop import clock
from shop.accounts.licences import ApplicationStatus, LicenceApplication, LicenceDocument
from shop.accounts.models import Profession, Role, User
from shop.accounts.passwords import verify_password
from shop.core.mailer import deliver_due
from shop.core.outbox import OutboxMessage, queue_email
from shop.extensions import db
from shop.practices.models import Address
from tests.factories import (
    APPLICANT_EMAIL,
    ELF_BYTES,
    EXE_BYTES,
    JPEG_BYTES,
    PASSWORD,
    PNG_BYTES,
    make_clinician,
    make_staff,
    pdf_bytes,
    registration_form,
)
from tests.helpers import field_error, redirect_path, row_count, stored, text, uploaded_files
from tests.smtp import html_of, text_of

MB = 1024 * 1024
MULTIPART = "multipart/form-data"
HTML_BYTES = b"<!DOCTYPE html><html><body><script>alert('licence')</script></body></html>"


def document(data: bytes | None = None, filename: str = "licence.pdf", content_type: str | None = None) -> tuple:
    stream = BytesIO(pdf_bytes("Dr Niamh Walsh", "MCI-402211") if data is None else data)
    return (stream, filename) if content_type is None else (stream, filename, content_type)


def apply(client, **overrides):
    """Post an application as a browser would: multipart, with the page's CSRF token."""
    return client.post("/register", registration_form(**overrides))


CONFIRM_LINK = re.compile(r"http://shop\.test(/register/confirm/[A-Za-z0-9_.\-]+)")


def confirmation_path(email: str = APPLICANT_EMAIL) -> str:
    db.session.rollback()
    message = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.kind == "account.confirm_email", OutboxMessage.to_address == email)
        .order_by(OutboxMessage.id.desc())
    ).first()
    assert message is not None, f"no confirmation link was emailed to {email}"
    return CONFIRM_LINK.search(message.text_body).group(1)


def apply_and_confirm(client, **overrides):
    """Apply, then open the emailed link in the same browser; returns the link's answer."""
    assert apply(client, **overrides).status_code == 303
    return client.get(confirmation_path(overrides.get("email", APPLICANT_EMAIL).strip().lower()))


def assert_refused(response, field: str, *words: str) -> None:
    assert response.status_code == 422, f"expected the form again with messages, got {response.status_code}"
    message = field_error(response, field)
    assert message, f"no message next to {field}; page says: {text(response)[:500]}"
    for word in words:
        assert word.lower() in message.lower(), f"{field} message {message!r} does not mention {word!r}"


# --- a complete application ---------------------------------------------------------------


def test_the_registration_page_asks_for_every_contract_field(client):
    response = client.get("/register")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html
    assert 'name="csrf_token"' in html
    for name in registration_form():
        assert f'name="{name}"' in html, f"the form has no {name} field"
    assert 'type="file"' in html and 'type="password"' in html


def test_an_applicant_is_asked_to_confirm_the_address_and_is_not_signed_in_until_then(client):
    response = apply(client)

    assert response.status_code == 303
    assert redirect_path(response) == "/register/sent"
    sent = text(client.get("/register/sent"))
    assert "Check your inbox" in sent and APPLICANT_EMAIL in sent
    assert redirect_path(client.get("/account")).startswith("/login")
    assert [m.subject for m in db.session.scalars(select(OutboxMessage))] == [
        "Confirm your email address to send your application"
    ]


def test_the_emailed_link_signs_the_applicant_in_to_the_application_under_review(client):
    response = apply_and_confirm(client)

    assert response.status_code == 303
    assert redirect_path(response) == "/account"
    status_page = text(client.get("/account"))
    assert "Under review" in status_page
    assert "MCI-402211" in status_page
    assert "Harbour Skin Clinic" in status_page
    catalogue = client.get("/catalogue")
    assert catalogue.status_code == 302
    assert redirect_path(catalogue) == "/account"


def test_the_confirmation_link_works_once(client, make_client):
    apply(client)
    link = confirmation_path()
    assert redirect_path(client.get(link)) == "/account"
    again = make_client().get(link)
    assert redirect_path(again) == "/login", "a used link signs nobody in"


def test_the_confirmation_link_expires(client, time_machine, app):
    time_machine.move_to(datetime(2026, 3, 15, 12, 0, tzinfo=UTC), tick=False)
    apply(client)
    link = confirmation_path()
    time_machine.move_to(datetime(2026, 3, 17, 12, 1, tzinfo=UTC), tick=False)
    assert redirect_path(client.get(link)) == "/login"
    assert db.session.scalar(select(User.email_confirmed_at)) is None


def test_an_applicant_who_logs_in_before_confirming_is_asked_to_and_can_have_the_link_sent_again(client, make_client):
    apply(client)
    later = make_client()
    later.login(APPLICANT_EMAIL, PASSWORD)
    page = later.get("/account")
    assert "Confirm your email address" in text(page)
    assert later.post("/account/confirmation").status_code == 303
    links = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "account.confirm_email")).all()
    assert len(links) == 2
    assert redirect_path(later.get(confirmation_path())) == "/account"
    assert "Under review" in text(later.get("/account"))


def test_an_unconfirmed_application_does_not_reach_the_verification_desk(client, signed_in):
    apply(client)
    desk = signed_in(make_staff())
    application = db.session.scalar(select(LicenceApplication))
    assert "Dr Niamh Walsh" not in text(desk.get("/staff/applications"))
    assert desk.get(f"/staff/applications/{application.id}").status_code == 404
    client.get(confirmation_path())
    assert "Dr Niamh Walsh" in text(desk.get("/staff/applications"))


def test_the_applicant_can_log_in_again_later_with_the_chosen_password(client, make_client):
    apply_and_confirm(client, email="Niamh.Walsh@Clinic.Example")
    client.logout()

    later = make_client()
    response = later.login(APPLICANT_EMAIL, PASSWORD)
    assert redirect_path(response) == "/account"
    assert "Under review" in text(later.get("/account"))


def test_every_field_the_applicant_gave_is_kept_with_the_application(client):
    apply(client, email="  Niamh.Walsh@Clinic.Example ", profession="nurse_practitioner", country="GB")

    user = db.session.scalar(select(User))
    assert user.email == APPLICANT_EMAIL
    assert user.role == Role.CLINICIAN
    assert user.full_name == "Dr Niamh Walsh"
    assert verify_password(user.password_hash, PASSWORD)
    assert PASSWORD not in user.password_hash
    application = user.application
    assert application.status == ApplicationStatus.PENDING
    assert application.profession == Profession.NURSE_PRACTITIONER
    assert application.licence_number == "MCI-402211"
    assert application.licence_region == "Medical Council of Ireland"
    assert application.licence_expiry == clock.today() + timedelta(days=365)
    assert [event.action for event in application.events] == ["submitted"]
    assert user.practice.name == "Harbour Skin Clinic"
    assert user.practice.phone == "+353 21 555 0101"
    [address] = user.practice.addresses
    assert (address.line1, address.line2, address.city, address.region, address.postcode, address.country) == (
        "4 South Mall",
        "Second floor",
        "Cork",
        "Co. Cork",
        "T12 X1Y2",
        "GB",
    )
    assert address.is_default


def test_optional_address_line2_and_region_may_be_left_empty(client):
    response = apply(client, address_line2="", region="")
    assert response.status_code == 303
    address = db.session.scalar(select(Address))
    assert (address.line2, address.region) == ("", "")


# --- the licence document -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "filename", "content_type", "extension"),
    [
        (None, "licence.pdf", "application/pdf", "pdf"),
        (JPEG_BYTES, "licence-scan.jpg", "image/jpeg", "jpg"),
        (JPEG_BYTES, "LICENCE.JPEG", "image/jpeg", "jpg"),
        (PNG_BYTES, "licence.png", "image/png", "png"),
    ],
    ids=["pdf", "jpg", "jpeg-upper-case", "png"],
)
def test_a_pdf_jpeg_or_png_licence_is_stored_outside_static_under_a_generated_name(
    client, app, data, filename, content_type, extension
):
    upload = document(data, filename)
    sent = upload[0].getvalue()
    response = apply(client, licence_document=upload)
    assert response.status_code == 303

    row = db.session.scalar(select(LicenceDocument))
    assert row.content_type == content_type
    assert row.original_filename == filename
    assert row.size_bytes == len(sent)
    assert row.sha256 == hashlib.sha256(sent).hexdigest()
    assert re.fullmatch(rf"[0-9a-f]{{32}}\.{extension}", row.stored_name)
    assert uploaded_files(app.config) == [row.stored_name]
    path = Path(app.config["UPLOAD_FOLDER"]) / row.stored_name
    assert path.read_bytes() == sent
    assert not path.resolve().is_relative_to(Path(app.static_folder).resolve())
    assert client.get(f"/static/{row.stored_name}").status_code == 404
    assert client.get(f"/static/{filename}").status_code == 404


def test_the_recorded_content_type_is_what_the_file_is_not_what_the_browser_claimed(client):
    response = apply(client, licence_document=document(PNG_BYTES, "licence.pdf", "application/pdf"))
    assert response.status_code == 303
    row = db.session.scalar(select(LicenceDocument))
    assert row.content_type == "image/png"
    assert row.stored_name.endswith(".png")
    assert row.original_filename == "licence.pdf"


def test_a_document_name_with_folders_in_it_cannot_choose_where_the_file_is_written(client, app):
    response = apply(client, licence_document=document(filename="../../static/evil.pdf"))
    assert response.status_code == 303
    row = db.session.scalar(select(LicenceDocument))
    assert row.original_filename == "evil.pdf"
    assert uploaded_files(app.config) == [row.stored_name]
    assert not (Path(app.static_folder) / "evil.pdf").exists()


# --- mail ---------------------------------------------------------------------------------


def test_the_applicant_and_customer_care_are_emailed_about_the_application(client, app, mailbox, signed_in):
    apply(client)
    assert deliver_due().sent == 1, "only the confirmation link until the address is confirmed"
    assert mailbox.to(app.config["CUSTOMER_CARE_EMAIL"]) == []
    client.get(confirmation_path())
    application = db.session.scalar(select(LicenceApplication))

    report = deliver_due()
    assert (report.sent, report.failed) == (2, 0)
    mailbox.wait_for(3)

    [received] = [m for m in mailbox.to(APPLICANT_EMAIL) if "received" in m["Subject"].lower()]
    assert "received" in received["Subject"].lower()
    account_link = f"{app.config['SHOP_BASE_URL']}/account"
    for body in (text_of(received), html_of(received)):
        assert "Dr Niamh Walsh" in body
        assert "MCI-402211" in body
        assert account_link in body

    care = app.config["CUSTOMER_CARE_EMAIL"]
    [notice] = mailbox.to(care)
    assert str(application.id) in notice["Subject"]
    review_link = f"{app.config['SHOP_BASE_URL']}/staff/applications/{application.id}"
    for body in (text_of(notice), html_of(notice)):
        assert review_link in body
        assert "Dr Niamh Walsh" in body
        assert "MCI-402211" in body

    # The link customer care receives opens the application for a member of staff.
    staff = make_staff()
    desk = signed_in(staff)
    page = desk.get(review_link.removeprefix(app.config["SHOP_BASE_URL"]))
    assert page.status_code == 200
    assert "Dr Niamh Walsh" in text(page)
    assert "MCI-402211" in text(page)


def test_a_refused_application_sends_no_mail(client, mailbox):
    apply(client, licence_document=None)
    assert deliver_due().sent == 0
    assert mailbox.messages == []


# --- refusals: each leaves nothing behind ---------------------------------------------------


@pytest.mark.usefixtures("nothing_kept")
def test_a_licence_that_expired_yesterday_is_refused(client, time_machine):
    time_machine.move_to(datetime(2026, 3, 15, 12, 0, tzinfo=UTC), tick=False)
    response = apply(client, licence_expiry="2026-03-14")
    assert_refused(response, "licence_expiry", "expired", "2026-03-14")


def test_a_licence_that_expires_today_is_accepted(client, time_machine):
    time_machine.move_to(datetime(2026, 3, 15, 12, 0, tzinfo=UTC), tick=False)
    response = apply(client, licence_expiry="2026-03-15")
    assert response.status_code == 303
    assert db.session.scalar(select(LicenceApplication.licence_expiry)) == date(2026, 3, 15)


@pytest.mark.usefixtures("nothing_kept")
def test_an_application_without_a_licence_document_is_refused(client):
    response = apply(client, licence_document=None)
    assert_refused(response, "licence_document", "attach")


@pytest.mark.usefixtures("nothing_kept")
def test_an_empty_file_field_counts_as_no_document(client):
    response = apply(client, licence_document=(BytesIO(b""), ""))
    assert_refused(response, "licence_document", "attach")


@pytest.mark.parametrize(
    ("existing", "applying"),
    [
        ("dr@clinic.example", "dr@clinic.example"),
        ("dr@clinic.example", "Dr@Clinic.example"),
        ("Dr@Clinic.example", "dr@clinic.example"),
        ("dr@clinic.example", "  DR@CLINIC.EXAMPLE  "),
    ],
    ids=["same", "capitals-applying", "capitals-existing", "spaces-and-capitals"],
)
def test_an_email_that_already_has_an_account_shows_the_same_page_and_its_owner_is_emailed(
    client, app, existing, applying
):
    owner = make_clinician(email=existing)
    before = {name: rows for name, rows in stored(app.config).items() if name != "outbox_messages"}
    response = apply(client, email=applying)

    assert response.status_code == 303 and redirect_path(response) == "/register/sent"
    assert "Check your inbox" in text(client.get("/register/sent"))
    assert redirect_path(client.get("/account")).startswith("/login"), "nobody is signed in"
    assert {name: rows for name, rows in stored(app.config).items() if name != "outbox_messages"} == before
    [notice] = db.session.scalars(select(OutboxMessage)).all()
    assert notice.to_address == owner.email
    assert notice.subject == "Someone applied with your email address"
    assert "/login" in notice.text_body and "/password/forgot" in notice.text_body
    assert "/register/confirm/" not in notice.text_body, "the address is confirmed already"


def test_an_address_applying_twice_before_confirming_is_sent_a_fresh_link(client, make_client, app):
    assert apply(client, email="Dr@Clinic.example").status_code == 303
    response = apply(make_client(), email="dr@clinic.example")
    assert redirect_path(response) == "/register/sent"
    assert row_count(User) == 1 and row_count(LicenceDocument) == 1
    notice = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    assert notice.subject == "Someone applied with your email address"
    link = CONFIRM_LINK.search(notice.text_body).group(1)
    assert redirect_path(make_client().get(link)) == "/account"


def test_a_duplicate_costs_the_same_password_work_as_a_new_account(client, monkeypatch):
    """Counted in argon2 hashes, not timed: one each way, so the answer's time tells nothing."""
    from argon2 import PasswordHasher

    hashes = []
    real = PasswordHasher.hash
    monkeypatch.setattr(PasswordHasher, "hash", lambda self, *a, **k: hashes.append(1) or real(self, *a, **k))
    apply(client, email="first@clinic.example")
    new_account = len(hashes)
    apply(client, email="first@clinic.example")
    assert len(hashes) - new_account == new_account == 1


@pytest.mark.usefixtures("nothing_kept")
@pytest.mark.parametrize(
    ("password", "words"),
    [
        ("Short-pw-1a", ("at least 12",)),
        ("", ("choose a password",)),
        ("password1234", ("common",)),
        ("qwertyuiop123", ("common",)),
        ("PASSWORD1234", ("common",)),
        ("aaaaaaaaaaaaaaaa", ("easy to guess",)),
        ("abcdefghijklmnop", ("easy to guess",)),
        ("x" * 129, ("at most 128",)),
    ],
    ids=["eleven-chars", "empty", "common", "keyboard-row", "common-in-capitals", "repeats", "sequence", "too-long"],
)
def test_a_weak_password_is_refused_with_the_reason(client, password, words):
    response = apply(client, password=password)
    assert_refused(response, "password", *words)


def test_a_long_passphrase_up_to_128_characters_is_accepted(client, make_client):
    passphrase = ("Velvet harbour lantern " * 6)[:128]
    response = apply(client, password=passphrase)
    assert response.status_code == 303
    make_client().login(APPLICANT_EMAIL, passphrase)


@pytest.mark.usefixtures("nothing_kept")
def test_a_password_made_of_the_applicants_own_name_and_practice_is_refused(client):
    response = apply(client, password="harbourniamh")
    assert_refused(response, "password", "easy to guess")


def test_the_same_password_is_fine_for_someone_with_another_name_and_practice(client):
    response = apply(
        client,
        password="harbourniamh",
        email="ana.ruiz@bay-dental.example",
        full_name="Dr Ana Ruiz",
        practice_name="Bay Dental",
    )
    assert response.status_code == 303


@pytest.mark.usefixtures("nothing_kept")
@pytest.mark.parametrize(
    ("data", "filename", "words"),
    [
        (HTML_BYTES, "licence.pdf", ("not really",)),
        (EXE_BYTES, "licence.png", ("not really",)),
        (ELF_BYTES, "licence.png", ("not really",)),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "licence.png", ("not really",)),
        (b"PK\x03\x04" + b"\x00" * 60, "licence.pdf", ("not really",)),
        (b"Licence number MCI-402211", "licence.txt", ("PDF, JPEG or PNG",)),
        (EXE_BYTES, "licence.exe", ("PDF, JPEG or PNG",)),
        (None, "licence.pdf.exe", ("PDF, JPEG or PNG",)),
        (None, "licence", ("PDF, JPEG or PNG",)),
        (b"", "licence.pdf", ("empty",)),
    ],
    ids=[
        "html-as-pdf",
        "windows-exe-as-png",
        "elf-as-png",
        "gif-as-png",
        "zip-as-pdf",
        "txt",
        "exe",
        "double-extension",
        "no-extension",
        "empty",
    ],
)
def test_a_document_that_is_not_really_a_pdf_jpeg_or_png_is_refused(client, data, filename, words):
    response = apply(client, licence_document=document(data, filename))
    assert_refused(response, "licence_document", *words)


@pytest.mark.usefixtures("nothing_kept")
def test_a_document_one_byte_over_10_mb_is_refused_next_to_the_field(client):
    oversized = pdf_bytes() + b"\n%" + b"0" * (10 * MB - len(pdf_bytes()) - 1)
    assert len(oversized) == 10 * MB + 1
    response = apply(client, licence_document=document(oversized))
    assert_refused(response, "licence_document", "10 MB")


def test_a_document_of_exactly_10_mb_is_accepted(client):
    exactly = pdf_bytes() + b"\n%" + b"0" * (10 * MB - len(pdf_bytes()) - 2)
    assert len(exactly) == 10 * MB
    response = apply(client, licence_document=document(exactly))
    assert response.status_code == 303
    assert db.session.scalar(select(LicenceDocument.size_bytes)) == 10 * MB


@pytest.mark.usefixtures("nothing_kept")
def test_an_upload_larger_than_the_request_limit_gets_a_friendly_413_page(client, app):
    huge = pdf_bytes() + b"0" * 13 * MB
    assert len(huge) > app.config["MAX_CONTENT_LENGTH"]
    response = apply(client, licence_document=document(huge))
    assert response.status_code == 413
    page = text(response)
    assert "File too large" in page
    assert "10 MB" in page
    assert app.config["CUSTOMER_CARE_PHONE"] in page


def test_after_a_refusal_the_form_keeps_what_was_typed_and_asks_for_the_document_again(client):
    response = apply(client, phone="not a phone", password="Orchid-kettle-meadow-93")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'value="Harbour Skin Clinic"' in html
    assert 'value="MCI-402211"' in html
    assert 'value="Orchid-kettle-meadow-93"' in html, "the password typed is kept too"
    assert "no-store" in response.headers["Cache-Control"]
    assert "choose the file again" in field_error(response, "licence_document").lower()


@pytest.mark.usefixtures("nothing_kept")
def test_every_problem_is_shown_at_once(client, time_machine):
    time_machine.move_to(datetime(2026, 3, 15, 12, 0, tzinfo=UTC), tick=False)
    response = apply(
        client,
        password="password1234",
        licence_expiry="2026-03-01",
        phone="call me",
        address_line1="PO Box 12",
        licence_document=document(HTML_BYTES, "licence.pdf"),
    )
    assert_refused(response, "password", "common")
    assert_refused(response, "licence_expiry", "expired")
    assert_refused(response, "phone", "phone number")
    assert_refused(response, "address_line1", "PO box")
    assert_refused(response, "licence_document", "not really")


def test_an_empty_form_gets_a_message_next_to_every_required_field(client, app):
    before = stored(app.config)
    response = client.post("/register", {}, content_type=MULTIPART)
    assert response.status_code == 422
    required = (
        "email",
        "password",
        "full_name",
        "profession",
        "licence_number",
        "licence_region",
        "licence_expiry",
        "practice_name",
        "phone",
        "address_line1",
        "city",
        "postcode",
        "country",
    )
    missing = [name for name in required if not field_error(response, name)]
    assert missing == []
    assert stored(app.config) == before


def test_a_registration_without_a_csrf_token_is_not_accepted(client, app):
    before = stored(app.config)
    response = client.post("/register", registration_form(), csrf=False, content_type=MULTIPART)
    assert response.status_code == 303
    assert redirect_path(response) == "/"
    assert "Your form expired" in text(client.get("/"))
    assert stored(app.config) == before


def test_a_signed_in_visitor_is_not_shown_the_registration_form(client):
    apply_and_confirm(client)
    response = client.get("/register")
    assert response.status_code == 302
    assert row_count(User) == 1


# --- a duplicate email that races in between the check and the commit -----------------------


@pytest.fixture
def rival_registers_first(app, data_app):
    """Just before the registration writes its first row, another request creates an account
    with the same email through its own connection, and commits."""
    with app.app_context():
        engine = db.engine
    raced = []

    def insert_rival(_conn, _cursor, statement, *_args):
        if not raced and statement.lstrip().upper().startswith("INSERT"):
            raced.append(True)
            with data_app.app_context():
                make_clinician(email="dr@clinic.example", full_name="Dr Rival")

    event.listen(engine, "before_cursor_execute", insert_rival)
    yield raced
    event.remove(engine, "before_cursor_execute", insert_rival)


def test_a_duplicate_email_racing_in_before_the_commit_leaves_no_file_and_emails_the_owner(
    client, app, rival_registers_first
):
    response = apply(client, email="Dr@Clinic.example")

    assert rival_registers_first, "the rival account was never created"
    assert redirect_path(response) == "/register/sent"
    db.session.rollback()
    assert uploaded_files(app.config) == []
    assert row_count(LicenceDocument) == 0
    assert db.session.scalars(select(User.full_name)).all() == ["Dr Rival"]
    assert db.session.scalars(select(OutboxMessage.subject)).all() == ["Someone applied with your email address"]


# --- garbage in every field -----------------------------------------------------------------

NUL = "\x00" * 8
LONG = "A" * 10_000

GARBAGE = [
    ("email", "not-an-email"),
    ("email", NUL),
    ("email", LONG + "@clinic.example"),
    ("email", "dr@@clinic..example"),
    ("email", "😀😀😀"),
    ("password", NUL * 2),
    ("password", LONG),
    ("password", "😀😀😀"),
    ("password", "é" * 14),
    ("full_name", NUL),
    ("full_name", LONG),
    ("full_name", "é"),
    ("profession", "surgeon"),
    ("profession", NUL),
    ("profession", "PHYSICIAN"),
    ("profession", LONG),
    ("profession", "médecin"),
    ("licence_number", NUL),
    ("licence_number", LONG),
    ("licence_number", "№ 402211"),
    ("licence_number", "<script>alert(1)</script>"),
    ("licence_region", NUL),
    ("licence_region", LONG),
    ("licence_region", "ß"),
    ("licence_expiry", "2026-02-30"),
    ("licence_expiry", "2027-13-01"),
    ("licence_expiry", "2027-02-29"),
    ("licence_expiry", "31/12/2027"),
    ("licence_expiry", "0000-00-00"),
    ("licence_expiry", "0001-01-01"),
    ("licence_expiry", "99999-01-01"),
    ("licence_expiry", "tomorrow"),
    ("licence_expiry", NUL),
    ("licence_expiry", "2" * 10_000),
    ("licence_expiry", "２０２７年"),
    ("practice_name", NUL),
    ("practice_name", LONG),
    ("practice_name", "🏥"),
    ("phone", NUL),
    ("phone", "1" * 10_000),
    ("phone", "☎☎☎☎☎☎☎☎"),
    ("phone", "call me maybe"),
    ("address_line1", NUL),
    ("address_line1", LONG),
    ("address_line1", "🏥" * 121),
    ("address_line2", LONG),
    ("address_line2", "🏥" * 121),
    ("city", NUL),
    ("city", LONG),
    ("city", "東" * 81),
    ("region", LONG),
    ("region", "🗺" * 81),
    ("postcode", NUL),
    ("postcode", LONG),
    ("postcode", "T12 Ｘ1Y2"),
    ("postcode", "'; DROP TABLE users; --"),
    ("country", "XX"),
    ("country", "ZZ"),
    ("country", "ie"),
    ("country", "Ireland"),
    ("country", NUL),
    ("country", LONG),
    ("country", "🇮🇪"),
    ("licence_document", "%PDF-1.4 typed into the field, not a file"),
    ("licence_document", NUL),
    ("licence_document", LONG),
]


@pytest.mark.usefixtures("nothing_kept")
@pytest.mark.parametrize(("field", "value"), GARBAGE, ids=[f"{field}-{i}" for i, (field, _) in enumerate(GARBAGE)])
def test_garbage_in_a_field_is_answered_with_a_message_next_to_it_never_an_error_page(client, field, value):
    response = apply(client, **{field: value})
    assert response.status_code != 500
    assert_refused(response, field)


@pytest.mark.usefixtures("nothing_kept")
@pytest.mark.parametrize(
    "filename",
    ["\x00.pdf", "licence\x00.exe", "😀.exe", "A" * 10_000 + ".txt", "..", "/", "C:\\", "licence.\x00"],
    ids=["nul-pdf", "nul-exe", "emoji-exe", "long-txt", "dot-dot", "slash", "drive", "nul-extension"],
)
def test_garbage_document_names_are_answered_with_a_message_never_an_error_page(client, filename):
    response = apply(client, licence_document=document(EXE_BYTES, filename))
    assert response.status_code != 500
    assert_refused(response, "licence_document")


@pytest.mark.usefixtures("nothing_kept")
def test_garbage_in_every_field_at_once_gets_a_message_next_to_each(client):
    garbage = {field: value for field, value in reversed(GARBAGE)}
    response = apply(client, **garbage)
    assert response.status_code == 422
    silent = [field for field in garbage if field != "licence_document" and not field_error(response, field)]
    assert silent == []


def test_control_characters_inside_otherwise_good_values_are_dropped_before_storing(client):
    response = apply(
        client,
        full_name="Dr Nia\x00mh\x07 Walsh",
        practice_name="Harbour\x00 Skin Clinic",
        address_line1="4 South\x1b Mall",
        city="Co\x00rk",
        licence_region="Medical\x00 Council of Ireland",
    )
    assert response.status_code == 303
    user = db.session.scalar(select(User))
    assert user.full_name == "Dr Niamh Walsh"
    assert user.practice.name == "Harbour Skin Clinic"
    assert user.practice.addresses[0].line1 == "4 South Mall"
    assert user.practice.addresses[0].city == "Cork"
    assert user.application.licence_region == "Medical Council of Ireland"


def test_a_document_name_with_control_characters_is_stored_without_them(client):
    response = apply(client, licence_document=document(filename="lic\x00ence\x07.pdf"))
    assert response.status_code == 303
    assert db.session.scalar(select(LicenceDocument.original_filename)) == "licence.pdf"


def test_names_and_addresses_in_any_script_are_kept_exactly(client):
    response = apply(
        client,
        full_name="Dr Zoë Łukasiewicz-渡辺",
        practice_name="Clínica Estética 🌿 Ørsted",
        address_line1="Straße des 17. Juni 135",
        city="Łódź",
        region="Łódzkie",
        licence_region="Naczelna Izba Lekarska",
        country="PL",
        licence_document=document(filename="licença-東京.pdf"),
    )
    assert response.status_code == 303
    user = db.session.scalar(select(User))
    assert user.full_name == "Dr Zoë Łukasiewicz-渡辺"
    assert user.practice.name == "Clínica Estética 🌿 Ørsted"
    assert user.practice.addresses[0].city == "Łódź"
    assert db.session.scalar(select(LicenceDocument.original_filename)) == "licença-東京.pdf"
    client.get(confirmation_path())
    assert "Clínica Estética 🌿 Ørsted" in text(client.get("/account"))


def test_line_breaks_in_single_line_fields_become_spaces_and_the_desks_mail_still_goes_out(client, mailbox):
    response = apply(
        client,
        full_name="Dr Niamh\r\nWalsh",
        practice_name="Harbour\nSkin\tClinic",
        licence_region="Medical Council\u2028of Ireland",
        address_line1="4 South\nMall",
    )
    assert response.status_code == 303
    user = db.session.scalar(select(User))
    assert user.full_name == "Dr Niamh Walsh"
    assert user.practice.name == "Harbour Skin Clinic"
    assert user.application.licence_region == "Medical Council of Ireland"
    assert user.practice.addresses[0].line1 == "4 South Mall"

    client.get(confirmation_path())
    assert deliver_due().failed == 0
    [to_desk] = [m for m in mailbox.messages if "New licence application" in m["Subject"]]
    assert "Dr Niamh Walsh, Harbour Skin Clinic" in to_desk["Subject"]


def test_a_line_break_in_a_subject_from_anywhere_cannot_stop_the_mail(ctx, mailbox):
    queue_email(
        kind="test.note",
        to="desk@supplier.example",
        subject="New order from Harbour\r\nBcc: someone@else.example",
        template="password_reset",
        user=User(full_name="Ana"),
        link="http://shop.test/x",
        hours=2,
    )
    db.session.commit()
    assert deliver_due().sent == 1
    [message] = mailbox.messages
    assert message["Subject"] == "New order from Harbour Bcc: someone@else.example"
    assert message["Bcc"] is None


# --- rate limit -------------------------------------------------------------------------------


def test_forms_sent_back_for_correction_never_count_against_the_registration_limit(client, app):
    allowed = min(limit.amount for limit in parse_many(app.config["REGISTER_RATE_LIMIT"]))
    for _ in range(allowed * 3):
        assert apply(client, licence_document=None).status_code == 422
    assert apply(client).status_code == 303


def test_completed_applications_beyond_the_rate_limit_get_a_429_page(client, app, make_client):
    allowed = min(limit.amount for limit in parse_many(app.config["REGISTER_RATE_LIMIT"]))
    for n in range(allowed):
        assert apply(client, email=f"bot{n}@clinic.example").status_code == 303

    response = apply(client)
    assert response.status_code == 429
    assert "Too many attempts" in text(response)
    assert row_count(User) == allowed

    # Reading the form is not limited, and another connection may still apply.
    assert client.get("/register").status_code == 200
    other = make_client()
    response = other.post(
        "/register", registration_form(), content_type=MULTIPART, environ_base={"REMOTE_ADDR": "198.51.100.7"}
    )
    assert response.status_code == 303


@pytest.mark.parametrize("line", ["PO Box 412", "P.O. Box 9", "Postfach 12", "GPO Box 77"])
@pytest.mark.usefixtures("nothing_kept")
def test_a_po_box_as_the_practice_address_is_refused_with_a_message(client, line):
    response = apply(client, address_line1=line)
    assert "PO box" in field_error(response, "address_line1")


@pytest.mark.usefixtures("nothing_kept")
def test_a_po_box_on_the_second_address_line_is_refused_too(client):
    response = apply(client, address_line2="PO Box 3")
    assert "PO box" in field_error(response, "address_line2")
