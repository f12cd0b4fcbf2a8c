"""The verification desk as staff use it: the queue with its tabs and pages, one application
with its licence document, the three decisions and what they send, decisions that no longer
apply, two people clicking at once, and input that must never break the page."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import select

from shop import clock
from shop.accounts import verification
from shop.accounts.licences import ApplicationEvent, ApplicationStatus, LicenceApplication
from shop.core import mailer
from shop.core.outbox import OutboxMessage
from shop.extensions import db
from tests.factories import PNG_BYTES, make_applicant, make_clinician, make_staff, pdf_bytes, upload
from tests.helpers import field_error, flashes, redirect_path, reload, row_count, text
from tests.smtp import text_of

ROW_LINK = re.compile(r'<td><a href="/staff/applications/(\d+)">#\d+</a></td>')


def listed_ids(response) -> list[int]:
    return [int(n) for n in ROW_LINK.findall(response.get_data(as_text=True))]


def state(application_id: int) -> tuple:
    application = reload(LicenceApplication, application_id)
    return (
        application.status,
        application.decided_at,
        application.decided_by_id,
        application.decision_note,
        [(e.action, e.actor_id, e.to_status, e.note) for e in application.events],
        row_count(OutboxMessage),
    )


@pytest.fixture
def staff_login(signed_in):
    """A signed-in staff member: (their browser, their account)."""

    def login(**kwargs):
        member = make_staff(**kwargs)
        return signed_in(member), member

    return login


@pytest.fixture
def desk(staff_login):
    return staff_login(full_name="Robin Desk")


# --- the queue -------------------------------------------------------------------------


def test_the_queue_lists_applications_longest_waiting_first_with_their_licence_details(desk):
    browser, _ = desk
    newest = make_applicant(full_name="Dr Newest Applicant", licence_number="MCI-300003")
    expiry = clock.today() + timedelta(days=500)
    with time_machine.travel(clock.now() - timedelta(days=3)):
        oldest = make_applicant(
            full_name="Dr Oldest Applicant",
            licence_number="MCI-100001",
            licence_region="Medical Council of Ireland",
            licence_expiry=expiry,
        )
    with time_machine.travel(clock.now() - timedelta(days=1)):
        middle = make_applicant(full_name="Dr Middle Applicant", licence_number="MCI-200002")

    response = browser.get("/staff/applications")

    assert response.status_code == 200
    assert listed_ids(response) == [oldest.application.id, middle.application.id, newest.application.id]
    page = text(response)
    assert page.index("Dr Oldest Applicant") < page.index("Dr Middle Applicant") < page.index("Dr Newest Applicant")
    for fact in (
        "MCI-100001",
        "Medical Council of Ireland",
        expiry.strftime("%d %b %Y"),
        "Physician (MD/DO)",
        "Harbour Skin Clinic",
        oldest.email,
    ):
        assert fact in page


@pytest.fixture
def one_of_each():
    staff = make_staff()
    people = {
        status: make_applicant(full_name=f"Dr {status.title().replace('_', '')}")
        for status in ("pending", "needs_info", "approved", "rejected")
    }
    verification.decide(people["needs_info"].application.id, staff, ApplicationStatus.NEEDS_INFO, "More please.")
    verification.decide(people["approved"].application.id, staff, ApplicationStatus.APPROVED)
    verification.decide(people["rejected"].application.id, staff, ApplicationStatus.REJECTED, "No.")
    return {status: user.application.id for status, user in people.items()}


@pytest.mark.parametrize(
    ("tab", "expected"),
    [
        (None, {"pending"}),
        ("pending", {"pending"}),
        ("needs_info", {"needs_info"}),
        ("approved", {"approved"}),
        ("rejected", {"rejected"}),
        ("open", {"pending", "needs_info"}),
        ("all", {"pending", "needs_info", "approved", "rejected"}),
        ("no-such-tab", {"pending"}),
    ],
)
def test_each_status_tab_shows_exactly_its_applications(desk, one_of_each, tab, expected):
    browser, _ = desk
    response = browser.get("/staff/applications" + (f"?status={tab}" if tab else ""))
    assert response.status_code == 200
    assert set(listed_ids(response)) == {one_of_each[status] for status in expected}
    current = re.search(
        r'<a href="/staff/applications\?status=(\w+)" aria-current="page">', response.get_data(as_text=True)
    )
    assert current and current.group(1) == (
        tab if tab in ("needs_info", "approved", "rejected", "open", "all") else "pending"
    )


def test_every_status_tab_is_offered(desk):
    browser, _ = desk
    html = browser.get("/staff/applications").get_data(as_text=True)
    for tab in ("pending", "needs_info", "approved", "rejected", "open", "all"):
        assert f'href="/staff/applications?status={tab}"' in html


def test_a_long_queue_is_split_into_pages_in_queue_order(desk, app, monkeypatch):
    monkeypatch.setitem(app.config, "STAFF_PAGE_SIZE", 2)
    browser, _ = desk
    ids = []
    start = clock.now() - timedelta(days=10)
    for n in range(5):
        with time_machine.travel(start + timedelta(hours=n)):
            ids.append(make_applicant(full_name=f"Dr Queue {n}").application.id)

    first = browser.get("/staff/applications")
    second = browser.get("/staff/applications?status=pending&page=2")
    third = browser.get("/staff/applications?status=pending&page=3")

    assert [listed_ids(first), listed_ids(second), listed_ids(third)] == [ids[0:2], ids[2:4], ids[4:5]]
    assert 'rel="next" href="/staff/applications?status=pending&amp;page=2"' in first.get_data(as_text=True)
    assert 'rel="prev"' in third.get_data(as_text=True) and 'rel="next"' not in third.get_data(as_text=True)
    assert "5 shown" in text(first)


def test_the_pager_keeps_the_chosen_tab(desk, app, monkeypatch):
    monkeypatch.setitem(app.config, "STAFF_PAGE_SIZE", 1)
    browser, _ = desk
    make_applicant()
    make_applicant()
    html = browser.get("/staff/applications?status=all").get_data(as_text=True)
    assert 'href="/staff/applications?status=all&amp;page=2"' in html


def test_an_empty_queue_says_there_is_nothing_to_review(desk):
    browser, _ = desk
    make_clinician()  # approved, so not in the pending tab
    response = browser.get("/staff/applications")
    assert response.status_code == 200
    assert listed_ids(response) == []
    assert "Nothing here" in text(response)
    assert "No applications are under review right now." in text(response)


# --- one application and its document --------------------------------------------------


def test_an_application_page_shows_the_licence_the_applicant_and_a_link_to_the_document(desk):
    browser, _ = desk
    applicant = make_applicant(
        full_name="Dr Ciara Nolan",
        licence_number="MCI-555123",
        licence_region="Medical Council of Ireland",
        licence_expiry=clock.today() + timedelta(days=300),
    )
    application = applicant.application
    document = application.documents[0]

    response = browser.get(f"/staff/applications/{application.id}")

    assert response.status_code == 200
    page = text(response)
    for fact in (
        "Dr Ciara Nolan",
        "MCI-555123",
        "Medical Council of Ireland",
        (clock.today() + timedelta(days=300)).strftime("%d %b %Y"),
        "Physician (MD/DO)",
        "Harbour Skin Clinic",
        applicant.email,
        "Under review",
    ):
        assert fact in page
    link = f"/staff/applications/{application.id}/documents/{document.id}"
    assert f'href="{link}"' in response.get_data(as_text=True)
    assert browser.get(link).status_code == 200


def test_staff_download_the_document_as_an_attachment_under_a_generated_name(desk):
    browser, _ = desk
    scan = pdf_bytes("Dr Secret Name", "LIC-99")
    applicant = make_applicant(document=upload(scan, "Dr Secret Name passport and licence.pdf"))
    application = applicant.application
    document = application.documents[0]

    response = browser.get(f"/staff/applications/{application.id}/documents/{document.id}")

    assert response.status_code == 200
    assert response.get_data() == scan
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert f"filename=licence-{application.id}-{document.id}.pdf" in disposition
    assert "Secret" not in disposition and "passport" not in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response.headers["Cache-Control"]


def test_an_image_document_is_served_with_its_image_type_and_extension(desk):
    browser, _ = desk
    # Named .jpg by the clinician, but really a PNG: the content decides.
    applicant = make_applicant(document=upload(PNG_BYTES, "phone-photo.jpg"))
    application = applicant.application
    document = application.documents[0]

    response = browser.get(f"/staff/applications/{application.id}/documents/{document.id}")

    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.get_data() == PNG_BYTES
    assert f"filename=licence-{application.id}-{document.id}.png" in response.headers["Content-Disposition"]
    assert "phone-photo" not in response.headers["Content-Disposition"]
    assert response.headers["Content-Disposition"].startswith("attachment")


def test_a_licence_document_is_for_staff_only_not_even_for_its_owner(make_client, signed_in):
    owner = make_applicant()
    url = f"/staff/applications/{owner.application.id}/documents/{owner.application.documents[0].id}"
    verified = make_clinician()
    for person in (owner, verified):
        browser = signed_in(person)
        response = browser.get(url)
        assert response.status_code == 403
        assert b"%PDF" not in response.get_data()

    anonymous = make_client().get(url)
    assert anonymous.status_code == 302
    assert redirect_path(anonymous).startswith("/login?next=")
    assert b"%PDF" not in anonymous.get_data()


def test_a_document_of_another_application_is_not_found_under_this_one(desk):
    browser, _ = desk
    first, second = make_applicant(), make_applicant()
    foreign = second.application.documents[0].id
    response = browser.get(f"/staff/applications/{first.application.id}/documents/{foreign}")
    assert response.status_code == 404
    assert b"%PDF" not in response.get_data()
    assert browser.get(f"/staff/applications/{first.application.id}/documents/999999").status_code == 404


def test_uploaded_documents_are_never_reachable_under_static(desk, client, app):
    browser, _ = desk
    applicant = make_applicant()
    stored = applicant.application.documents[0].stored_name
    upload_folder = Path(app.config["UPLOAD_FOLDER"]).resolve()
    assert (upload_folder / stored).is_file()
    assert not upload_folder.is_relative_to(Path(app.static_folder).resolve())
    for path in (f"/static/{stored}", f"/static/uploads/{stored}", f"/static/../{stored}", f"/static/%2e%2e/{stored}"):
        for who in (client, browser):
            response = who.get(path)
            assert response.status_code == 404, path
            assert b"%PDF" not in response.get_data()


# --- decisions -------------------------------------------------------------------------


def test_staff_approve_an_application_and_the_clinician_is_emailed(desk, mailbox, settled):
    browser, member = desk
    applicant = make_applicant(email="approve-me@clinic.example")
    settled()
    before = clock.now()

    response = browser.post(f"/staff/applications/{applicant.application.id}/approve", {"note": "Welcome aboard."})

    assert response.status_code == 303
    assert redirect_path(response) == f"/staff/applications/{applicant.application.id}"
    page = browser.get(redirect_path(response))
    assert ("success", "Approved. The clinician has been emailed and can order now.") in flashes(page)
    assert "Approved" in text(page) and "Robin Desk" in text(page)
    application = reload(LicenceApplication, applicant.application.id)
    assert application.status == ApplicationStatus.APPROVED
    assert application.decided_by_id == member.id
    assert before <= application.decided_at <= clock.now()
    event = application.events[-1]
    assert (event.actor_id, event.from_status, event.to_status, event.note) == (
        member.id,
        "pending",
        "approved",
        "Welcome aboard.",
    )

    mailer.deliver_due()
    messages = mailbox.to("approve-me@clinic.example")
    assert [m["Subject"] for m in messages] == ["Your account is approved"]
    assert "Welcome aboard." in text_of(messages[0])


def test_staff_reject_with_a_reason_the_clinician_receives(desk, mailbox, settled):
    browser, member = desk
    applicant = make_applicant(email="reject-me@clinic.example")
    settled()

    response = browser.post(
        f"/staff/applications/{applicant.application.id}/reject", {"reason": "Licence number not on the register."}
    )

    assert response.status_code == 303
    assert ("success", "Rejected. The clinician has been emailed the reason.") in flashes(
        browser.get(redirect_path(response))
    )
    application = reload(LicenceApplication, applicant.application.id)
    assert application.status == ApplicationStatus.REJECTED
    assert application.decided_by_id == member.id
    event = application.events[-1]
    assert (event.actor_id, event.from_status, event.to_status, event.note) == (
        member.id,
        "pending",
        "rejected",
        "Licence number not on the register.",
    )
    mailer.deliver_due()
    messages = mailbox.to("reject-me@clinic.example")
    assert [m["Subject"] for m in messages] == ["Your application was not approved"]
    assert "Licence number not on the register." in text_of(messages[0])


def test_staff_ask_for_more_information_and_the_clinician_is_told_what(desk, mailbox, settled):
    browser, member = desk
    applicant = make_applicant(email="more@clinic.example")
    settled()

    response = browser.post(
        f"/staff/applications/{applicant.application.id}/request-info", {"message": "Please send the back of the card."}
    )

    assert response.status_code == 303
    assert "Request sent." in text(browser.get(redirect_path(response)))
    application = reload(LicenceApplication, applicant.application.id)
    assert application.status == ApplicationStatus.NEEDS_INFO
    assert application.decided_by_id == member.id
    event = application.events[-1]
    assert (event.actor_id, event.from_status, event.to_status, event.note) == (
        member.id,
        "pending",
        "needs_info",
        "Please send the back of the card.",
    )
    mailer.deliver_due()
    messages = mailbox.to("more@clinic.example")
    assert [m["Subject"] for m in messages] == ["We need more information"]
    assert "Please send the back of the card." in text_of(messages[0])
    assert "http://shop.test/account" in text_of(messages[0])


@pytest.mark.parametrize(
    ("action", "field", "message"),
    [
        ("reject", "reason", "Say why the application is rejected."),
        ("request-info", "message", "Say what the clinician should send."),
    ],
)
@pytest.mark.parametrize("blank", ["", "   ", "\x00\x00"])
def test_rejecting_or_asking_for_more_without_saying_why_shows_a_field_message(desk, action, field, message, blank):
    browser, _ = desk
    applicant = make_applicant()
    before = state(applicant.application.id)

    response = browser.post(f"/staff/applications/{applicant.application.id}/{action}", {field: blank})

    assert response.status_code == 422
    assert field_error(response, field) == message
    assert state(applicant.application.id) == before


@pytest.mark.parametrize(
    ("first", "second", "fields"),
    [
        ("approve", "approve", {}),
        ("reject", "approve", {}),
        ("approve", "reject", {"reason": "Changed my mind."}),
        ("reject", "reject", {"reason": "Again."}),
        ("approve", "request-info", {"message": "One more thing."}),
        ("reject", "request-info", {"message": "One more thing."}),
        ("request-info", "request-info", {"message": "And another thing."}),
    ],
)
def test_a_decision_that_was_already_taken_is_refused_cleanly_and_changes_nothing(staff_login, first, second, fields):
    first_browser, first_member = staff_login(full_name="First Reviewer")
    second_browser, _ = staff_login(full_name="Second Reviewer")
    applicant = make_applicant()
    url = f"/staff/applications/{applicant.application.id}"
    done = first_browser.post(f"{url}/{first}", {"reason": "Not eligible.", "message": "Clearer scan."})
    assert done.status_code == 303
    before = state(applicant.application.id)
    # The second reviewer still has the page open from before the first decision.
    response = second_browser.post(f"{url}/{second}", fields)

    assert response.status_code == 422
    errors = [message for kind, message in flashes(response) if kind == "error"]
    assert errors and "cannot become" in errors[0]
    assert state(applicant.application.id) == before
    assert reload(LicenceApplication, applicant.application.id).decided_by_id == first_member.id


def test_once_decided_the_page_offers_no_more_decisions(desk):
    browser, _ = desk
    applicant = make_applicant()
    url = f"/staff/applications/{applicant.application.id}"
    assert 'action="' + url + '/approve"' in browser.get(url).get_data(as_text=True)
    browser.post(f"{url}/approve")
    html = browser.get(url).get_data(as_text=True)
    for action in ("approve", "reject", "request-info"):
        assert f'action="{url}/{action}"' not in html


def test_approving_an_application_whose_licence_has_expired_is_refused(staff_login):
    applicant = make_applicant(licence_expiry=clock.today() + timedelta(days=2))
    with time_machine.travel(clock.now() + timedelta(days=4)):
        browser, _ = staff_login()
        url = f"/staff/applications/{applicant.application.id}"
        assert "expired" in text(browser.get(url))
        before = state(applicant.application.id)

        response = browser.post(f"{url}/approve")

        assert response.status_code == 422
        errors = [message for kind, message in flashes(response) if kind == "error"]
        assert errors and "expired" in errors[0]
        assert state(applicant.application.id) == before


def test_two_staff_clicking_approve_at_the_same_moment_make_one_approval_and_one_email(staff_login, mailbox, settled):
    applicant = make_applicant(email="clicked-twice@clinic.example")
    reviewers = [staff_login(), staff_login()]
    settled()
    url = f"/staff/applications/{applicant.application.id}/approve"
    tokens = [browser.csrf_token() for browser, _ in reviewers]
    barrier = threading.Barrier(2)
    statuses: list[int] = []
    failures: list[str] = []

    def click(browser, token):
        barrier.wait(timeout=10)
        try:
            statuses.append(browser.post(url, {"csrf_token": token}).status_code)
        except Exception as error:  # noqa: BLE001 - reported below
            failures.append(repr(error))

    threads = [
        threading.Thread(target=click, args=(browser, token))
        for (browser, _), token in zip(reviewers, tokens, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    assert sorted(statuses) == [303, 422]
    events = db.session.scalars(
        select(ApplicationEvent).where(
            ApplicationEvent.application_id == applicant.application.id, ApplicationEvent.action == "approved"
        )
    ).all()
    assert len(events) == 1
    mailer.deliver_due()
    assert [m["Subject"] for m in mailbox.to("clicked-twice@clinic.example")] == ["Your account is approved"]


# --- input that must not break anything ------------------------------------------------

HUGE = "9" * 30


def test_no_address_a_staff_member_can_type_causes_a_server_error(desk):
    browser, _ = desk
    applicant = make_applicant()
    a, d = applicant.application.id, applicant.application.documents[0].id
    urls = [
        "/staff/applications?status=%00",
        "/staff/applications?status=" + "x" * 10_000,
        "/staff/applications?page=abc",
        "/staff/applications?page=-3",
        "/staff/applications?page=0",
        f"/staff/applications?page={HUGE}",
        "/staff/applications?page=%00",
        "/staff/applications/0",
        "/staff/applications/abc",
        f"/staff/applications/{HUGE}",
        "/staff/applications/%00",
        f"/staff/applications/{a}/documents/{HUGE}",
        f"/staff/applications/{HUGE}/documents/{d}",
        f"/staff/applications/{a}/documents/abc",
    ]
    problems = []
    for url in urls:
        try:
            status = browser.get(url).status_code
        except Exception as error:  # noqa: BLE001 - collect every failure, then report them together
            problems.append(f"GET {url}: {error!r}")
            continue
        if status >= 500:
            problems.append(f"GET {url}: {status}")
    for url in (
        f"/staff/applications/{HUGE}/approve",
        f"/staff/applications/{HUGE}/reject",
        "/staff/applications/0/request-info",
    ):
        try:
            status = browser.post(url, {"reason": "x", "message": "x"}).status_code
        except Exception as error:  # noqa: BLE001
            problems.append(f"POST {url}: {error!r}")
            continue
        if status != 404:
            problems.append(f"POST {url}: {status}")
    assert problems == []
    assert browser.get(f"/staff/applications/{HUGE}").status_code == 404


@pytest.mark.parametrize(
    ("action", "fields", "field"),
    [
        ("reject", {"reason": "x" * 10_000}, "reason"),
        ("request-info", {"message": "y" * 10_000}, "message"),
        ("approve", {"note": "z" * 10_000}, "note"),
    ],
)
def test_a_ten_thousand_character_note_gets_a_field_message_and_changes_nothing(desk, action, fields, field):
    browser, _ = desk
    applicant = make_applicant()
    before = state(applicant.application.id)
    response = browser.post(f"/staff/applications/{applicant.application.id}/{action}", fields)
    assert response.status_code == 422
    assert "2000 characters" in field_error(response, field)
    assert state(applicant.application.id) == before


@pytest.mark.parametrize(
    ("action", "field", "status"),
    [("reject", "reason", "rejected"), ("request-info", "message", "needs_info"), ("approve", "note", "approved")],
)
def test_control_characters_in_a_note_are_dropped_and_the_decision_goes_through(desk, mailbox, action, field, status):
    browser, _ = desk
    applicant = make_applicant()
    response = browser.post(
        f"/staff/applications/{applicant.application.id}/{action}",
        {field: "Licence\x00 number\x07 mismatch \u00e9\u4e2d"},
    )
    assert response.status_code == 303
    application = reload(LicenceApplication, applicant.application.id)
    assert application.status.value == status
    assert application.decision_note == "Licence number mismatch \u00e9\u4e2d"
    assert application.events[-1].note == "Licence number mismatch \u00e9\u4e2d"
    mailer.deliver_due()
    assert len(mailbox.to(applicant.email)) == 3  # the confirmation link, the receipt, then the decision


def test_html_in_a_reason_is_shown_as_text_not_markup(desk, signed_in):
    browser, _ = desk
    applicant = make_applicant()
    browser.post(f"/staff/applications/{applicant.application.id}/reject", {"reason": "<script>alert(1)</script>"})
    html = browser.get(f"/staff/applications/{applicant.application.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    own = signed_in(applicant)
    assert "<script>alert(1)</script>" not in own.get("/account").get_data(as_text=True)


def test_a_form_without_its_csrf_token_decides_nothing(desk):
    browser, _ = desk
    applicant = make_applicant()
    before = state(applicant.application.id)
    response = browser.post(f"/staff/applications/{applicant.application.id}/approve", {}, csrf=False)
    assert response.status_code < 500
    assert state(applicant.application.id) == before


def test_a_document_download_does_not_depend_on_a_file_name_from_the_request(desk):
    browser, _ = desk
    applicant = make_applicant(document=upload(pdf_bytes(), "../../etc/passwd.pdf"))
    document = applicant.application.documents[0]
    response = browser.get(f"/staff/applications/{applicant.application.id}/documents/{document.id}")
    assert response.status_code == 200
    assert "passwd" not in response.headers["Content-Disposition"]
    assert ".." not in document.stored_name and "/" not in document.stored_name
