"""The clinician's side of verification: the status page, answering a request for more
information with a new document, a licence that expires, and what approval and rejection
open or close."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
import time_machine

from shop import clock
from shop.accounts import verification
from shop.accounts.licences import ApplicationStatus, LicenceApplication
from shop.core import mailer
from shop.core.outbox import OutboxMessage
from tests.factories import PASSWORD, PNG_BYTES, make_applicant, make_clinician, make_staff, pdf_bytes
from tests.helpers import field_error, flashes, redirect_path, reload, row_count, text, uploaded_files
from tests.smtp import text_of

DUBLIN = ZoneInfo("Europe/Dublin")
UPLOAD_FORM = 'action="/account/document"'


def state(application_id: int) -> tuple:
    application = reload(LicenceApplication, application_id)
    return (
        application.status,
        application.queued_at,
        application.licence_expiry,
        application.decision_note,
        [d.id for d in application.documents],
        [(e.action, e.to_status) for e in application.events],
        row_count(OutboxMessage),
    )


def document_form(
    data: bytes | None = None, filename: str = "new-scan.pdf", expiry: date | str | None = None, message: str = ""
):
    expiry = expiry if expiry is not None else clock.today() + timedelta(days=700)
    return {
        "licence_document": (BytesIO(pdf_bytes() if data is None else data), filename),
        "licence_expiry": expiry.isoformat() if isinstance(expiry, date) else expiry,
        "message": message,
    }


def send_document(browser, fields: dict):
    """POST the document form as a browser would."""
    return browser.post("/account/document", fields)


@pytest.fixture
def asked_for_more():
    """An applicant the desk asked for a clearer scan, three days after they applied."""
    with time_machine.travel(clock.now() - timedelta(days=3)):
        applicant = make_applicant(full_name="Dr Orla Kelly", email="orla@clinic.example")
    staff = make_staff(full_name="Desk Person")
    verification.decide(
        applicant.application.id, staff, ApplicationStatus.NEEDS_INFO, "The scan is cut off at the bottom."
    )
    return applicant, staff


# --- answering a request for more information ------------------------------------------


def test_a_clinician_asked_for_more_information_sees_the_request_and_an_upload_form(asked_for_more, signed_in):
    applicant, _ = asked_for_more
    browser = signed_in(applicant)

    response = browser.get("/account")

    assert response.status_code == 200
    page = text(response)
    assert "We need more information" in page
    assert "The scan is cut off at the bottom." in page
    html = response.get_data(as_text=True)
    assert UPLOAD_FORM in html
    for name in ("licence_document", "licence_expiry", "message"):
        assert f'name="{name}"' in html


def test_a_clinician_who_logs_in_while_asked_for_more_lands_on_the_request(asked_for_more, make_client):
    applicant, _ = asked_for_more
    browser = make_client()
    response = browser.login(applicant.email, PASSWORD)
    assert redirect_path(response) == "/account"
    assert browser.get("/catalogue").status_code == 302


def test_a_new_document_returns_the_application_to_the_queue_and_tells_customer_care(
    asked_for_more, signed_in, mailbox, settled, app
):
    applicant, staff = asked_for_more
    waiting_since = reload(LicenceApplication, applicant.application.id).queued_at
    newer = make_applicant(full_name="Dr Applied Yesterday")
    browser = signed_in(applicant)
    settled()
    files = set(uploaded_files(app.config))
    new_expiry = clock.today() + timedelta(days=800)

    response = send_document(
        browser,
        document_form(PNG_BYTES, "clearer.png", new_expiry, "Here is the full page."),
    )

    assert response.status_code == 303
    assert redirect_path(response) == "/account"
    page = browser.get("/account")
    assert ("success", "Thank you. Your document is with the verification desk.") in flashes(page)
    assert "Under review" in text(page)
    assert UPLOAD_FORM not in page.get_data(as_text=True)

    application = reload(LicenceApplication, applicant.application.id)
    assert application.status == ApplicationStatus.PENDING
    assert application.queued_at > waiting_since
    assert application.licence_expiry == new_expiry
    assert len(application.documents) == 2
    assert len(set(uploaded_files(app.config)) - files) == 1
    event = application.events[-1]
    assert (event.action, event.actor_id, event.note) == ("document_uploaded", applicant.id, "Here is the full page.")

    mailer.deliver_due()
    care = mailbox.to(app.config["CUSTOMER_CARE_EMAIL"])
    assert len(care) == 1 and len(mailbox.messages) == 1
    assert "Dr Orla Kelly" in care[0]["Subject"]
    assert "Here is the full page." in text_of(care[0])
    assert f"/staff/applications/{application.id}" in text_of(care[0])

    # The desk sees it in the queue again, behind an application that was queued before it
    # came back, and can approve it; the clinician can then order.
    desk = signed_in(staff)
    queue = desk.get("/staff/applications").get_data(as_text=True)
    ids = [int(n) for n in re.findall(r'<td><a href="/staff/applications/(\d+)">#', queue)]
    assert ids == [newer.application.id, application.id]
    latest = application.documents[-1]
    download = desk.get(f"/staff/applications/{application.id}/documents/{latest.id}")
    assert download.get_data() == PNG_BYTES and download.mimetype == "image/png"
    assert desk.post(f"/staff/applications/{application.id}/approve").status_code == 303
    assert reload(LicenceApplication, application.id).status == ApplicationStatus.APPROVED
    assert browser.get("/catalogue").status_code == 200


@pytest.mark.parametrize(
    ("form", "field", "says"),
    [
        (lambda: {**document_form(), "licence_document": (BytesIO(b""), "")}, "licence_document", "Attach a scan"),
        (lambda: document_form(b"plain words, not a scan", "licence.pdf"), "licence_document", "not really"),
        (lambda: document_form(pdf_bytes(), "licence.docx"), "licence_document", "PDF, JPEG or PNG"),
        (lambda: document_form(b"", "licence.pdf"), "licence_document", "empty"),
        (lambda: document_form(pdf_bytes() + b"\0" * (10 * 1024 * 1024), "huge.pdf"), "licence_document", "10 MB"),
        (lambda: document_form(expiry=clock.today() - timedelta(days=1)), "licence_expiry", "expired"),
        (lambda: document_form(expiry="31/12/2031"), "licence_expiry", "YYYY-MM-DD"),
        (lambda: document_form(expiry=""), "licence_expiry", "YYYY-MM-DD"),
        (lambda: document_form(expiry="\x00" * 20), "licence_expiry", "YYYY-MM-DD"),
        (lambda: document_form(message="m" * 10_000), "message", "2000 characters"),
    ],
    ids=[
        "no-file",
        "fake-pdf",
        "wrong-extension",
        "empty-file",
        "too-large",
        "expired",
        "bad-date",
        "no-date",
        "nul-date",
        "long-message",
    ],
)
def test_an_invalid_upload_gets_a_message_next_to_the_field_and_changes_nothing(
    asked_for_more, signed_in, app, form, field, says
):
    applicant, _ = asked_for_more
    browser = signed_in(applicant)
    before = state(applicant.application.id)
    files = uploaded_files(app.config)

    response = send_document(browser, form())

    assert response.status_code == 422
    message = field_error(response, field)
    assert message and says in message
    assert UPLOAD_FORM in response.get_data(as_text=True)
    assert state(applicant.application.id) == before
    assert uploaded_files(app.config) == files


def test_a_clinician_whose_application_is_pending_cannot_upload(signed_in, app):
    applicant = make_applicant()
    browser = signed_in(applicant)
    assert UPLOAD_FORM not in browser.get("/account").get_data(as_text=True)
    before = state(applicant.application.id)
    files = uploaded_files(app.config)

    response = send_document(browser, document_form())

    assert response.status_code == 303
    assert redirect_path(response) == "/account"
    assert ("error", "Your application is not waiting for a document.") in flashes(browser.get("/account"))
    assert state(applicant.application.id) == before
    assert uploaded_files(app.config) == files


@pytest.mark.parametrize("who", ["rejected", "verified"])
def test_a_rejected_or_currently_verified_clinician_cannot_upload_either(signed_in, app, who):
    if who == "rejected":
        user = make_applicant()
        verification.decide(user.application.id, make_staff(), ApplicationStatus.REJECTED, "Not licensed here.")
    else:
        user = make_clinician()
    browser = signed_in(user)
    before = state(user.application.id)
    files = uploaded_files(app.config)

    response = send_document(browser, document_form())

    assert response.status_code == 303
    assert ("error", "Your application is not waiting for a document.") in flashes(browser.get("/account"))
    assert state(user.application.id) == before
    assert uploaded_files(app.config) == files


def test_the_account_page_is_for_clinicians_only(make_client, signed_in):
    staff = make_staff()
    browser = signed_in(staff)
    assert browser.get("/account").status_code == 403
    assert send_document(browser, document_form()).status_code == 403
    anonymous = make_client().get("/account")
    assert redirect_path(anonymous).startswith("/login?next=")


# --- decisions as the clinician sees them ----------------------------------------------


def test_after_approval_the_clinician_logs_in_and_reaches_the_catalogue(make_client, signed_in):
    applicant = make_applicant()
    browser = signed_in(applicant)
    blocked = browser.get("/catalogue")
    assert blocked.status_code == 302 and redirect_path(blocked) == "/account"

    verification.decide(applicant.application.id, make_staff(), ApplicationStatus.APPROVED)

    assert browser.get("/catalogue").status_code == 200
    fresh_browser = make_client()
    landing = fresh_browser.login(applicant.email, PASSWORD)
    assert redirect_path(landing) == "/catalogue"
    assert fresh_browser.get("/catalogue").status_code == 200
    assert "Verified" in text(fresh_browser.get("/account"))


def test_a_rejected_clinician_cannot_reach_the_catalogue_and_sees_the_reason(make_client):
    applicant = make_applicant()
    verification.decide(
        applicant.application.id, make_staff(), ApplicationStatus.REJECTED, "Your licence is for veterinary practice."
    )
    browser = make_client()
    landing = browser.login(applicant.email, PASSWORD)
    assert redirect_path(landing) == "/account"

    catalogue = browser.get("/catalogue")
    assert catalogue.status_code == 302
    assert redirect_path(catalogue) == "/account"
    page = browser.get("/account")
    assert "Your application was not approved" in text(page)
    assert "Your licence is for veterinary practice." in text(page)
    assert UPLOAD_FORM not in page.get_data(as_text=True)


def test_a_pending_clinician_sees_that_the_application_is_under_review(signed_in):
    applicant = make_applicant(licence_number="MCI-818181")
    page = text(signed_in(applicant).get("/account"))
    assert "Under review" in page
    assert "MCI-818181" in page
    assert applicant.email in page


# --- a licence that expires -------------------------------------------------------------


def test_a_verified_clinician_loses_the_catalogue_the_day_after_the_licence_expires(make_client):
    expiry = date(2031, 3, 10)
    browser = make_client()
    with time_machine.travel(datetime(2031, 3, 10, 22, 30, tzinfo=DUBLIN)):
        clinician = make_clinician(licence_expiry=expiry)
        browser.login(clinician.email, PASSWORD)
        assert browser.get("/catalogue").status_code == 200
    with time_machine.travel(datetime(2031, 3, 11, 0, 30, tzinfo=DUBLIN)):
        response = browser.get("/catalogue")
        assert response.status_code == 302
        assert redirect_path(response) == "/account"
        page = browser.get("/account")
        assert "Your licence on file has expired" in text(page)
        assert UPLOAD_FORM in page.get_data(as_text=True)
        # Told that the licence lapsed and what to do, not that the account "is not verified yet".
        assert (
            "info",
            "Your licence on file expired on 10 Mar 2031, so the catalogue is closed to your account "
            "until we verify a renewed one. Upload it on this page.",
        ) in flashes(page)
        assert "not verified yet" not in text(page)


def test_a_clinician_whose_licence_expired_uploads_a_renewal_and_is_verified_again(
    make_client, signed_in, mailbox, settled, app
):
    clinician = make_clinician(licence_expiry=clock.today() + timedelta(days=20))
    staff = make_staff()
    settled()
    with time_machine.travel(clock.now() + timedelta(days=25)):
        browser = make_client()
        assert redirect_path(browser.login(clinician.email, PASSWORD)) == "/account"
        renewed = clock.today() + timedelta(days=3 * 365)

        response = send_document(browser, document_form(expiry=renewed, message="Renewed in March."))

        assert response.status_code == 303
        application = reload(LicenceApplication, clinician.application.id)
        assert application.status == ApplicationStatus.PENDING
        assert application.licence_expiry == renewed
        assert application.events[-1].action == "renewal_submitted"
        assert browser.get("/catalogue").status_code == 302
        mailer.deliver_due()
        assert [m["To"] for m in mailbox.messages] == [app.config["CUSTOMER_CARE_EMAIL"]]

        desk = signed_in(staff)
        assert desk.post(f"/staff/applications/{application.id}/approve").status_code == 303
        assert browser.get("/catalogue").status_code == 200
        assert "Verified" in text(browser.get("/account"))


def test_a_renewal_that_is_itself_expired_is_refused(signed_in, app):
    clinician = make_clinician(licence_expiry=clock.today() + timedelta(days=5))
    with time_machine.travel(clock.now() + timedelta(days=8)):
        browser = signed_in(clinician)
        before = state(clinician.application.id)
        files = uploaded_files(app.config)
        response = send_document(browser, document_form(expiry=clock.today() - timedelta(days=1)))
        assert response.status_code == 422
        assert "expired" in field_error(response, "licence_expiry")
        assert state(clinician.application.id) == before
        assert uploaded_files(app.config) == files
