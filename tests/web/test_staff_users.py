"""Staff accounts, as an administrator manages them: the team list, inviting someone by email,
the invitation link that works once, and deactivating and reactivating a member."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from shop.access import WORK_DESKS
from shop.accounts.models import Role, User
from shop.core import mailer
from shop.core.outbox import OutboxMessage
from shop.extensions import db
from tests.factories import PASSWORD, make_applicant, make_clinician, make_staff
from tests.helpers import field_error, flashes, redirect_path, row_count, text
from tests.smtp import html_of, text_of

NEW_PASSWORD = "Quiet-meadow-compass-7391"
INVITE_LINK = re.compile(r"http://shop\.test(/welcome/[A-Za-z0-9_.\-]+)")


def user_by_email(email: str) -> User | None:
    db.session.rollback()
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email.lower()))


def counts() -> tuple[int, int]:
    db.session.rollback()
    return (
        row_count(User),
        row_count(OutboxMessage),
    )


def logs_in(browser, email: str, password: str) -> bool:
    """Whether the login goes through (for a first login, the authenticator set up on the way)."""
    browser.post_login({"email": email, "password": password})
    return browser.get("/staff").status_code == 200


@pytest.fixture
def admin(signed_in):
    member = make_staff(role=Role.ADMIN, full_name="Alex Admin", email="alex.admin@supplier.example")
    return signed_in(member), member


def invite(
    admin_browser, mailbox, *, email="casey.new@supplier.example", full_name="Casey Newcomer", role="staff"
) -> str:
    """Add a staff member and return the path of the link they were emailed."""
    # The desks ticked by default: every desk of the daily work.
    form = {"email": email, "full_name": full_name, "role": role, "desks": sorted(d.value for d in WORK_DESKS)}
    response = admin_browser.post("/staff/users", form)
    assert response.status_code == 303, text(response)
    mailer.deliver_due()
    messages = mailbox.to(email)
    assert len(messages) == 1
    match = INVITE_LINK.search(text_of(messages[0]))
    assert match, text_of(messages[0])
    return match.group(1)


# --- who may manage staff ---------------------------------------------------------------


def test_only_an_administrator_may_manage_staff_accounts(admin, signed_in):
    member = make_staff()
    staff_browser = signed_in(member)
    before = counts()

    assert staff_browser.get("/staff/users").status_code == 403
    refused = staff_browser.post(
        "/staff/users", {"email": "sneaky@supplier.example", "full_name": "Sneaky", "role": "admin"}
    )
    assert refused.status_code == 403
    assert staff_browser.post(f"/staff/users/{member.id}/deactivate").status_code == 403
    assert counts() == before
    assert user_by_email("sneaky@supplier.example") is None
    assert 'href="/staff/users"' not in staff_browser.get("/staff").get_data(as_text=True)

    browser, _ = admin
    assert browser.get("/staff/users").status_code == 200
    assert 'href="/staff/users"' in browser.get("/staff").get_data(as_text=True)


def test_the_team_list_shows_staff_and_administrators_but_no_clinicians(admin):
    browser, _ = admin
    make_staff(full_name="Blair Staffer", email="blair@supplier.example")
    make_staff(role=Role.ADMIN, full_name="Dana Boss", email="dana@supplier.example")
    make_clinician(full_name="Dr Not Staff", email="doctor@clinic.example")
    make_applicant(full_name="Dr Applicant Only", email="applicant@clinic.example")

    page = text(browser.get("/staff/users"))

    for shown in ("Blair Staffer", "blair@supplier.example", "Dana Boss", "dana@supplier.example", "Alex Admin"):
        assert shown in page
    for hidden in ("Dr Not Staff", "doctor@clinic.example", "Dr Applicant Only", "applicant@clinic.example"):
        assert hidden not in page
    assert "Administrator" in page and "Staff" in page


# --- invitations ------------------------------------------------------------------------


def test_an_administrator_adds_a_staff_member_who_is_emailed_an_invitation_link(admin, mailbox, make_client):
    browser, member = admin

    response = browser.post(
        "/staff/users", {"email": "Casey.New@Supplier.example", "full_name": "Casey Newcomer", "role": "staff"}
    )

    assert response.status_code == 303
    assert redirect_path(response) == "/staff/users"
    listing = browser.get("/staff/users")
    assert any("Casey Newcomer" in message and kind == "success" for kind, message in flashes(listing))
    assert "Invited" in text(listing)
    created = user_by_email("casey.new@supplier.example")
    assert created is not None and created.role == Role.STAFF and created.active
    # Nobody can log in to the new account before the link is used.
    for guess in ("!unset", PASSWORD, NEW_PASSWORD):
        assert not logs_in(make_client(), created.email, guess)

    mailer.deliver_due()
    messages = mailbox.to("casey.new@supplier.example")
    assert len(messages) == 1
    body = text_of(messages[0])
    assert INVITE_LINK.search(body)
    assert INVITE_LINK.search(html_of(messages[0]))
    assert "Alex Admin" in body and "a staff member" in body
    assert member.email not in messages[0]["To"]


def test_the_invitation_link_lets_the_new_member_choose_a_password_and_reach_the_back_office(
    admin, mailbox, make_client
):
    browser, _ = admin
    link = invite(browser, mailbox)
    newcomer = make_client()

    form = newcomer.get(link)
    assert form.status_code == 200
    assert "casey.new@supplier.example" in text(form)

    response = newcomer.post(link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 303
    assert redirect_path(response) == "/login"

    # A first login sets up the authenticator and shows the recovery codes, then goes on.
    landing = newcomer.login("casey.new@supplier.example", NEW_PASSWORD)
    assert "Your recovery codes" in text(landing)
    assert 'href="/staff"' in landing.get_data(as_text=True)
    assert newcomer.get("/staff").status_code == 200
    assert newcomer.get("/staff/applications").status_code == 200
    assert newcomer.get("/staff/users").status_code == 403
    assert "Active" in text(browser.get("/staff/users"))


def test_an_invited_administrator_can_manage_staff_in_turn(admin, mailbox, make_client):
    browser, _ = admin
    link = invite(browser, mailbox, email="pat.boss@supplier.example", full_name="Pat Boss", role="admin")
    assert "an administrator" in text_of(mailbox.to("pat.boss@supplier.example")[0])
    newcomer = make_client()
    newcomer.post(link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    newcomer.login("pat.boss@supplier.example", NEW_PASSWORD)
    assert newcomer.get("/staff/users").status_code == 200
    assert user_by_email("pat.boss@supplier.example").role == Role.ADMIN


def test_an_invitation_link_works_only_once(admin, mailbox, make_client):
    browser, _ = admin
    link = invite(browser, mailbox)
    first = make_client()
    assert first.post(link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 303

    second = make_client()
    again = second.get(link)
    assert again.status_code == 302
    assert redirect_path(again) == "/password/forgot"
    assert ("error", "This link has expired or was already used. Ask for a new one.") in flashes(
        second.get("/password/forgot")
    )
    replay = second.post(link, {"password": "Another-orchard-ladder-5820", "confirm": "Another-orchard-ladder-5820"})
    assert replay.status_code == 302

    check = make_client()
    assert not logs_in(check, "casey.new@supplier.example", "Another-orchard-ladder-5820")
    assert logs_in(check, "casey.new@supplier.example", NEW_PASSWORD)


def test_a_tampered_invitation_link_is_refused(admin, mailbox, make_client):
    browser, _ = admin
    link = invite(browser, mailbox)
    stranger = make_client()
    for bad in (link[:-3] + "abc", "/welcome/nonsense", "/welcome/" + "x" * 5000, link + "%00"):
        response = stranger.get(bad)
        assert response.status_code in (302, 404), bad
    response = stranger.post(link[:-3] + "abc", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert not logs_in(make_client(), "casey.new@supplier.example", NEW_PASSWORD)


@pytest.mark.parametrize("existing", ["taken@supplier.example", "TAKEN@Supplier.Example", "  taken@supplier.example  "])
def test_an_email_already_in_use_is_refused_with_a_field_message(admin, existing):
    browser, _ = admin
    make_staff(email="taken@supplier.example", full_name="Original Holder")
    before = counts()

    response = browser.post("/staff/users", {"email": existing, "full_name": "Someone Else", "role": "staff"})

    assert response.status_code == 422
    assert "already exists" in field_error(response, "email")
    assert counts() == before
    assert user_by_email("taken@supplier.example").full_name == "Original Holder"


def test_a_clinicians_email_cannot_be_reused_for_a_staff_account(admin):
    browser, _ = admin
    clinician = make_clinician(email="dr.jones@clinic.example")
    before = counts()
    response = browser.post("/staff/users", {"email": clinician.email, "full_name": "Dr Jones", "role": "admin"})
    assert response.status_code == 422
    assert "already exists" in field_error(response, "email")
    assert counts() == before
    assert user_by_email(clinician.email).role == Role.CLINICIAN


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"email": "", "full_name": "No Email", "role": "staff"}, "email"),
        ({"email": "not-an-address", "full_name": "Bad Email", "role": "staff"}, "email"),
        ({"email": "x" * 10_000 + "@supplier.example", "full_name": "Long Email", "role": "staff"}, "email"),
        ({"email": "noname@supplier.example", "full_name": "", "role": "staff"}, "full_name"),
        ({"email": "nul@supplier.example", "full_name": "\x00\x00\x00", "role": "staff"}, "full_name"),
        ({"email": "long@supplier.example", "full_name": "n" * 10_000, "role": "staff"}, "full_name"),
        ({"email": "role@supplier.example", "full_name": "Wrong Role", "role": "clinician"}, "role"),
        ({"email": "role2@supplier.example", "full_name": "Wrong Role", "role": "\x00"}, "role"),
    ],
)
def test_unusable_staff_details_get_a_field_message_and_create_nobody(admin, fields, field):
    browser, _ = admin
    before = counts()
    response = browser.post("/staff/users", fields)
    assert response.status_code == 422
    assert field_error(response, field)
    assert counts() == before


def test_control_characters_in_a_new_members_name_are_dropped(admin, mailbox):
    browser, _ = admin
    invite(browser, mailbox, email="ctrl@supplier.example", full_name="Jamie\x00 O\x07Neill")
    assert user_by_email("ctrl@supplier.example").full_name == "Jamie ONeill"


# --- deactivation -----------------------------------------------------------------------


def test_deactivating_a_staff_member_ends_their_session_at_once_and_reactivating_lets_them_back(
    admin, make_client, signed_in
):
    browser, _ = admin
    member = make_staff(full_name="Morgan Leaving", email="morgan@supplier.example")
    theirs = signed_in(member)
    assert theirs.get("/staff/applications").status_code == 200

    response = browser.post(f"/staff/users/{member.id}/deactivate")

    assert response.status_code == 303
    listing = browser.get("/staff/users")
    assert ("success", "Morgan Leaving is deactivated.") in flashes(listing)
    assert "Deactivated" in text(listing)
    assert user_by_email(member.email).active is False
    kicked = theirs.get("/staff/applications")
    assert kicked.status_code == 302
    assert redirect_path(kicked).startswith("/login")
    assert not logs_in(make_client(), member.email, PASSWORD)

    response = browser.post(f"/staff/users/{member.id}/reactivate")

    assert response.status_code == 303
    assert ("success", "Morgan Leaving is active again.") in flashes(browser.get("/staff/users"))
    assert user_by_email(member.email).active is True
    back = make_client()
    assert logs_in(back, member.email, PASSWORD)
    assert back.get("/staff/applications").status_code == 200


def test_an_administrator_cannot_deactivate_themself(admin):
    browser, member = admin
    html = browser.get("/staff/users").get_data(as_text=True)
    assert f'action="/staff/users/{member.id}/deactivate"' not in html

    response = browser.post(f"/staff/users/{member.id}/deactivate")

    assert response.status_code == 303
    assert ("error", "You cannot deactivate your own account.") in flashes(browser.get("/staff/users"))
    assert user_by_email(member.email).active is True
    assert browser.get("/staff/users").status_code == 200


def test_a_deactivated_members_unused_invitation_stops_working(admin, mailbox, make_client):
    browser, _ = admin
    link = invite(browser, mailbox)
    created = user_by_email("casey.new@supplier.example")
    browser.post(f"/staff/users/{created.id}/deactivate")
    newcomer = make_client()
    assert newcomer.get(link).status_code == 302
    newcomer.post(link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert not logs_in(make_client(), created.email, NEW_PASSWORD)


def test_only_staff_accounts_can_be_switched_and_unknown_ids_are_not_found(admin):
    browser, _ = admin
    clinician = make_clinician()
    for url in (
        f"/staff/users/{clinician.id}/deactivate",
        "/staff/users/999999/deactivate",
        f"/staff/users/{'9' * 30}/deactivate",
        "/staff/users/0/reactivate",
    ):
        assert browser.post(url).status_code == 404, url
    assert browser.post(f"/staff/users/{clinician.id}/delete").status_code == 404
    assert user_by_email(clinician.email).active is True
