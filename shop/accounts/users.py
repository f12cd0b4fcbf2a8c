"""Accounts that are not self-service registrations: users created by operators and admins,
staff invitations, and password changes and resets.

Tokens for reset and invitation links are signed with itsdangerous and bound to the current
password hash, so each link works once and stops working after any password change.
"""

from __future__ import annotations

import zlib
from datetime import date, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from shop import clock
from shop.access import WORK_DESKS
from shop.accounts.licences import ApplicationEvent, ApplicationStatus, LicenceApplication
from shop.accounts.models import UNSET_PASSWORD, Profession, Role, User, normalise_email, user_with_email
from shop.accounts.passwords import hash_password, password_problem, verify_password
from shop.accounts.sessions import revoke_all_sessions, start_session
from shop.core import audit
from shop.core.db import unit_of_work
from shop.core.formatting import local_datetime
from shop.core.outbox import queue_email
from shop.errors import DuplicateAccount, NotEligible, WeakPassword, WrongPassword
from shop.extensions import db
from shop.practices.models import PracticeRole
from shop.practices.practices import PracticeDetails, add_practice
from shop.urls import external_url

RESET_SALT = "password-reset"
INVITE_SALT = "staff-invite"


def email_taken(email: str) -> bool:
    return user_with_email(email) is not None


def new_user(*, email: str, password: str | None, full_name: str, role: Role, confirmed: bool = True) -> User:
    """A user row added to the session (not committed). `password=None` makes it unusable
    until the person sets one through an invitation link; `confirmed=False` leaves the address
    to be confirmed from an emailed link (a registration)."""
    now = clock.now()
    user = User(
        email=email,
        full_name=full_name.strip(),
        role=role,
        password_hash=hash_password(password) if password else UNSET_PASSWORD,
        created_at=now,
        password_changed_at=now,
        email_confirmed_at=now if confirmed else None,
    )
    db.session.add(user)
    return user


def create_user(
    *,
    email: str,
    password: str,
    role: Role,
    full_name: str = "",
    verified: bool = False,
    licence_expiry: date | None = None,
) -> User:
    """Create an account from the command line or a script.

    `verified` gives a clinician an approved physician licence and a practice with one
    shipping address, so that it can order at once. Raises DuplicateAccount.
    """
    if email_taken(email):
        raise duplicate_account(email)
    if verified and role != Role.CLINICIAN:
        raise NotEligible("Only clinicians carry a licence; --verified applies to clinicians.")
    name = full_name or normalise_email(email).split("@")[0].replace(".", " ").title()
    with unit_of_work(conflict=duplicate_account(email)):
        user = new_user(email=email, password=password, full_name=name, role=role)
        if role == Role.STAFF:
            user.desks = WORK_DESKS
        if role == Role.CLINICIAN and verified:
            _verify_as_operator(user, name, licence_expiry)
    return user


def duplicate_account(email: str) -> DuplicateAccount:
    """The refusal of a second account under `email` (any case)."""
    return DuplicateAccount(f"An account with {normalise_email(email)} already exists.", field="email")


def _verify_as_operator(user: User, name: str, licence_expiry: date | None) -> None:
    """An approved physician's licence and a practice with one address, as an operator vouches."""
    now = clock.now()
    user.practice_role = PracticeRole.OWNER
    user.practice = add_practice(
        PracticeDetails(
            name=f"{name} Practice",
            phone="+353 21 555 0100",
            line1="12 Grand Parade",
            city="Cork",
            region="Co. Cork",
            postcode="T12 AB12",
            country="IE",
        )
    )
    application = LicenceApplication(
        applicant=user,
        profession=Profession.PHYSICIAN,
        licence_number=f"CLI-{zlib.crc32(user.email.encode()):010d}",
        licence_region="Medical Council of Ireland",
        licence_expiry=licence_expiry or (clock.today() + timedelta(days=730)),
        status=ApplicationStatus.APPROVED,
        submitted_at=now,
        queued_at=now,
        decided_at=now,
        decision_note="Created as verified by an operator.",
    )
    db.session.add(application)
    db.session.add(
        ApplicationEvent(
            application=application,
            action="approved",
            from_status=None,
            to_status=ApplicationStatus.APPROVED.value,
            note="Created as verified by an operator.",
            created_at=now,
        )
    )


