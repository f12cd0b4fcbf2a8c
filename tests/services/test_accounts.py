"""The account and session services: unique emails, authentication, server-side sessions,
operator-created accounts, staff invitations and password tokens."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from shop import clock
from shop.accounts import registration, sessions
from shop.accounts import users as accounts
from shop.accounts.licences import ApplicationStatus
from shop.accounts.models import LoginSession, Role, User
from shop.accounts.users import INVITE_SALT, RESET_SALT
from shop.core.db import unit_of_work
from shop.core.outbox import OutboxMessage
from shop.errors import DuplicateAccount, NotEligible, WeakPassword, WrongPassword
from shop.extensions import db
from tests.factories import PASSWORD, application_data, make_clinician, make_staff, upload
from tests.helpers import row_count

NEW_PASSWORD = "Copper-meadow-violin-88"


# --- unique emails ----------------------------------------------------------------------


def test_an_email_is_stored_lower_case_without_surrounding_space():
    user = make_staff(email="  Jordan.Lee@Supplier.EXAMPLE ")
    assert user.email == "jordan.lee@supplier.example"


def test_a_second_account_with_the_same_email_in_another_case_is_refused():
    make_clinician(email="ana.ruiz@clinic.example")
    with pytest.raises(DuplicateAccount):
        make_staff(email="ANA.Ruiz@Clinic.Example")
    assert row_count(User) == 1


def test_the_database_itself_refuses_the_same_email_in_another_case():
    """Even when two requests pass the "email taken" check at the same moment."""
    accounts.new_user(email="ana@clinic.example", password=PASSWORD, full_name="Ana", role=Role.STAFF)
    db.session.commit()
    with pytest.raises(DuplicateAccount), unit_of_work(conflict=accounts.duplicate_account("Ana@CLINIC.example")):
        accounts.new_user(email="Ana@CLINIC.example", password=PASSWORD, full_name="Ana", role=Role.STAFF)
    assert db.session.scalars(select(User.email)).all() == ["ana@clinic.example"]


def test_an_application_with_a_taken_email_in_another_case_makes_no_second_account():
    make_clinician(email="ana@clinic.example")
    assert registration.register_clinician(application_data(email="ANA@clinic.example"), upload()) is None
    assert row_count(User) == 1


# --- authentication ---------------------------------------------------------------------


def test_authenticate_finds_the_account_whatever_the_letter_case():
    user = make_clinician(email="ana@clinic.example")
    assert sessions.authenticate("ANA@Clinic.Example", PASSWORD) == user


def test_authenticate_refuses_a_wrong_password_an_unknown_email_and_a_deactivated_account():
    admin = make_staff(role=Role.ADMIN, email="admin@supplier.example")
    member = make_staff(email="desk@supplier.example")
    assert sessions.authenticate("desk@supplier.example", "Wrong-password-1") is None
    assert sessions.authenticate("nobody@supplier.example", PASSWORD) is None
    accounts.set_active(admin, member, False)
    assert sessions.authenticate("desk@supplier.example", PASSWORD) is None


def test_an_invited_account_without_a_password_cannot_log_in():
    admin = make_staff(role=Role.ADMIN, email="admin@supplier.example")
    accounts.invite_staff(admin=admin, email="new@supplier.example", full_name="Casey Byrne", role=Role.STAFF)
    for guess in ("", "!unset", "unset", PASSWORD):
        assert sessions.authenticate("new@supplier.example", guess) is None


# --- server-side sessions ---------------------------------------------------------------


def test_a_session_token_loads_its_user_until_it_ends():
    user = make_clinician(email="ana@clinic.example")
    token = sessions.start_session(user, user_agent="Firefox", ip_address="192.0.2.1")
    assert sessions.load_session_user(token) == user
    sessions.end_session(token)
    assert sessions.load_session_user(token) is None


def test_a_session_token_stops_loading_after_login_session_hours(ctx):
    user = make_clinician(email="ana@clinic.example")
    hours = ctx.config["LOGIN_SESSION_HOURS"]
    with time_machine.travel(clock.now(), tick=False) as traveller:
        token = sessions.start_session(user)
        for _ in range(hours):  # used every hour, so never idle
            traveller.shift(timedelta(hours=1) if _ < hours - 1 else timedelta(minutes=59, seconds=59))
            assert sessions.load_session_user(token) == user
        traveller.shift(timedelta(minutes=1))
        assert sessions.load_session_user(token) is None


def test_revoking_all_sessions_ends_every_browser_of_that_user_only():
    ana = make_clinician(email="ana@clinic.example")
    ben = make_clinician(email="ben@clinic.example")
    ana_tokens = [sessions.start_session(ana) for _ in range(2)]
    ben_token = sessions.start_session(ben)
    sessions.revoke_all_sessions(ana)
    db.session.commit()
    assert [sessions.load_session_user(t) for t in ana_tokens] == [None, None]
    assert sessions.load_session_user(ben_token) == ben


def test_unknown_empty_and_oversized_tokens_load_nobody():
    make_clinician(email="ana@clinic.example")
    for token in ("", "x", "a" * 500):
        assert sessions.load_session_user(token) is None


# --- accounts made by operators ---------------------------------------------------------


def test_a_verified_clinician_made_by_an_operator_can_order_at_once():
    user = make_clinician(email="ana@clinic.example")
    assert user.is_verified(clock.today())
    assert user.application.status == ApplicationStatus.APPROVED
    assert user.application.profession.value == "physician"
    assert len(user.practice.addresses) == 1
    assert user.practice.default_address is user.practice.addresses[0]


def test_only_a_clinician_can_be_created_verified():
    with pytest.raises(NotEligible):
        accounts.create_user(email="desk@supplier.example", password=PASSWORD, role=Role.STAFF, verified=True)
    assert row_count(User) == 0


def test_an_operator_made_account_gets_a_name_from_its_email_when_none_is_given():
    user = accounts.create_user(email="jordan.lee@supplier.example", password=PASSWORD, role=Role.STAFF)
    assert user.full_name == "Jordan Lee"


# --- staff invitations and set_active ---------------------------------------------------


def _link_token(message: OutboxMessage, path: str) -> str:
    match = re.search(rf"{path}/(\S+)", message.text_body)
    assert match, f"no {path} link in the email"
    return match.group(1)


def test_an_invited_staff_member_chooses_a_password_once_from_the_emailed_link():
    admin = make_staff(role=Role.ADMIN, email="admin@supplier.example")
    user = accounts.invite_staff(admin=admin, email="new@supplier.example", full_name="Casey Byrne", role=Role.STAFF)
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "staff.invited"))
    assert message.to_address == "new@supplier.example"
    token = _link_token(message, "/welcome")

    accounts.set_password_with_token(token, INVITE_SALT, NEW_PASSWORD)
    assert sessions.authenticate("new@supplier.example", NEW_PASSWORD) == user
    with pytest.raises(NotEligible):
        accounts.set_password_with_token(token, INVITE_SALT, "Another-fine-password-77")
    # An invitation token is not a password-reset token.
    assert accounts.user_for_token(token, RESET_SALT) is None


def test_only_an_admin_can_invite_staff():
    desk = make_staff(email="desk@supplier.example")
    with pytest.raises(NotEligible):
        accounts.invite_staff(admin=desk, email="new@supplier.example", full_name="Casey Byrne", role=Role.STAFF)
    assert row_count(OutboxMessage) == 0


def test_an_admin_cannot_deactivate_their_own_account():
    admin = make_staff(role=Role.ADMIN, email="admin@supplier.example")
    with pytest.raises(NotEligible):
        accounts.set_active(admin, admin, False)
    assert admin.active


# --- password tokens and changes --------------------------------------------------------


def test_a_reset_is_queued_only_for_an_active_account():
    make_clinician(email="ana@clinic.example")
    accounts.request_password_reset("nobody@clinic.example")
    assert row_count(OutboxMessage) == 0
    accounts.request_password_reset(" ANA@clinic.example ")
    [message] = db.session.scalars(select(OutboxMessage)).all()
    assert (message.kind, message.to_address) == ("account.password_reset", "ana@clinic.example")


def test_a_reset_token_works_once_and_not_after_password_reset_max_age(ctx):
    user = make_clinician(email="ana@clinic.example")
    with time_machine.travel(clock.now(), tick=False) as traveller:
        accounts.request_password_reset(user.email)
        token = _link_token(db.session.scalar(select(OutboxMessage)), "/password/reset")
        traveller.shift(timedelta(seconds=ctx.config["PASSWORD_RESET_MAX_AGE"] + 1))
        assert accounts.user_for_token(token, RESET_SALT) is None
        with pytest.raises(NotEligible):
            accounts.set_password_with_token(token, RESET_SALT, NEW_PASSWORD)

    accounts.request_password_reset(user.email)
    fresh = _link_token(
        db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first(), "/password/reset"
    )
    accounts.set_password_with_token(fresh, RESET_SALT, NEW_PASSWORD)
    with pytest.raises(NotEligible):
        accounts.set_password_with_token(fresh, RESET_SALT, "Another-fine-password-77")
    assert sessions.authenticate(user.email, NEW_PASSWORD) == user


def test_a_weak_password_from_a_reset_link_is_refused_for_the_password_field():
    user = make_clinician(email="ana@clinic.example")
    accounts.request_password_reset(user.email)
    token = _link_token(db.session.scalar(select(OutboxMessage)), "/password/reset")
    with pytest.raises(WeakPassword) as refused:
        accounts.set_password_with_token(token, RESET_SALT, "password1234")
    assert refused.value.field == "password"
    db.session.rollback()
    assert sessions.authenticate(user.email, PASSWORD) == user


def test_change_password_refuses_a_wrong_current_password_for_that_field():
    user = make_clinician(email="ana@clinic.example")
    with pytest.raises(WrongPassword) as refused:
        accounts.change_password(user, "Not-my-password-9", NEW_PASSWORD)
    assert refused.value.field == "current_password"
    assert sessions.authenticate(user.email, PASSWORD) == user


def test_change_password_ends_other_sessions_and_returns_a_live_one_for_this_browser():
    user = make_clinician(email="ana@clinic.example")
    old = sessions.start_session(user)
    new = accounts.change_password(user, PASSWORD, NEW_PASSWORD)
    assert sessions.load_session_user(old) is None
    assert sessions.load_session_user(new) == user
    assert row_count(LoginSession) == 2
