"""Logging in and out: who gets in, what a stolen or old cookie is worth, how long a login
lasts, and where a login sends you."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import time_machine
from argon2 import PasswordHasher, extract_parameters
from sqlalchemy import select

from shop import clock
from shop.accounts import users as accounts
from shop.accounts.models import LoginSession, Role, User
from shop.extensions import db
from tests.factories import PASSWORD, make_applicant, make_clinician, make_staff
from tests.helpers import field_error, redirect_path, row_count, text

WRONG_CREDENTIALS = "The email or password is not correct."
NEW_PASSWORD = "Copper-meadow-violin-88"


def _reach_catalogue(client) -> bool:
    response = client.get("/catalogue")
    if response.status_code == 200:
        return True
    assert response.status_code == 302 and redirect_path(response).startswith("/login?next="), response.status
    return False


def _session_cookie(client) -> str:
    cookie = client.raw.get_cookie("session")
    assert cookie is not None, "the browser holds no session cookie"
    return cookie.value


def _browser_with_cookie(make_client, value: str):
    """Another browser into which someone pasted a copied session cookie."""
    other = make_client()
    other.raw.set_cookie("session", value)
    return other


# --- who gets in ------------------------------------------------------------------------


def test_a_clinician_logs_in_with_the_email_in_any_letter_case(client):
    make_clinician(email="ana.ruiz@harbour-clinic.example")
    response = client.post("/login", {"email": "  Ana.RUIZ@Harbour-Clinic.EXAMPLE ", "password": PASSWORD})
    assert response.status_code == 303
    assert redirect_path(response) == "/catalogue"
    assert _reach_catalogue(client)


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(client):
    make_clinician(email="ana.ruiz@harbour-clinic.example")
    wrong_password = client.post(
        "/login", {"email": "ana.ruiz@harbour-clinic.example", "password": "Not-the-password-1"}
    )
    unknown_email = client.post("/login", {"email": "nobody@harbour-clinic.example", "password": PASSWORD})
    for response in (wrong_password, unknown_email):
        assert response.status_code == 200
        assert field_error(response, "password") == WRONG_CREDENTIALS
    # The page differs only in the email typed back into the form.
    assert text(wrong_password).replace("ana.ruiz", "X") == text(unknown_email).replace("nobody", "X")
    assert not _reach_catalogue(client)


def test_a_deactivated_account_cannot_log_in_even_with_the_right_password(client):
    admin = make_staff(role=Role.ADMIN, email="admin@supplier.example")
    member = make_staff(email="desk@supplier.example")
    accounts.set_active(admin, member, False)
    response = client.post("/login", {"email": "desk@supplier.example", "password": PASSWORD})
    assert response.status_code == 200
    assert field_error(response, "password") == WRONG_CREDENTIALS
    assert client.get("/staff").status_code == 302


def test_deactivating_an_account_ends_the_logins_it_already_has(client):
    admin = make_staff(role=Role.ADMIN, email="admin@supplier.example")
    member = make_staff(email="desk@supplier.example")
    client.login("desk@supplier.example", PASSWORD)
    assert client.get("/staff").status_code == 200
    accounts.set_active(admin, member, False)
    response = client.get("/staff")
    assert response.status_code == 302
    assert redirect_path(response).startswith("/login?next=")


def test_an_unverified_applicant_lands_on_the_application_status_page(client):
    make_applicant(email="pending@clinic.example")
    response = client.post("/login", {"email": "pending@clinic.example", "password": PASSWORD})
    assert response.status_code == 303
    assert redirect_path(response) == "/account"


# --- password hashes --------------------------------------------------------------------


def test_passwords_are_stored_as_argon2id_hashes_never_as_text():
    user = make_clinician(email="ana@clinic.example")
    stored = db.session.scalar(select(User.password_hash).where(User.id == user.id))
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert PasswordHasher().verify(stored, PASSWORD)


def test_a_hash_made_with_other_parameters_is_upgraded_at_the_next_login(client, app):
    user = make_clinician(email="ana@clinic.example")
    old_hash = PasswordHasher(time_cost=2, memory_cost=16384, parallelism=2).hash(PASSWORD)
    user.password_hash = old_hash
    db.session.commit()

    client.login("ana@clinic.example", PASSWORD)

    db.session.expire_all()
    new_hash = db.session.get(User, user.id).password_hash
    assert new_hash != old_hash
    params = extract_parameters(new_hash)
    assert (params.time_cost, params.memory_cost) == (
        app.config["PASSWORD_HASH_TIME_COST"],
        app.config["PASSWORD_HASH_MEMORY_KIB"],
    )
    assert PasswordHasher().verify(new_hash, PASSWORD)
    # The upgraded hash keeps working.
    client.logout()
    client.login("ana@clinic.example", PASSWORD)


def test_a_hash_with_the_current_parameters_is_left_alone_at_login(client):
    user = make_clinician(email="ana@clinic.example")
    before = user.password_hash
    client.login("ana@clinic.example", PASSWORD)
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash == before


# --- what a cookie is worth -------------------------------------------------------------


def test_the_database_keeps_only_a_hash_of_the_login_token(client, app):
    make_clinician(email="ana@clinic.example")
    client.login("ana@clinic.example", PASSWORD)
    cookie = app.session_interface.get_signing_serializer(app).loads(_session_cookie(client))
    token = cookie["_user_id"]
    assert str(db.session.scalar(select(User.id))) != token  # not the user id
    stored = db.session.scalars(select(LoginSession.token_hash)).all()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]


def test_logout_makes_a_copy_of_the_session_cookie_useless(client, make_client):
    make_clinician(email="ana@clinic.example")
    client.login("ana@clinic.example", PASSWORD)
    copied = _session_cookie(client)
    # Before logout the copy opens the catalogue in another browser: it is worth stealing.
    assert _reach_catalogue(_browser_with_cookie(make_client, copied))

    response = client.logout()
    assert response.status_code == 303
    assert "You are logged out." in text(client.get("/"))

    replayed = _browser_with_cookie(make_client, copied)
    response = replayed.get("/catalogue")
    assert response.status_code == 302
    assert redirect_path(response) == "/login?next=/catalogue"
    assert not _reach_catalogue(client)


def test_logging_out_in_one_browser_leaves_other_browsers_logged_in(make_client):
    make_clinician(email="ana@clinic.example")
    office, home = make_client(), make_client()
    office.login("ana@clinic.example", PASSWORD)
    home.login("ana@clinic.example", PASSWORD)
    office.logout()
    assert not _reach_catalogue(office)
    assert _reach_catalogue(home)


def test_a_password_change_ends_every_other_session_but_keeps_this_browser_logged_in(make_client):
    make_clinician(email="ana@clinic.example")
    this_browser, other_browser = make_client(), make_client()
    this_browser.login("ana@clinic.example", PASSWORD)
    other_browser.login("ana@clinic.example", PASSWORD)
    copied = _session_cookie(this_browser)

    response = this_browser.post(
        "/account/password",
        {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 303
    assert "Every other login of your account has ended." in text(this_browser.get("/account/password"))

    assert _reach_catalogue(this_browser)
    assert not _reach_catalogue(other_browser)
    assert not _reach_catalogue(_browser_with_cookie(make_client, copied))
    # The new password is the one that works now.
    assert make_client().post("/login", {"email": "ana@clinic.example", "password": PASSWORD}).status_code == 200
    make_client().login("ana@clinic.example", NEW_PASSWORD)


def test_a_login_ends_after_the_configured_number_of_hours(client, app):
    make_clinician(email="ana@clinic.example")
    hours = app.config["LOGIN_SESSION_HOURS"]
    with time_machine.travel(clock.now(), tick=False) as traveller:
        client.login("ana@clinic.example", PASSWORD)
        for _ in range(hours - 1):  # in use every hour, so never idle
            traveller.shift(timedelta(hours=1))
            assert _reach_catalogue(client)
        traveller.shift(timedelta(minutes=59))
        assert _reach_catalogue(client)
        traveller.shift(timedelta(minutes=2))
        response = client.get("/catalogue")
        assert response.status_code == 302
        assert redirect_path(response) == "/login?next=/catalogue"


def test_a_login_lasts_as_long_as_login_session_hours_says(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_SESSION_HOURS", 1)
    make_clinician(email="ana@clinic.example")
    with time_machine.travel(clock.now(), tick=False) as traveller:
        client.login("ana@clinic.example", PASSWORD)
        traveller.shift(timedelta(minutes=61))
        assert not _reach_catalogue(client)


def test_a_session_cookie_that_names_a_user_id_is_not_a_login(client, app):
    make_clinician(email="ana@clinic.example")
    forged = app.session_interface.get_signing_serializer(app).dumps({"_user_id": "1", "_fresh": True})
    client.raw.set_cookie("session", forged)
    assert not _reach_catalogue(client)


# --- where a login sends you ------------------------------------------------------------


def test_the_login_page_keeps_the_page_that_sent_you_there(client):
    make_staff(email="desk@supplier.example")
    page = client.get("/login?next=/catalogue").get_data(as_text=True)
    assert '<input id="next" name="next" type="hidden" value="/catalogue">' in page
    response = client.post_login(
        {"email": "desk@supplier.example", "password": PASSWORD, "next": "/catalogue"}, "/login?next=/catalogue"
    )
    assert response.status_code == 303
    assert redirect_path(response) == "/catalogue"


def test_a_login_without_next_lands_on_the_accounts_own_front_page(client):
    make_staff(email="desk@supplier.example")
    response = client.post_login({"email": "desk@supplier.example", "password": PASSWORD})
    assert redirect_path(response) == "/staff"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example",
        "https://evil.example/catalogue",
        "//evil.example",
        "//evil.example/staff",
        "/\\evil.example",
        "\\/evil.example",
        "javascript:alert(document.cookie)",
        "/catalogue\r\nSet-Cookie: session=stolen",
        "/catalogue\nLocation: https://evil.example",
        "/\t/evil.example",
        "evil.example",
    ],
)
def test_a_next_that_leaves_the_site_lands_on_the_default_page(client, target):
    make_staff(email="desk@supplier.example")
    response = client.post_login({"email": "desk@supplier.example", "password": PASSWORD, "next": target})
    assert response.status_code == 303
    assert response.headers["Location"] == "/staff"
    assert "Set-Cookie: session=stolen" not in str(response.headers)


def test_a_next_in_the_address_bar_that_leaves_the_site_is_ignored_after_login(client):
    make_staff(email="desk@supplier.example")
    client.get("/login?next=https://evil.example")
    response = client.post_login(
        {"email": "desk@supplier.example", "password": PASSWORD}, "/login?next=https://evil.example"
    )
    assert response.headers["Location"] == "/staff"


def test_a_logged_in_visitor_opening_login_is_sent_on_but_never_off_site(client):
    make_staff(email="desk@supplier.example")
    client.login("desk@supplier.example", PASSWORD)
    assert redirect_path(client.get("/login?next=/catalogue")) == "/catalogue"
    response = client.get("/login?next=//evil.example")
    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]


def test_each_login_opens_its_own_session_row(make_client):
    make_clinician(email="ana@clinic.example")
    for _ in range(3):
        make_client().login("ana@clinic.example", PASSWORD)
    assert row_count(LoginSession) == 3


def test_an_unknown_email_costs_the_same_password_work_as_a_wrong_password(client, monkeypatch):
    """Counted in argon2 operations, not timed: one verification each, and no hashing."""
    make_clinician(email="ana.ruiz@harbour-clinic.example")
    client.post("/login", {"email": "warm.up@harbour-clinic.example", "password": PASSWORD})
    work = []
    for name in ("hash", "verify"):
        original = getattr(PasswordHasher, name)
        monkeypatch.setattr(
            PasswordHasher,
            name,
            lambda self, *args, _original=original, _name=name, **kwargs: (
                work.append(_name) or _original(self, *args, **kwargs)
            ),
        )

    def cost(email: str) -> list[str]:
        work.clear()
        client.post("/login", {"email": email, "password": "Not-the-password-1"})
        return list(work)

    assert cost("nobody@harbour-clinic.example") == cost("ana.ruiz@harbour-clinic.example") == ["verify"]
    assert cost("someone.else@harbour-clinic.example") == ["verify"]
