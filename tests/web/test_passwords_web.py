"""Forgotten passwords and password changes, as a person goes through them in the browser and
their mailbox."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine

from shop import clock
from shop.accounts import users as accounts
from shop.accounts.models import Role
from shop.core.mailer import deliver_due
from shop.core.outbox import OutboxMessage
from tests.factories import PASSWORD, make_clinician, make_staff
from tests.helpers import field_error, redirect_path, row_count, text
from tests.smtp import html_of, text_of

NEW_PASSWORD = "Copper-meadow-violin-88"
OTHER_PASSWORD = "Granite-orchard-puzzle-51"
CONFIRMATION = "If an account uses that address, we have emailed it a link to choose a new password."
LINK_USED = "This link has expired or was already used. Ask for a new one."


def _ask_for_reset(client, email: str):
    response = client.post("/password/forgot", {"email": email})
    assert response.status_code == 303
    return response


def _reset_link(mailbox, email: str) -> str:
    """Deliver the outbox and read the reset link out of the email that arrived."""
    deliver_due()
    messages = mailbox.to(email)
    assert len(messages) == 1, f"{len(messages)} emails to {email}"
    match = re.search(r"https?://[^/\s]+(/password/reset/\S+)", text_of(messages[0]))
    assert match, "the email carries no reset link"
    return match.group(1)


def _logs_in(make_client, email: str, password: str) -> bool:
    response = make_client().post("/login", {"email": email, "password": password})
    return response.status_code == 303


def _set_new_password(client, link: str, password: str, confirm: str | None = None):
    return client.post(link, {"password": password, "confirm": password if confirm is None else confirm})


# --- asking for a link ------------------------------------------------------------------


def test_the_forgot_password_page_answers_the_same_for_known_and_unknown_addresses(make_client, mailbox):
    make_clinician(email="ana@clinic.example")
    answers = []
    for email in ("ana@clinic.example", "nobody@clinic.example"):
        browser = make_client()
        response = _ask_for_reset(browser, email)
        answers.append((response.status_code, redirect_path(response), text(browser.get(redirect_path(response)))))
    assert answers[0] == answers[1]
    assert CONFIRMATION in answers[0][2]


def test_a_reset_link_is_emailed_only_to_a_real_account(client, mailbox):
    make_clinician(email="ana@clinic.example", full_name="Dr Ana Ruiz")
    _ask_for_reset(client, "nobody@clinic.example")
    _ask_for_reset(client, "ANA@clinic.example")
    report = deliver_due()
    assert (report.sent, report.failed) == (1, 0)
    [message] = mailbox.messages
    assert message["To"] == "ana@clinic.example"
    assert message["Subject"] == "Reset your password"
    assert "Dr Ana Ruiz" in text_of(message)
    assert "/password/reset/" in text_of(message)
    assert "/password/reset/" in html_of(message)
    assert mailbox.to("nobody@clinic.example") == []


def test_a_deactivated_account_gets_no_reset_link(client, mailbox):
    admin = make_staff(role=Role.ADMIN, email="admin@supplier.example")
    member = make_staff(email="desk@supplier.example")
    accounts.set_active(admin, member, False)
    response = _ask_for_reset(client, "desk@supplier.example")
    assert CONFIRMATION in text(client.get(redirect_path(response)))
    assert row_count(OutboxMessage) == 0


def test_an_invalid_address_on_the_forgot_password_form_gets_a_field_message(client):
    response = client.post("/password/forgot", {"email": "not-an-address"})
    assert response.status_code == 200
    assert field_error(response, "email") == "Enter a valid email address, like name@clinic.com."


# --- using the link ---------------------------------------------------------------------


def test_the_reset_link_sets_a_new_password_once(client, make_client, mailbox):
    make_clinician(email="ana@clinic.example")
    _ask_for_reset(client, "ana@clinic.example")
    link = _reset_link(mailbox, "ana@clinic.example")

    page = client.get(link)
    assert page.status_code == 200
    assert "ana@clinic.example" in text(page)

    response = _set_new_password(client, link, NEW_PASSWORD)
    assert response.status_code == 303
    assert redirect_path(response) == "/login"
    assert "Your password is set. Log in with it now." in text(client.get("/login"))
    assert _logs_in(make_client, "ana@clinic.example", NEW_PASSWORD)
    assert not _logs_in(make_client, "ana@clinic.example", PASSWORD)

    # The same link a second time: refused, and the password stays the one just chosen.
    again = client.get(link)
    assert again.status_code == 302
    assert redirect_path(again) == "/password/forgot"
    assert LINK_USED in text(client.get("/password/forgot"))
    _set_new_password(client, link, OTHER_PASSWORD)
    assert not _logs_in(make_client, "ana@clinic.example", OTHER_PASSWORD)
    assert _logs_in(make_client, "ana@clinic.example", NEW_PASSWORD)


def test_the_reset_link_stops_working_after_password_reset_max_age(client, make_client, mailbox, app):
    make_clinician(email="ana@clinic.example")
    max_age = app.config["PASSWORD_RESET_MAX_AGE"]
    with time_machine.travel(clock.now(), tick=False) as traveller:
        _ask_for_reset(client, "ana@clinic.example")
        link = _reset_link(mailbox, "ana@clinic.example")
        traveller.shift(timedelta(seconds=max_age - 60))
        assert client.get(link).status_code == 200

        traveller.shift(timedelta(seconds=120))
        response = client.get(link)
        assert response.status_code == 302
        assert redirect_path(response) == "/password/forgot"
        _set_new_password(client, link, NEW_PASSWORD)
    assert not _logs_in(make_client, "ana@clinic.example", NEW_PASSWORD)
    assert _logs_in(make_client, "ana@clinic.example", PASSWORD)


def test_the_email_says_how_long_the_link_works(client, mailbox, app):
    make_clinician(email="ana@clinic.example")
    _ask_for_reset(client, "ana@clinic.example")
    deliver_due()
    hours = app.config["PASSWORD_RESET_MAX_AGE"] // 3600
    assert f"within {hours} hours" in text_of(mailbox.to("ana@clinic.example")[0])


def test_a_weak_new_password_is_refused_next_to_the_field_and_the_link_still_works(client, make_client, mailbox):
    make_clinician(email="ana@clinic.example")
    _ask_for_reset(client, "ana@clinic.example")
    link = _reset_link(mailbox, "ana@clinic.example")

    for weak, message in (
        ("short-pw", "Use at least 12 characters."),
        ("password1234", "This password is on the list of commonly used passwords. Choose another one."),
        ("ana@clinic.example1", "This password is too easy to guess."),
    ):
        response = _set_new_password(client, link, weak)
        assert response.status_code == 200
        assert field_error(response, "password").startswith(message), weak
        assert not _logs_in(make_client, "ana@clinic.example", weak)

    mismatch = _set_new_password(client, link, NEW_PASSWORD, confirm=OTHER_PASSWORD)
    assert field_error(mismatch, "confirm") == "The two passwords differ."

    assert _logs_in(make_client, "ana@clinic.example", PASSWORD)
    assert _set_new_password(client, link, NEW_PASSWORD).status_code == 303
    assert _logs_in(make_client, "ana@clinic.example", NEW_PASSWORD)


def test_a_reset_ends_every_login_the_account_had(client, make_client, mailbox):
    make_clinician(email="ana@clinic.example")
    laptop = make_client()
    laptop.login("ana@clinic.example", PASSWORD)
    assert laptop.get("/catalogue").status_code == 200
    _ask_for_reset(client, "ana@clinic.example")
    _set_new_password(client, _reset_link(mailbox, "ana@clinic.example"), NEW_PASSWORD)
    assert redirect_path(laptop.get("/catalogue")).startswith("/login?next=")


def test_a_reset_link_stops_working_once_the_password_is_changed_another_way(client, make_client, mailbox):
    make_clinician(email="ana@clinic.example")
    _ask_for_reset(client, "ana@clinic.example")
    link = _reset_link(mailbox, "ana@clinic.example")
    browser = make_client()
    browser.login("ana@clinic.example", PASSWORD)
    browser.post("/account/password", {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert redirect_path(client.get(link)) == "/password/forgot"


def test_a_tampered_reset_link_is_refused(client, mailbox):
    make_clinician(email="ana@clinic.example")
    _ask_for_reset(client, "ana@clinic.example")
    link = _reset_link(mailbox, "ana@clinic.example")
    tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    assert redirect_path(client.get(tampered)) == "/password/forgot"
    assert redirect_path(client.get("/password/reset/not-a-token")) == "/password/forgot"


# --- changing the password while logged in ----------------------------------------------


def test_changing_the_password_needs_the_current_password(client, make_client):
    make_clinician(email="ana@clinic.example")
    client.login("ana@clinic.example", PASSWORD)
    response = client.post(
        "/account/password",
        {"current_password": "Not-my-password-9", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 200
    assert field_error(response, "current_password") == "Your current password is not correct."
    assert _logs_in(make_client, "ana@clinic.example", PASSWORD)
    assert not _logs_in(make_client, "ana@clinic.example", NEW_PASSWORD)

    missing = client.post("/account/password", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert field_error(missing, "current_password") == "Enter your current password."


def test_changing_the_password_with_the_current_one_works(client, make_client):
    make_clinician(email="ana@clinic.example")
    client.login("ana@clinic.example", PASSWORD)
    response = client.post(
        "/account/password", {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert response.status_code == 303
    assert _logs_in(make_client, "ana@clinic.example", NEW_PASSWORD)
    assert not _logs_in(make_client, "ana@clinic.example", PASSWORD)


def test_a_weak_password_is_refused_on_the_change_password_page(client, make_client):
    make_clinician(email="ana@clinic.example")
    client.login("ana@clinic.example", PASSWORD)
    response = client.post(
        "/account/password", {"current_password": PASSWORD, "password": "password1234", "confirm": "password1234"}
    )
    assert response.status_code == 200
    assert "commonly used passwords" in field_error(response, "password")
    assert _logs_in(make_client, "ana@clinic.example", PASSWORD)
    # A refused change ends no session.
    assert client.get("/catalogue").status_code == 200


def test_the_change_password_page_is_for_logged_in_accounts(client):
    response = client.get("/account/password")
    assert response.status_code == 302
    assert redirect_path(response) == "/login?next=/account/password"


# --- telling the owner ------------------------------------------------------------------


def _security_mail(mailbox, email: str):
    deliver_due()
    return [m for m in mailbox.to(email) if "of your account changed" in m["Subject"]]


def test_the_owner_is_told_when_their_password_is_changed_with_a_way_back(client, mailbox):
    make_clinician(email="ana@clinic.example")
    client.login("ana@clinic.example", PASSWORD)
    client.post("/account/password", {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})

    [message] = _security_mail(mailbox, "ana@clinic.example")
    assert message["Subject"] == "The password of your account changed"
    assert "If you did not, reset your password now" in text_of(message)
    assert "http://shop.test/password/forgot" in text_of(message)
    assert "Reset my password" in html_of(message)


def test_the_owner_is_told_when_their_password_is_reset_from_a_link(client, mailbox):
    make_clinician(email="ana@clinic.example")
    _ask_for_reset(client, "ana@clinic.example")
    link = _reset_link(mailbox, "ana@clinic.example")
    mailbox.clear()

    _set_new_password(client, link, NEW_PASSWORD)

    assert len(_security_mail(mailbox, "ana@clinic.example")) == 1


def test_a_refused_change_tells_nobody(client, mailbox):
    make_clinician(email="ana@clinic.example")
    client.login("ana@clinic.example", PASSWORD)
    client.post(
        "/account/password",
        {"current_password": "Wrong-password-123", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert _security_mail(mailbox, "ana@clinic.example") == []