def invite_staff(*, admin: User, email: str, full_name: str, role: Role, desks=WORK_DESKS) -> User:
    """An admin adds a staff member, working `desks`; the new member receives a link to choose
    a password."""
    if not admin.is_admin:
        raise NotEligible("Only an administrator can add staff accounts.")
    if role not in (Role.STAFF, Role.ADMIN):
        raise NotEligible("Staff accounts are for staff and administrators.")
    if email_taken(email):
        raise DuplicateAccount("An account with this email already exists.", field="email")
    with unit_of_work(conflict=duplicate_account(email)):
        user = new_user(email=email, password=None, full_name=full_name, role=role)
        user.desks = desks
        db.session.flush()
        audit.record(admin, "staff.invited", user, {"role": (None, role), "desks": (None, user.desk_codes)})
        queue_email(
            kind="staff.invited",
            to=user.email,
            subject=f"Your {current_app.config['SHOP_NAME']} staff account",
            template="staff_invite",
            user=user,
            invited_by=admin,
            link=external_url("auth.accept_invite", token=_token_for(user, INVITE_SALT)),
            days=current_app.config["STAFF_INVITE_MAX_AGE"] // 86400,
        )
    return user


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _token_for(user: User, salt: str) -> str:
    return _serializer(salt).dumps({"u": user.id, "p": user.password_hash[-12:]})


def user_for_token(token: str, salt: str) -> User | None:
    """The user a reset or invitation token was issued to, if it is genuine, fresh and unused."""
    max_age = current_app.config["STAFF_INVITE_MAX_AGE" if salt == INVITE_SALT else "PASSWORD_RESET_MAX_AGE"]
    try:
        payload = _serializer(salt).loads(token, max_age=max_age)
    except BadSignature:
        return None
    if not isinstance(payload, dict):
        return None
    user = db.session.get(User, payload.get("u")) if isinstance(payload.get("u"), int) else None
    if user is None or not user.active or user.password_hash[-12:] != payload.get("p"):
        return None
    return user


def request_password_reset(email: str) -> None:
    """Email a reset link if the address belongs to an active account; silent otherwise, so the
    form does not reveal who has an account."""
    user = user_with_email(email)
    if user is None or not user.active:
        return
    with unit_of_work():
        queue_email(
            kind="account.password_reset",
            to=user.email,
            subject="Reset your password",
            template="password_reset",
            user=user,
            link=external_url("auth.set_password", token=_token_for(user, RESET_SALT)),
            hours=current_app.config["PASSWORD_RESET_MAX_AGE"] // 3600,
        )


def set_password_with_token(token: str, salt: str, new_password: str) -> User:
    user = user_for_token(token, salt)
    if user is None:
        raise NotEligible("This link has expired or was already used. Ask for a new one.")
    with unit_of_work():
        _set_password(user, new_password)
        if salt == RESET_SALT:
            email_security_change(user, "The password")
    return user


def change_password(
    user: User, current_password: str, new_password: str, *, user_agent: str = "", ip_address: str = ""
) -> str:
    """Change the password, end every other login, and return a fresh token for this browser."""
    if not verify_password(user.password_hash, current_password):
        raise WrongPassword("Your current password is not correct.", field="current_password")
    with unit_of_work():
        _set_password(user, new_password)
        email_security_change(user, "The password")
        if user.is_staff:
            audit.record(user, "staff.password_changed", user)
    return start_session(user, user_agent=user_agent, ip_address=ip_address, login=False)


def email_security_change(user: User, what: str, *, logins_ended: bool = True) -> None:
    """Tell the owner that `what` ("The password", "The second factor") of their account
    changed, in the caller's unit of work, with a way back if it was not them."""
    queue_email(
        kind="account.security_changed",
        to=user.email,
        subject=f"{what} of your account changed",
        template="security_changed",
        user=user,
        what=what,
        logins_ended=logins_ended,
        when=local_datetime(clock.now(), "%d %b %Y at %H:%M"),
        link=external_url("auth.forgot_password"),
        reply_to=current_app.config["CUSTOMER_CARE_EMAIL"],
    )


def _set_password(user: User, new_password: str) -> None:
    problem = password_problem(new_password, user_inputs=(user.email, user.full_name))
    if problem:
        raise WeakPassword(problem, field="password")
    user.password_hash = hash_password(new_password)
    user.password_changed_at = clock.now()
    revoke_all_sessions(user)


def set_active(admin: User, user: User, active: bool) -> None:
    """Admins deactivate or reactivate staff accounts; deactivation ends their logins."""
    if not admin.is_admin:
        raise NotEligible("Only an administrator can change staff accounts.")
    if user.id == admin.id:
        raise NotEligible("You cannot deactivate your own account.")
    with unit_of_work():
        audit.record(
            admin,
            "staff.reactivated" if active else "staff.deactivated",
            user,
            {"active": (user.active, active)},
        )
        user.active = active
        if not active:
            revoke_all_sessions(user)
