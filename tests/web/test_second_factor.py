"""The second factor: staff set up an authenticator at their first login and give a code at
every login after; codes count once and are rate limited; ten recovery codes, stored hashed,
each work once; clinicians turn it on and off from their account; an admin resets a
colleague's (recorded); the owner is emailed each time."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
import time_machine
from sqlalchemy import select

from shop import clock
from shop.accounts.models import RecoveryCode, Role, SecondFactor, User
from shop.extensions import db
from tests.factories import PASSWORD, give_second_factor, make_clinician, make_staff
from tests.helpers import field_error, flashes, login_code, outbox, redirect_path, text

KEY = re.compile(r'<code class="authenticator-key" id="authenticator-key">([A-Z2-7 ]+)</code>')
RECOVERY = re.compile(r"<li><code>([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})</code></li>")


def factor_of(email: str) -> SecondFactor | None:
    db.session.rollback()
    return db.session.scalar(
        select(SecondFactor)
        .join(User, User.id == SecondFactor.user_id)
        .where(User.email == email, SecondFactor.confirmed_at.is_not(None), SecondFactor.ended_at.is_(None))
    )


def code_now(secret: str, offset_steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(clock.now() + timedelta(seconds=30 * offset_steps))


def password_step(browser, email: str) -> str:
    response = browser.post("/login", {"email": email, "password": PASSWORD})
    assert response.status_code == 303
    return redirect_path(response)


def security_emails(email: str) -> list[str]:
    return [message.subject for message in outbox("account.security_changed", to=email)]


# --- staff set one up at their first login -----------------------------------------------------


def test_a_staff_members_first_login_sets_up_an_authenticator_and_shows_ten_recovery_codes(client):
    make_staff(email="new.desk@supplier.example", second_factor=False)

    assert password_step(client, "new.desk@supplier.example") == "/login/enrol"
    assert redirect_path(client.get("/staff")).startswith("/login"), "not signed in before the code"

    page = client.get("/login/enrol")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<svg" in html and "QR code of your authenticator key" in html, "the QR code is drawn on the page"
    key = KEY.search(html).group(1)
    assert re.fullmatch(r"([A-Z2-7]{4} )+[A-Z2-7]{4}", key), "the key is shown as text, in groups"
    assert 'name="code"' in html

    done = client.post("/login/enrol", {"code": pyotp.TOTP(key.replace(" ", "")).now()})

    assert done.status_code == 200
    codes = RECOVERY.findall(done.get_data(as_text=True))
    assert len(codes) == 10 and len(set(codes)) == 10
    assert "no-store" in done.headers["Cache-Control"]
    assert client.get("/staff").status_code == 200
    assert factor_of("new.desk@supplier.example") is not None
    assert security_emails("new.desk@supplier.example") == ["The second factor of your account changed"]


def test_the_recovery_codes_are_stored_only_as_hashes(client):
    make_staff(email="new.desk@supplier.example", second_factor=False)
    codes = RECOVERY.findall(client.login("new.desk@supplier.example", PASSWORD).get_data(as_text=True))
    stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10
    assert not {code.replace("-", "") for code in codes} & set(stored)
    assert not any(code in hashed or code.replace("-", "") in hashed for code in codes for hashed in stored)


def test_a_wrong_code_at_set_up_is_said_next_to_the_field_and_nothing_is_set_up(client):
    make_staff(email="new.desk@supplier.example", second_factor=False)
    password_step(client, "new.desk@supplier.example")
    client.get("/login/enrol")

    response = client.post("/login/enrol", {"code": "000000"})

    assert response.status_code == 422
    assert "does not match" in field_error(response, "code")
    assert factor_of("new.desk@supplier.example") is None
    assert redirect_path(client.get("/staff")).startswith("/login")


def test_the_code_page_without_a_password_first_sends_the_visitor_to_log_in(client):
    response = client.post("/login/code", {"code": "123456"})
    assert response.status_code == 303 and redirect_path(response) == "/login"
    assert redirect_path(client.get("/login/enrol")) == "/login"


# --- a code at every login ---------------------------------------------------------------------


def test_a_staff_login_asks_for_the_code_and_lands_on_the_dashboard(client):
    member = make_staff(email="desk@supplier.example")
    assert password_step(client, member.email) == "/login/code"
    assert redirect_path(client.get("/staff")).startswith("/login")

    response = client.post("/login/code", {"code": login_code(member.email)})

    assert response.status_code == 303 and redirect_path(response) == "/staff"
    assert client.get("/staff").status_code == 200


def test_a_login_code_keeps_the_page_the_login_was_going_to(client):
    make_staff(email="desk@supplier.example")
    client.post("/login", {"email": "desk@supplier.example", "password": PASSWORD, "next": "/staff/orders"})
    response = client.post("/login/code", {"code": login_code("desk@supplier.example")})
    assert redirect_path(response) == "/staff/orders"


def test_a_code_cannot_be_used_twice(make_client):
    member = make_staff(email="desk@supplier.example")
    secret = factor_of(member.email).secret
    with time_machine.travel(clock.now(), tick=False):
        code = code_now(secret)
        first = make_client()
        password_step(first, member.email)
        assert first.post("/login/code", {"code": code}).status_code == 303

        # Someone who saw the code over a shoulder, within the same 30 seconds:
        second = make_client()
        password_step(second, member.email)
        replay = second.post("/login/code", {"code": code})
        assert replay.status_code == 422
        assert "not right" in field_error(replay, "code")
        assert redirect_path(second.get("/staff")).startswith("/login")

        # Nor does an earlier code, from before the one used:
        assert second.post("/login/code", {"code": code_now(secret, -1)}).status_code == 422


def test_a_code_from_the_step_before_or_after_still_counts_for_a_phone_whose_clock_drifts(make_client):
    member = make_staff(email="desk@supplier.example")
    secret = factor_of(member.email).secret
    browser = make_client()
    password_step(browser, member.email)
    assert browser.post("/login/code", {"code": code_now(secret, +1)}).status_code == 303
    late = make_client()
    password_step(late, member.email)
    assert late.post("/login/code", {"code": code_now(secret, +3)}).status_code == 422


def test_a_recovery_code_logs_in_once(make_client):
    make_staff(email="new.desk@supplier.example", second_factor=False)
    codes = RECOVERY.findall(make_client().login("new.desk@supplier.example", PASSWORD).get_data(as_text=True))

    browser = make_client()
    password_step(browser, "new.desk@supplier.example")
    assert browser.post("/login/code", {"code": codes[3].lower()}).status_code == 303

    again = make_client()
    password_step(again, "new.desk@supplier.example")
    assert again.post("/login/code", {"code": codes[3]}).status_code == 422
    assert again.post("/login/code", {"code": codes[4]}).status_code == 303


def test_five_wrong_codes_end_the_waiting_login(client):
    make_staff(email="desk@supplier.example")
    password_step(client, "desk@supplier.example")
    for _ in range(4):
        assert client.post("/login/code", {"code": "000000"}).status_code == 422

    fifth = client.post("/login/code", {"code": "000000"})

    assert fifth.status_code == 303 and redirect_path(fifth) == "/login"
    assert ("error", "Your login waited too long or had too many wrong codes. Log in again.") in flashes(
        client.get("/login")
    )
    right = client.post("/login/code", {"code": login_code("desk@supplier.example")})
    assert redirect_path(right) == "/login", "the right code no longer helps: the password is asked again"


def test_a_waiting_login_lapses_after_five_minutes(client):
    make_staff(email="desk@supplier.example")
    with time_machine.travel(clock.now(), tick=False) as traveller:
        password_step(client, "desk@supplier.example")
        traveller.shift(timedelta(minutes=5, seconds=5))
        response = client.post("/login/code", {"code": login_code("desk@supplier.example")})
    assert redirect_path(response) == "/login"
    assert redirect_path(client.get("/staff")).startswith("/login")


def test_code_attempts_are_limited_per_account_whatever_the_address(app, make_client):
    app.config["SECOND_FACTOR_RATE_LIMIT"] = "3 per minute"
    make_staff(email="desk@supplier.example")
    first = make_client()
    password_step(first, "desk@supplier.example")
    for _ in range(3):
        assert first.post("/login/code", {"code": "000000"}).status_code == 422

    elsewhere = make_client()
    elsewhere.raw.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    password_step(elsewhere, "desk@supplier.example")
    assert elsewhere.post("/login/code", {"code": login_code("desk@supplier.example")}).status_code == 429


# --- clinicians choose ------------------------------------------------------------------------


def test_a_clinician_turns_the_second_factor_on_and_then_every_login_asks_for_a_code(signed_in, make_client):
    clinician = make_clinician(email="ana@clinic.example")
    browser = signed_in(clinician)
    assert "Off" in text(browser.get("/account/security"))
    assert password_step(make_client(), clinician.email) != "/login/code"

    page = browser.get("/account/security/authenticator")
    key = KEY.search(page.get_data(as_text=True)).group(1).replace(" ", "")
    done = browser.post("/account/security/authenticator", {"code": pyotp.TOTP(key).now()})

    assert done.status_code == 200 and len(RECOVERY.findall(done.get_data(as_text=True))) == 10
    assert browser.get("/account/security").status_code == 200, "this browser stays signed in"
    assert "On" in text(browser.get("/account/security"))
    assert password_step(make_client(), clinician.email) == "/login/code"
    assert security_emails(clinician.email) == ["The second factor of your account changed"]


def test_turning_the_second_factor_on_ends_the_accounts_other_logins(signed_in):
    clinician = make_clinician(email="ana@clinic.example")
    browser, other = signed_in(clinician), signed_in(clinician)
    key = KEY.search(browser.get("/account/security/authenticator").get_data(as_text=True)).group(1)
    browser.post("/account/security/authenticator", {"code": pyotp.TOTP(key.replace(" ", "")).now()})
    assert redirect_path(other.get("/account")).startswith("/login")


def test_a_clinician_turns_it_off_with_their_password_and_a_code(signed_in, make_client):
    clinician = make_clinician(email="ana@clinic.example")
    browser = signed_in(clinician)
    key = KEY.search(browser.get("/account/security/authenticator").get_data(as_text=True)).group(1)
    browser.post("/account/security/authenticator", {"code": pyotp.TOTP(key.replace(" ", "")).now()})

    wrong = browser.post("/account/security/second-factor/off", {"off-password": "not it", "off-code": "000000"})
    assert wrong.status_code == 422
    assert field_error(wrong, "off-password") == "Your password is not correct."
    assert factor_of(clinician.email) is not None

    response = browser.post(
        "/account/security/second-factor/off", {"off-password": PASSWORD, "off-code": login_code(clinician.email)}
    )

    assert response.status_code == 303
    assert factor_of(clinician.email) is None
    assert password_step(make_client(), clinician.email) != "/login/code"
    assert len(security_emails(clinician.email)) == 2


def test_staff_cannot_turn_their_second_factor_off(signed_in):
    member = make_staff(email="desk@supplier.example")
    browser = signed_in(member)
    assert "Turn off" not in text(browser.get("/account/security"))
    response = browser.post(
        "/account/security/second-factor/off", {"off-password": PASSWORD, "off-code": login_code(member.email)}
    )
    assert response.status_code == 403
    assert factor_of(member.email) is not None


def test_new_recovery_codes_replace_the_old_ones(make_client):
    make_staff(email="new.desk@supplier.example", second_factor=False)
    browser = make_client()
    old = RECOVERY.findall(browser.login("new.desk@supplier.example", PASSWORD).get_data(as_text=True))

    response = browser.post("/account/security/recovery-codes", {"codes-code": login_code("new.desk@supplier.example")})

    new = RECOVERY.findall(response.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    attempt = make_client()
    password_step(attempt, "new.desk@supplier.example")
    assert attempt.post("/login/code", {"code": old[0]}).status_code == 422
    assert attempt.post("/login/code", {"code": new[0]}).status_code == 303


# --- an admin resets a colleague's --------------------------------------------------------------


@pytest.fixture
def admin(signed_in):
    member = make_staff(role=Role.ADMIN, full_name="Alex Admin", email="alex.admin@supplier.example")
    return signed_in(member), member


def test_an_admin_resets_a_colleagues_second_factor_after_a_confirmation(admin, signed_in, make_client):
    browser, _ = admin
    colleague = make_staff(email="lost.phone@supplier.example", full_name="Morgan Lostphone")
    theirs = signed_in(colleague)

    confirm = browser.get(f"/staff/users/{colleague.id}/reset-second-factor")
    assert confirm.status_code == 200 and "Reset Morgan Lostphone" in text(confirm)
    assert factor_of(colleague.email) is not None, "opening the confirmation changes nothing"

    response = browser.post(f"/staff/users/{colleague.id}/reset-second-factor")

    assert response.status_code == 303
    assert factor_of(colleague.email) is None
    assert redirect_path(theirs.get("/staff")).startswith("/login"), "their logins ended"
    assert password_step(make_client(), colleague.email) == "/login/enrol"
    assert "by Alex Admin" in text(browser.get("/staff/users")), "the reset is on record"
    ended = db.session.scalar(select(SecondFactor).where(SecondFactor.user_id == colleague.id))
    assert ended.ended_by.full_name == "Alex Admin" and ended.ended_at is not None
    assert security_emails(colleague.email) == ["The second factor of your account changed"]


def test_only_an_admin_resets_a_second_factor_and_never_their_own(admin, signed_in):
    browser, me = admin
    colleague = make_staff(email="desk@supplier.example")
    assert signed_in(colleague).post(f"/staff/users/{me.id}/reset-second-factor").status_code == 403

    own = browser.post(f"/staff/users/{me.id}/reset-second-factor")

    assert ("error", "Another administrator must reset your own second factor.") in flashes(browser.get(own.location))
    assert factor_of(me.email) is not None
    assert browser.post("/staff/users/999999/reset-second-factor").status_code == 404


def test_an_admin_resets_a_clinicians_second_factor_from_the_practice_page(admin, signed_in, make_client):
    browser, _ = admin
    clinician = make_clinician(email="ana@clinic.example", full_name="Dr Ana Ruiz")
    give_second_factor(clinician)
    practice_page = browser.get(f"/staff/practices/{clinician.practice_id}").get_data(as_text=True)
    assert f'href="/staff/users/{clinician.id}/reset-second-factor"' in practice_page
    desk = signed_in(make_staff(email="desk@supplier.example"))
    assert "reset-second-factor" not in desk.get(f"/staff/practices/{clinician.practice_id}").get_data(as_text=True)

    response = browser.post(f"/staff/users/{clinician.id}/reset-second-factor")

    assert redirect_path(response) == f"/staff/practices/{clinician.practice_id}"
    assert factor_of(clinician.email) is None
    assert password_step(make_client(), clinician.email) != "/login/code"
