"""Logins end when idle (LOGIN_IDLE_MINUTES for staff, longer for clinicians), and the account's
security page lists its live logins (device, address, last seen) with "end this login" and
"end all other logins"."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import select

from shop import clock
from shop.accounts.models import LoginSession
from shop.extensions import db
from tests.factories import PASSWORD, make_clinician, make_staff
from tests.helpers import WebClient, flashes, redirect_path, text

FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)


def browser_at(make_client, address: str, user_agent: str) -> WebClient:
    browser = make_client()
    browser.raw.environ_base.update({"REMOTE_ADDR": address, "HTTP_USER_AGENT": user_agent})
    return browser


def signed_in(browser: WebClient, path: str) -> bool:
    return browser.get(path).status_code == 200


def test_a_staff_login_ends_after_an_idle_hour(app, make_client):
    assert app.config["LOGIN_IDLE_MINUTES"] == 60
    make_staff(email="desk@supplier.example")
    with time_machine.travel(clock.now(), tick=False) as traveller:
        browser = make_client()
        browser.login("desk@supplier.example", PASSWORD)
        traveller.shift(timedelta(minutes=59))
        assert signed_in(browser, "/staff")
        traveller.shift(timedelta(minutes=61))
        response = browser.get("/staff")
        assert redirect_path(response).startswith("/login")
        traveller.shift(timedelta(minutes=1))
        assert redirect_path(browser.get("/staff")).startswith("/login"), "an idle login stays ended"
    db.session.rollback()
    assert db.session.scalar(select(LoginSession.revoked_at)) is not None


def test_a_staff_login_in_use_lives_on_past_the_idle_limit(make_client):
    make_staff(email="desk@supplier.example")
    with time_machine.travel(clock.now(), tick=False) as traveller:
        browser = make_client()
        browser.login("desk@supplier.example", PASSWORD)
        for _ in range(6):
            traveller.shift(timedelta(minutes=40))
            assert signed_in(browser, "/staff")


def test_a_clinician_may_stay_idle_longer(app, make_client):
    minutes = app.config["LOGIN_IDLE_MINUTES_CLINICIAN"]
    assert minutes > app.config["LOGIN_IDLE_MINUTES"]
    make_clinician(email="ana@clinic.example")
    with time_machine.travel(clock.now(), tick=False) as traveller:
        browser = make_client()
        browser.login("ana@clinic.example", PASSWORD)
        traveller.shift(timedelta(minutes=90))
        assert signed_in(browser, "/catalogue")
        traveller.shift(timedelta(minutes=minutes + 1))
        assert redirect_path(browser.get("/catalogue")).startswith("/login")


def test_the_last_request_is_written_at_most_once_a_minute(make_client):
    make_clinician(email="ana@clinic.example")
    with time_machine.travel(clock.now(), tick=False) as traveller:
        browser = make_client()
        browser.login("ana@clinic.example", PASSWORD)
        db.session.rollback()
        first = db.session.scalar(select(LoginSession.last_seen_at))
        traveller.shift(timedelta(seconds=30))
        browser.get("/catalogue")
        db.session.rollback()
        assert db.session.scalar(select(LoginSession.last_seen_at)) == first
        traveller.shift(timedelta(seconds=45))
        browser.get("/catalogue")
        db.session.rollback()
        assert db.session.scalar(select(LoginSession.last_seen_at)) == first + timedelta(seconds=75)


def test_the_security_page_lists_the_accounts_live_logins(make_client):
    make_clinician(email="ana@clinic.example")
    mine = browser_at(make_client, "198.51.100.4", FIREFOX_WINDOWS)
    mine.login("ana@clinic.example", PASSWORD)
    phone = browser_at(make_client, "203.0.113.77", SAFARI_IPHONE)
    phone.login("ana@clinic.example", PASSWORD)
    ended = make_client()
    ended.login("ana@clinic.example", PASSWORD)
    ended.logout()

    page = text(mine.get("/account/security"))

    assert "Firefox on Windows This browser" in page
    assert "Safari on iPhone" in page and "203.0.113.77" in page
    assert page.count("End this login") == 1, "the ended login is not listed, and this browser has no button"


def test_ending_another_login_signs_that_browser_out(make_client):
    make_clinician(email="ana@clinic.example")
    mine = browser_at(make_client, "198.51.100.4", FIREFOX_WINDOWS)
    mine.login("ana@clinic.example", PASSWORD)
    phone = browser_at(make_client, "203.0.113.77", SAFARI_IPHONE)
    phone.login("ana@clinic.example", PASSWORD)
    db.session.rollback()
    phone_row = db.session.scalars(select(LoginSession).where(LoginSession.ip_address == "203.0.113.77")).one()

    response = mine.post(f"/account/security/logins/{phone_row.id}/end")

    assert response.status_code == 303
    assert ("success", "That login has ended: the browser must log in again.") in flashes(mine.get("/account"))
    assert redirect_path(phone.get("/catalogue")).startswith("/login")
    assert signed_in(mine, "/catalogue")


def test_end_all_other_logins_keeps_only_this_browser(make_client):
    make_staff(email="desk@supplier.example")
    browsers = [make_client() for _ in range(3)]
    for browser in browsers:
        browser.login("desk@supplier.example", PASSWORD)

    response = browsers[0].post("/account/security/logins/end-others")

    assert ("success", "2 other logins ended.") in flashes(browsers[0].get(response.location))
    assert signed_in(browsers[0], "/staff")
    assert [redirect_path(b.get("/staff")).startswith("/login") for b in browsers[1:]] == [True, True]


def test_another_accounts_login_cannot_be_ended(make_client):
    make_clinician(email="ana@clinic.example")
    make_clinician(email="ben@clinic.example")
    ana, ben = make_client(), make_client()
    ana.login("ana@clinic.example", PASSWORD)
    ben.login("ben@clinic.example", PASSWORD)
    db.session.rollback()
    bens = db.session.scalars(select(LoginSession.id).order_by(LoginSession.id.desc())).first()
    assert ana.post(f"/account/security/logins/{bens}/end").status_code == 404
    assert signed_in(ben, "/catalogue")


def test_this_browsers_own_login_is_ended_by_logging_out_not_from_the_list(make_client):
    make_clinician(email="ana@clinic.example")
    browser = make_client()
    browser.login("ana@clinic.example", PASSWORD)
    db.session.rollback()
    own = db.session.scalar(select(LoginSession.id))
    response = browser.post(f"/account/security/logins/{own}/end")
    assert ("error", "That is the login of this browser: use Log out to end it.") in flashes(
        browser.get(response.location)
    )
    assert signed_in(browser, "/catalogue")
